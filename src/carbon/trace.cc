#include "carbon/trace.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ecomap::carbon {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status LineError(const std::string& name, int line, const std::string& problem) {
  return InvalidArgument(name + ":" + std::to_string(line) + ": " + problem);
}

// ---------------------------------------------------------------------------------------------
// RFC 4180 CSV records: quoted fields may hold commas, doubled quotes and line breaks; records end
// at LF, CRLF or a lone CR. Blank lines are skipped.
struct CsvRecord {
  int line = 0;  // line where the record starts, from 1
  std::vector<std::string> fields;
};

class CsvReader {
 public:
  CsvReader(std::string_view text, std::string name) : s_(text), name_(std::move(name)) {}

  // Reads the next non-blank record into `rec`. Sets *done at the end of the text.
  Status Next(CsvRecord* rec, bool* done) {
    *done = false;
    for (;;) {
      if (pos_ >= s_.size()) {
        *done = true;
        return Status::Ok();
      }
      // Skip blank lines (only whitespace before the line end).
      size_t p = pos_;
      while (p < s_.size() && (s_[p] == ' ' || s_[p] == '\t')) ++p;
      if (p >= s_.size()) {
        pos_ = p;
        continue;
      }
      if (s_[p] == '\n' || s_[p] == '\r') {
        pos_ = p;
        ConsumeLineEnd();
        continue;
      }
      break;
    }
    rec->line = line_;
    rec->fields.clear();
    std::string field;
    for (;;) {
      field.clear();
      if (pos_ < s_.size() && s_[pos_] == '"') {
        int start_line = line_;
        ++pos_;
        bool closed = false;
        while (pos_ < s_.size()) {
          char c = s_[pos_];
          if (c == '"') {
            if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '"') {
              field.push_back('"');
              pos_ += 2;
              continue;
            }
            ++pos_;
            closed = true;
            break;
          }
          if (c == '\n') ++line_;
          if (c == '\r' && !(pos_ + 1 < s_.size() && s_[pos_ + 1] == '\n')) ++line_;
          field.push_back(c);
          ++pos_;
        }
        if (!closed) {
          return LineError(name_, start_line, "unterminated quoted field (a '\"' opens a field that never closes)");
        }
        while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
        if (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '\n' && s_[pos_] != '\r') {
          return LineError(name_, line_,
                           "unexpected character after a closing quote; quote the whole field and "
                           "double any quote inside it");
        }
      } else {
        size_t start = pos_;
        while (pos_ < s_.size() && s_[pos_] != ',' && s_[pos_] != '\n' && s_[pos_] != '\r') ++pos_;
        field.assign(s_.substr(start, pos_ - start));
      }
      rec->fields.push_back(field);
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      ConsumeLineEnd();
      return Status::Ok();
    }
  }

 private:
  void ConsumeLineEnd() {
    if (pos_ >= s_.size()) return;
    if (s_[pos_] == '\r') {
      ++pos_;
      if (pos_ < s_.size() && s_[pos_] == '\n') ++pos_;
      ++line_;
    } else if (s_[pos_] == '\n') {
      ++pos_;
      ++line_;
    }
  }

  std::string_view s_;
  std::string name_;
  size_t pos_ = 0;
  int line_ = 1;
};

// ---------------------------------------------------------------------------------------------
// Field parsers shared by the formats. They return the problem without the "name:line: " prefix.

StatusOr<double> ParseIntensityText(std::string_view raw) {
  std::string_view text = Trim(raw);
  if (text.empty()) return InvalidArgument("empty carbon intensity; every row needs a value in gCO2eq/kWh");
  double v = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (*first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, v);
  if (ec == std::errc::result_out_of_range && ptr == last) {
    return InvalidArgument("carbon intensity '" + std::string(text) + "' is out of range");
  }
  if (ec != std::errc() || ptr != last || !std::isfinite(v)) {
    return InvalidArgument("carbon intensity '" + std::string(text) + "' is not a number");
  }
  if (v < 0) {
    return InvalidArgument("carbon intensity '" + std::string(text) + "' is negative; intensities must be >= 0");
  }
  return v;
}

StatusOr<bool> ParseEstimatedText(std::string_view raw) {
  std::string t = Lower(Trim(raw));
  if (t.empty() || t == "false" || t == "0" || t == "no") return false;
  if (t == "true" || t == "1" || t == "yes") return true;
  return InvalidArgument("estimated flag '" + std::string(Trim(raw)) + "' is not true or false");
}

StatusOr<TimePoint> ParseTimeText(std::string_view raw) {
  std::string_view t = Trim(raw);
  if (t.empty()) return InvalidArgument("empty timestamp");
  return ParseTimestamp(t);
}

// Appends a point after checking the order against the previous one.
Status AppendPoint(Trace* trace, std::vector<int>* lines, const std::string& name, int line, TracePoint p) {
  if (!trace->points.empty()) {
    const TracePoint& prev = trace->points.back();
    if (p.time == prev.time) {
      return LineError(name, line,
                       "duplicate time " + FormatIso8601(p.time) + " (line " + std::to_string(lines->back()) +
                           " has the same time); each period must appear once");
    }
    if (p.time < prev.time) {
      return LineError(name, line,
                       "time " + FormatIso8601(p.time) + " is earlier than line " + std::to_string(lines->back()) +
                           "'s " + FormatIso8601(prev.time) + "; rows must be in increasing time order");
    }
  }
  trace->points.push_back(p);
  lines->push_back(line);
  return Status::Ok();
}

// The most common spacing between consecutive points (the smaller on ties), 1 h for one point.
Duration ModeSpacing(const std::vector<TracePoint>& points) {
  if (points.size() < 2) return std::chrono::hours(1);
  std::map<long long, int> counts;
  for (size_t i = 1; i < points.size(); ++i) ++counts[(points[i].time - points[i - 1].time).count()];
  long long best = counts.begin()->first;
  int best_n = 0;
  for (const auto& [d, n] : counts) {
    if (n > best_n) {
      best = d;
      best_n = n;
    }
  }
  return Duration(best);
}

// ---------------------------------------------------------------------------------------------
// CSV formats.

struct CsvColumns {
  int time = -1;
  int value = -1;
  int estimated = -1;
  int zone = -1;
};

bool Contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

StatusOr<Trace> ParseCsv(std::string_view text, const std::string& name, const TraceOptions& options) {
  CsvReader reader(text, name);
  CsvRecord header;
  bool done = false;
  ECOMAP_RETURN_IF_ERROR(reader.Next(&header, &done));
  if (done) return LineError(name, 1, "empty file; expected a carbon-intensity trace (CSV or JSON)");

  std::vector<std::string> cols;
  for (const std::string& f : header.fields) cols.push_back(Lower(Trim(f)));

  Trace trace;
  trace.name = name;
  trace.column = options.column;
  CsvColumns c;
  bool is_em = false, is_plain = false;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].rfind("datetime", 0) == 0 || Contains(cols[i], "carbon intensity")) is_em = true;
    if (cols[i] == "timestamp" || cols[i] == "gco2_per_kwh") is_plain = true;
  }
  std::string header_text;
  for (size_t i = 0; i < header.fields.size(); ++i) header_text += (i ? "," : "") + header.fields[i];
  if (header_text.size() > 120) header_text = header_text.substr(0, 117) + "...";
  for (char& ch : header_text) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) ch = '?';
  }

  if (is_em) {
    trace.format = TraceFormat::kElectricityMapsCsv;
    for (size_t i = 0; i < cols.size(); ++i) {
      const std::string& h = cols[i];
      int idx = static_cast<int>(i);
      if (c.time < 0 && h.rfind("datetime", 0) == 0) c.time = idx;
      if (h == "zone id") c.zone = idx;
      if (h == "data estimated") c.estimated = idx;
      if (Contains(h, "carbon intensity")) {
        bool direct = Contains(h, "(direct)");
        bool lca = Contains(h, "(lca)") || Contains(h, "(life cycle)") || Contains(h, "(lifecycle)") ||
                   Contains(h, "(life-cycle)");
        if ((options.column == TraceColumn::kDirect && direct) ||
            (options.column == TraceColumn::kLifecycle && lca)) {
          c.value = idx;
        }
      }
    }
    if (c.time < 0) return LineError(name, header.line, "missing column 'Datetime (UTC)' in header '" + header_text + "'");
    if (c.value < 0) {
      return LineError(name, header.line,
                       options.column == TraceColumn::kDirect
                           ? "missing column 'Carbon Intensity gCO₂eq/kWh (direct)' in header '" + header_text +
                                 "'; use --column lca for the life-cycle column"
                           : "missing column 'Carbon Intensity gCO₂eq/kWh (LCA)' (or '(Life cycle)') in header '" +
                                 header_text + "'; use --column direct for the direct column");
    }
  } else if (is_plain) {
    trace.format = TraceFormat::kPlainCsv;
    for (size_t i = 0; i < cols.size(); ++i) {
      int idx = static_cast<int>(i);
      if (cols[i] == "timestamp") c.time = idx;
      if (cols[i] == "gco2_per_kwh") c.value = idx;
      if (cols[i] == "estimated") c.estimated = idx;
      if (cols[i] == "zone") c.zone = idx;
    }
    if (c.time < 0) return LineError(name, header.line, "missing column 'timestamp' in header '" + header_text + "'");
    if (c.value < 0) {
      return LineError(name, header.line, "missing column 'gco2_per_kwh' in header '" + header_text + "'");
    }
  } else {
    return LineError(name, header.line,
                     "unrecognised header '" + header_text +
                         "'; expected an Electricity Maps data-portal header (Datetime (UTC),...,Carbon Intensity "
                         "gCO₂eq/kWh (direct),...) or 'timestamp,gco2_per_kwh'");
  }

  int needed = std::max({c.time, c.value, c.estimated, c.zone}) + 1;
  std::vector<int> lines;
  CsvRecord rec;
  for (;;) {
    ECOMAP_RETURN_IF_ERROR(reader.Next(&rec, &done));
    if (done) break;
    if (static_cast<int>(rec.fields.size()) < needed) {
      return LineError(name, rec.line,
                       "row has " + std::to_string(rec.fields.size()) + " fields, the header needs at least " +
                           std::to_string(needed));
    }
    TracePoint p;
    StatusOr<TimePoint> t = ParseTimeText(rec.fields[c.time]);
    if (!t.ok()) return LineError(name, rec.line, t.status().message());
    p.time = *t;
    StatusOr<double> v = ParseIntensityText(rec.fields[c.value]);
    if (!v.ok()) return LineError(name, rec.line, v.status().message());
    p.intensity = GramsPerKwh(*v);
    if (c.estimated >= 0) {
      StatusOr<bool> e = ParseEstimatedText(rec.fields[c.estimated]);
      if (!e.ok()) return LineError(name, rec.line, e.status().message());
      p.estimated = *e;
    }
    if (c.zone >= 0 && trace.zone.empty()) trace.zone = std::string(Trim(rec.fields[c.zone]));
    ECOMAP_RETURN_IF_ERROR(AppendPoint(&trace, &lines, name, rec.line, p));
  }
  if (trace.points.empty()) return LineError(name, header.line + 1, "no data rows after the header");
  trace.period = ModeSpacing(trace.points);
  return trace;
}

// ---------------------------------------------------------------------------------------------
// Carbon Aware SDK JSON.

int LineOfOffset(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n'));
}

// Offsets of the elements of the first array found at depth `array_depth` (1 for a top-level
// array, 2 for {"Emissions":[...]}), by a scan that respects strings.
// Scanning starts at `start` with `depth` already open brackets.
std::vector<size_t> ElementOffsets(std::string_view text, int array_depth, size_t start = 0, int depth = 0) {
  std::vector<size_t> out;
  bool in_string = false, want_element = false, found = false;
  for (size_t i = start; i < text.size(); ++i) {
    char ch = text[i];
    if (in_string) {
      if (ch == '\\') ++i;
      else if (ch == '"') in_string = false;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(ch))) continue;
    if (want_element && depth == array_depth && ch != ']') {
      out.push_back(i);
      want_element = false;
    }
    switch (ch) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        ++depth;
        if (ch == '[' && depth == array_depth && !found) {
          found = true;
          want_element = true;
        }
        break;
      case ']':
      case '}':
        if (depth == array_depth && found) return out;
        --depth;
        break;
      case ',':
        if (depth == array_depth && found) want_element = true;
        break;
      default: break;
    }
  }
  return out;
}

// A .NET TimeSpan "[d.]hh:mm:ss[.fff]" or an ISO-8601 duration "PT1H", "PT30M", "P1D".
StatusOr<Duration> ParseSdkDuration(std::string_view raw) {
  std::string t(Trim(raw));
  auto bad = [&] {
    return InvalidArgument("Duration '" + t + "' is not a TimeSpan like \"01:00:00\" or an ISO-8601 duration like \"PT1H\"");
  };
  if (t.empty()) return bad();
  long long ms = 0;
  if (t[0] == 'P' || t[0] == 'p') {
    bool in_time = false;
    size_t i = 1;
    if (i >= t.size()) return bad();
    while (i < t.size()) {
      char ch = static_cast<char>(std::toupper(static_cast<unsigned char>(t[i])));
      if (ch == 'T') {
        in_time = true;
        ++i;
        continue;
      }
      size_t j = i;
      while (j < t.size() && (std::isdigit(static_cast<unsigned char>(t[j])) || t[j] == '.')) ++j;
      if (j == i || j >= t.size()) return bad();
      double n = std::atof(t.substr(i, j - i).c_str());
      char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(t[j])));
      if (unit == 'D' && !in_time) ms += static_cast<long long>(n * 86400000.0);
      else if (unit == 'H' && in_time) ms += static_cast<long long>(n * 3600000.0);
      else if (unit == 'M' && in_time) ms += static_cast<long long>(n * 60000.0);
      else if (unit == 'S' && in_time) ms += static_cast<long long>(n * 1000.0);
      else return bad();
      i = j + 1;
    }
  } else {
    long long days = 0;
    size_t colon = t.find(':');
    size_t dot = t.find('.');
    std::string rest = t;
    if (dot != std::string::npos && colon != std::string::npos && dot < colon) {
      days = std::atoll(t.substr(0, dot).c_str());
      rest = t.substr(dot + 1);
    }
    int h = 0, m = 0;
    double s = 0;
    char extra = 0;
    if (std::sscanf(rest.c_str(), "%d:%d:%lf%c", &h, &m, &s, &extra) != 3 || h < 0 || m < 0 || m > 59 || s < 0 ||
        s >= 60) {
      return bad();
    }
    ms = days * 86400000LL + h * 3600000LL + m * 60000LL + static_cast<long long>(std::llround(s * 1000.0));
  }
  if (ms <= 0) return InvalidArgument("Duration '" + t + "' must be positive");
  return Duration(ms);
}

const nlohmann::json* FindKey(const nlohmann::json& obj, std::string_view key) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (Lower(it.key()) == Lower(key)) return &it.value();
  }
  return nullptr;
}

StatusOr<Trace> ParseSdkJson(std::string_view text, const std::string& name) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    size_t pos = what.find("parse error");
    return LineError(name, LineOfOffset(text, e.byte > 0 ? e.byte - 1 : 0),
                     "malformed JSON (" + (pos == std::string::npos ? what : what.substr(pos)) + ")");
  } catch (const nlohmann::json::exception& e) {
    // e.g. out_of_range.406 for a number such as 1e400; nlohmann gives no position for these.
    std::string what = e.what();
    size_t pos = what.find(']');
    return LineError(name, 1, "malformed JSON (" + (pos == std::string::npos ? what : what.substr(pos + 2)) + ")");
  }
  const nlohmann::json* arr = &doc;
  int depth = 1;
  if (doc.is_object()) {
    arr = FindKey(doc, "Emissions");
    depth = 2;
    if (arr == nullptr) {
      return LineError(name, 1,
                       "JSON object without an \"Emissions\" array; expected the Carbon Aware SDK format: an array "
                       "of {\"Location\",\"Time\",\"Rating\",\"Duration\"}");
    }
  }
  if (!arr->is_array()) {
    return LineError(name, 1,
                     "expected the Carbon Aware SDK format: an array of {\"Location\",\"Time\",\"Rating\",\"Duration\"}");
  }
  if (arr->empty()) return LineError(name, 1, "empty array; the trace has no data");
  std::vector<size_t> offsets;
  if (depth == 1) {
    offsets = ElementOffsets(text, 1);
  } else {
    // Start after the "Emissions" key (case-insensitive), inside the top-level object; a key
    // spelled that way inside a string value earlier in the file would only shift line numbers.
    size_t key = Lower(text).find("\"emissions\"");
    if (key != std::string::npos) offsets = ElementOffsets(text, 2, key + 11, 1);
  }
  auto line_of = [&](size_t i) { return i < offsets.size() ? LineOfOffset(text, offsets[i]) : 1; };

  Trace trace;
  trace.name = name;
  trace.format = TraceFormat::kCarbonAwareSdkJson;
  std::vector<int> lines;
  std::optional<Duration> duration;
  bool durations_equal = true;
  for (size_t i = 0; i < arr->size(); ++i) {
    const nlohmann::json& el = (*arr)[i];
    int line = line_of(i);
    std::string where = "element " + std::to_string(i) + ": ";
    if (!el.is_object()) return LineError(name, line, where + "expected an object {\"Location\",\"Time\",\"Rating\",\"Duration\"}");
    const nlohmann::json* time = FindKey(el, "Time");
    const nlohmann::json* rating = FindKey(el, "Rating");
    if (time == nullptr) return LineError(name, line, where + "missing key \"Time\"");
    if (rating == nullptr) return LineError(name, line, where + "missing key \"Rating\"");
    if (!time->is_string()) return LineError(name, line, where + "\"Time\" must be a string like \"2022-01-01T00:00:00+00:00\"");
    TracePoint p;
    StatusOr<TimePoint> t = ParseTimeText(time->get<std::string>());
    if (!t.ok()) return LineError(name, line, where + t.status().message());
    p.time = *t;
    double v = 0;
    if (rating->is_number()) {
      v = rating->get<double>();
      if (!std::isfinite(v)) return LineError(name, line, where + "\"Rating\" is not a finite number");
      if (v < 0) {
        return LineError(name, line,
                         where + "carbon intensity '" + rating->dump() + "' is negative; intensities must be >= 0");
      }
    } else {
      return LineError(name, line,
                       where + "carbon intensity " + rating->dump() + " (\"Rating\") is not a number");
    }
    p.intensity = GramsPerKwh(v);
    if (const nlohmann::json* loc = FindKey(el, "Location"); loc != nullptr && loc->is_string() && trace.zone.empty()) {
      trace.zone = loc->get<std::string>();
    }
    if (const nlohmann::json* d = FindKey(el, "Duration"); d != nullptr && !d->is_null()) {
      if (!d->is_string()) return LineError(name, line, where + "\"Duration\" must be a string like \"01:00:00\"");
      StatusOr<Duration> dur = ParseSdkDuration(d->get<std::string>());
      if (!dur.ok()) return LineError(name, line, where + dur.status().message());
      if (duration && *duration != *dur) durations_equal = false;
      if (!duration) duration = *dur;
    }
    ECOMAP_RETURN_IF_ERROR(AppendPoint(&trace, &lines, name, line, p));
  }
  trace.period = (duration && durations_equal) ? *duration : ModeSpacing(trace.points);
  return trace;
}

}  // namespace

const char* TraceColumnName(TraceColumn column) {
  return column == TraceColumn::kDirect ? "direct" : "lca";
}

StatusOr<TraceColumn> ParseTraceColumn(std::string_view text) {
  std::string t = Lower(Trim(text));
  if (t == "direct") return TraceColumn::kDirect;
  if (t == "lca" || t == "lifecycle" || t == "life-cycle" || t == "life cycle") return TraceColumn::kLifecycle;
  return InvalidArgument("unknown column '" + std::string(text) + "'; use 'direct' or 'lca'");
}

const char* TraceFormatName(TraceFormat format) {
  switch (format) {
    case TraceFormat::kElectricityMapsCsv: return "electricitymaps-csv";
    case TraceFormat::kCarbonAwareSdkJson: return "carbon-aware-sdk-json";
    case TraceFormat::kPlainCsv: return "plain-csv";
  }
  return "unknown";
}

std::optional<size_t> Trace::IndexAt(TimePoint t) const {
  auto it = std::upper_bound(points.begin(), points.end(), t,
                             [](TimePoint v, const TracePoint& p) { return v < p.time; });
  if (it == points.begin()) return std::nullopt;
  return static_cast<size_t>(it - points.begin()) - 1;
}

std::string Trace::Attribution() const {
  if (format == TraceFormat::kElectricityMapsCsv) {
    return "Data: Electricity Maps (electricitymaps.com), Open Database License (ODbL)";
  }
  return "";
}

StatusOr<Trace> ParseTrace(std::string_view content, const std::string& name, const TraceOptions& options) {
  std::string_view text = content;
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return LineError(name, 1, "empty file; expected a carbon-intensity trace (CSV or JSON)");
  if (trimmed.front() == '[' || trimmed.front() == '{') return ParseSdkJson(text, name);
  return ParseCsv(text, name, options);
}

StatusOr<Trace> LoadTrace(const std::string& path, const TraceOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open trace file '" + path + "'; check the path (bundled traces are in data/carbon/)");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return DataLoss("error reading trace file '" + path + "'");
  return ParseTrace(ss.str(), BaseName(path), options);
}

StatusOr<Trace> SliceTrace(const Trace& trace, std::optional<TimePoint> from, std::optional<TimePoint> to) {
  Trace out = trace;
  out.points.clear();
  for (const TracePoint& p : trace.points) {
    if (from && p.time < *from) continue;
    if (to && p.time >= *to) continue;
    out.points.push_back(p);
  }
  if (out.points.empty()) {
    return InvalidArgument("no points of " + trace.name + " (" + FormatIso8601(trace.Start()) + " to " +
                           FormatIso8601(trace.points.back().time) + ") lie in the window " +
                           (from ? FormatIso8601(*from) : std::string("start")) + " to " +
                           (to ? FormatIso8601(*to) : std::string("end")));
  }
  return out;
}

}  // namespace ecomap::carbon
