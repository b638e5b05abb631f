#include "service/history.h"

#include <sqlite3.h>

#include <algorithm>
#include <filesystem>

#include "core/time.h"

namespace ecomap::service {
namespace {

// RAII prepared statement with positional binds.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  Stmt& Bind(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); return *this; }
  Stmt& Bind(int i, double v) { sqlite3_bind_double(s_, i, v); return *this; }
  Stmt& Bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int Step() { return sqlite3_step(s_); }
  int64_t Int(int c) const { return sqlite3_column_int64(s_, c); }
  double Real(int c) const { return sqlite3_column_double(s_, c); }
  std::string Text(int c) const {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t ? reinterpret_cast<const char*>(t) : "";
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

Status SqlError(sqlite3* db, const std::string& what) {
  return Internal("history: " + what + ": " + sqlite3_errmsg(db));
}

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS runs(id INTEGER PRIMARY KEY AUTOINCREMENT, started_utc TEXT, config TEXT);
CREATE TABLE IF NOT EXISTS intervals(
  id INTEGER PRIMARY KEY, start_utc TEXT, end_utc TEXT, elapsed_s REAL, carbon_time_utc TEXT,
  intensity_g_per_kwh REAL, carbon_source TEXT, carbon_stale INTEGER, power_w REAL, power_source TEXT,
  power_fallback INTEGER, energy_j REAL, carbon_g REAL, mode INTEGER, threshold_w REAL,
  completed INTEGER, rejected INTEGER, dropped INTEGER, slo_violations INTEGER,
  total_energy_j REAL, total_carbon_g REAL, total_completed INTEGER, total_rejected INTEGER,
  total_slo_violations INTEGER, run_id INTEGER);
CREATE TABLE IF NOT EXISTS tenant_intervals(
  interval INTEGER, tenant TEXT, model TEXT, pipeline TEXT, p50_ms REAL, p95_ms REAL, slo_ms REAL,
  throughput_rps REAL, completed INTEGER, rejected INTEGER, dropped INTEGER, slo_met INTEGER,
  PRIMARY KEY(interval, tenant));
CREATE TABLE IF NOT EXISTS decisions(
  id INTEGER PRIMARY KEY AUTOINCREMENT, interval INTEGER, time_utc TEXT, controller TEXT, trigger TEXT,
  mode INTEGER, threshold_w REAL, replanned INTEGER, reason TEXT, variants_json TEXT, config_json TEXT,
  predicted_json TEXT, decision_ms REAL, applied INTEGER, apply_note TEXT);
CREATE TABLE IF NOT EXISTS carbon_readings(
  interval INTEGER PRIMARY KEY, time_utc TEXT, intensity_g_per_kwh REAL, source TEXT, stale INTEGER,
  forecast INTEGER, note TEXT);
CREATE TABLE IF NOT EXISTS api_tenants(name TEXT PRIMARY KEY, body TEXT, added_utc TEXT);
)sql";

}  // namespace

History::~History() { sqlite3_close(db_); }

Status History::Exec(const std::string& sql) const {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal("history " + path_ + ": " + m);
  }
  return Status::Ok();
}

StatusOr<std::unique_ptr<History>> History::Open(const std::string& path, const std::string& config_text) {
  std::error_code ec;
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return PermissionDenied("history: cannot create folder '" + parent.string() + "': " + ec.message());
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Unavailable("history: cannot open '" + path + "': " + m);
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<History> h(new History(db, path));
  ECOMAP_RETURN_IF_ERROR(h->Init(config_text));
  return h;
}

Status History::Init(const std::string& config_text) {
  Status s = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  if (!s.ok()) return DataLoss(s.message() + " (is it an SQLite database? move it away to start a new history)");
  ECOMAP_RETURN_IF_ERROR(CheckIntegrity());
  ECOMAP_RETURN_IF_ERROR(Exec(kSchema));
  {
    Stmt q(db_, "SELECT value FROM meta WHERE key='schema_version'");
    if (!q.ok()) return SqlError(db_, "read meta");
    if (q.Step() == SQLITE_ROW) {
      int v = std::atoi(q.Text(0).c_str());
      if (v > kHistorySchemaVersion) {
        return FailedPrecondition("history " + path_ + " has schema version " + std::to_string(v) +
                                  ", newer than this program's " + std::to_string(kHistorySchemaVersion) +
                                  "; use a newer ecomap or another data_dir");
      }
      if (v < kHistorySchemaVersion) {  // 1 -> 2: api_tenants, created by kSchema above
        ECOMAP_RETURN_IF_ERROR(Exec("UPDATE meta SET value='" + std::to_string(kHistorySchemaVersion) +
                                    "' WHERE key='schema_version'"));
      }
    } else {
      ECOMAP_RETURN_IF_ERROR(Exec("INSERT INTO meta(key, value) VALUES('schema_version', '" +
                                  std::to_string(kHistorySchemaVersion) + "'), ('created_utc', '" +
                                  FormatIso8601(SystemClock::Instance().Now()) + "')"));
    }
  }
  {
    Stmt q(db_,
           "SELECT id, total_energy_j, total_carbon_g, total_completed, total_rejected, total_slo_violations "
           "FROM intervals ORDER BY id DESC LIMIT 1");
    if (!q.ok()) return SqlError(db_, "read intervals");
    if (q.Step() == SQLITE_ROW) {
      resume_.next_interval = q.Int(0) + 1;
      resume_.total_energy_j = q.Real(1);
      resume_.total_carbon_g = q.Real(2);
      resume_.total_completed = q.Int(3);
      resume_.total_rejected = q.Int(4);
      resume_.total_slo_violations = q.Int(5);
    }
  }
  {
    Stmt q(db_, "SELECT COUNT(*) FROM runs");
    if (q.ok() && q.Step() == SQLITE_ROW) resume_.runs = q.Int(0);
    Stmt d(db_, "SELECT COALESCE(MAX(id), 0) FROM decisions");
    if (d.ok() && d.Step() == SQLITE_ROW) next_decision_id_ = d.Int(0) + 1;
  }
  Stmt ins(db_, "INSERT INTO runs(started_utc, config) VALUES(?, ?)");
  if (!ins.ok()) return SqlError(db_, "prepare runs");
  ins.Bind(1, FormatIso8601(SystemClock::Instance().Now())).Bind(2, config_text);
  if (ins.Step() != SQLITE_DONE) return SqlError(db_, "insert run");
  run_id_ = sqlite3_last_insert_rowid(db_);
  return Status::Ok();
}

Status History::CheckIntegrity() const {
  Stmt q(db_, "PRAGMA integrity_check");
  if (!q.ok()) return DataLoss("history " + path_ + ": " + sqlite3_errmsg(db_));
  if (q.Step() != SQLITE_ROW) return DataLoss("history " + path_ + ": integrity check gave no answer");
  std::string r = q.Text(0);
  if (r != "ok") return DataLoss("history " + path_ + " is corrupt: " + r);
  return Status::Ok();
}

Status History::CommitInterval(IntervalRow& row) {
  std::lock_guard<std::mutex> l(mu_);
  if (row.id != resume_.next_interval) {
    return FailedPrecondition("history: interval " + std::to_string(row.id) + " committed, expected " +
                              std::to_string(resume_.next_interval));
  }
  row.total_energy_j = resume_.total_energy_j + row.energy_j;
  row.total_carbon_g = resume_.total_carbon_g + row.carbon_g;
  row.total_completed = resume_.total_completed + row.completed;
  row.total_rejected = resume_.total_rejected + row.rejected;
  row.total_slo_violations = resume_.total_slo_violations + row.slo_violations;
  row.run_id = run_id_;
  ECOMAP_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  auto fail = [&](const std::string& what) {
    Status s = SqlError(db_, what);
    (void)Exec("ROLLBACK");
    return s;
  };
  {
    Stmt q(db_,
           "INSERT INTO intervals VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!q.ok()) return fail("prepare interval");
    q.Bind(1, row.id).Bind(2, row.start_utc).Bind(3, row.end_utc).Bind(4, row.elapsed_s)
        .Bind(5, row.carbon_time_utc).Bind(6, row.intensity_g_per_kwh).Bind(7, row.carbon_source)
        .Bind(8, int64_t{row.carbon_stale}).Bind(9, row.power_w).Bind(10, row.power_source)
        .Bind(11, int64_t{row.power_fallback}).Bind(12, row.energy_j).Bind(13, row.carbon_g)
        .Bind(14, int64_t{row.mode}).Bind(15, row.threshold_w).Bind(16, row.completed).Bind(17, row.rejected)
        .Bind(18, row.dropped).Bind(19, row.slo_violations).Bind(20, row.total_energy_j)
        .Bind(21, row.total_carbon_g).Bind(22, row.total_completed).Bind(23, row.total_rejected)
        .Bind(24, row.total_slo_violations).Bind(25, row.run_id);
    if (q.Step() != SQLITE_DONE) return fail("insert interval");
  }
  for (const TenantIntervalRow& t : row.tenants) {
    Stmt q(db_, "INSERT INTO tenant_intervals VALUES(?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!q.ok()) return fail("prepare tenant row");
    q.Bind(1, row.id).Bind(2, t.tenant).Bind(3, t.model).Bind(4, t.pipeline).Bind(5, t.p50_ms).Bind(6, t.p95_ms)
        .Bind(7, t.slo_ms).Bind(8, t.throughput_rps).Bind(9, t.completed).Bind(10, t.rejected)
        .Bind(11, t.dropped).Bind(12, int64_t{t.slo_met});
    if (q.Step() != SQLITE_DONE) return fail("insert tenant row");
  }
  if (row.carbon) {
    const CarbonRow& c = *row.carbon;
    Stmt q(db_, "INSERT INTO carbon_readings VALUES(?,?,?,?,?,?,?)");
    if (!q.ok()) return fail("prepare carbon row");
    q.Bind(1, row.id).Bind(2, c.time_utc).Bind(3, c.intensity_g_per_kwh).Bind(4, c.source)
        .Bind(5, int64_t{c.stale}).Bind(6, int64_t{c.forecast}).Bind(7, c.note);
    if (q.Step() != SQLITE_DONE) return fail("insert carbon row");
  }
  int64_t next_id = next_decision_id_;
  for (DecisionRow& d : row.decisions) {
    Stmt q(db_, "INSERT INTO decisions VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!q.ok()) return fail("prepare decision");
    if (d.id <= 0) d.id = next_id;
    next_id = std::max(next_id, d.id + 1);
    q.Bind(1, d.id).Bind(2, row.id).Bind(3, d.time_utc).Bind(4, d.controller).Bind(5, d.trigger)
        .Bind(6, int64_t{d.mode}).Bind(7, d.threshold_w).Bind(8, int64_t{d.replanned}).Bind(9, d.reason)
        .Bind(10, d.variants_json).Bind(11, d.config_json).Bind(12, d.predicted_json).Bind(13, d.decision_ms)
        .Bind(14, int64_t{d.applied}).Bind(15, d.apply_note);
    if (q.Step() != SQLITE_DONE) return fail("insert decision");
  }
  for (const auto& [key, value] : row.states) {
    Stmt q(db_, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)");
    if (!q.ok()) return fail("prepare state");
    q.Bind(1, "state:" + key).Bind(2, value);
    if (q.Step() != SQLITE_DONE) return fail("store state '" + key + "'");
  }
  ECOMAP_RETURN_IF_ERROR(Exec("COMMIT"));
  next_decision_id_ = next_id;
  resume_.next_interval = row.id + 1;
  resume_.total_energy_j = row.total_energy_j;
  resume_.total_carbon_g = row.total_carbon_g;
  resume_.total_completed = row.total_completed;
  resume_.total_rejected = row.total_rejected;
  resume_.total_slo_violations = row.total_slo_violations;
  return Status::Ok();
}

StatusOr<std::vector<DecisionRow>> History::DecisionsSince(int64_t since_id, int limit) const {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_,
         "SELECT id, interval, time_utc, controller, trigger, mode, threshold_w, replanned, reason, variants_json, "
         "config_json, predicted_json, decision_ms, applied, apply_note FROM decisions WHERE id > ? "
         "ORDER BY id LIMIT ?");
  if (!q.ok()) return SqlError(db_, "query decisions");
  q.Bind(1, since_id).Bind(2, int64_t{limit});
  std::vector<DecisionRow> out;
  while (q.Step() == SQLITE_ROW) {
    DecisionRow d;
    d.id = q.Int(0);
    d.interval = q.Int(1);
    d.time_utc = q.Text(2);
    d.controller = q.Text(3);
    d.trigger = q.Text(4);
    d.mode = static_cast<int>(q.Int(5));
    d.threshold_w = q.Real(6);
    d.replanned = q.Int(7) != 0;
    d.reason = q.Text(8);
    d.variants_json = q.Text(9);
    d.config_json = q.Text(10);
    d.predicted_json = q.Text(11);
    d.decision_ms = q.Real(12);
    d.applied = q.Int(13) != 0;
    d.apply_note = q.Text(14);
    out.push_back(std::move(d));
  }
  return out;
}

StatusOr<std::vector<IntervalRow>> History::RecentIntervals(int limit) const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<IntervalRow> out;
  {
    Stmt q(db_,
           "SELECT id, start_utc, end_utc, elapsed_s, carbon_time_utc, intensity_g_per_kwh, carbon_source, "
           "carbon_stale, power_w, power_source, power_fallback, energy_j, carbon_g, mode, threshold_w, completed, "
           "rejected, dropped, slo_violations, total_energy_j, total_carbon_g, total_completed, total_rejected, "
           "total_slo_violations, run_id FROM intervals ORDER BY id DESC LIMIT ?");
    if (!q.ok()) return SqlError(db_, "query intervals");
    q.Bind(1, int64_t{limit});
    while (q.Step() == SQLITE_ROW) {
      IntervalRow r;
      r.id = q.Int(0);
      r.start_utc = q.Text(1);
      r.end_utc = q.Text(2);
      r.elapsed_s = q.Real(3);
      r.carbon_time_utc = q.Text(4);
      r.intensity_g_per_kwh = q.Real(5);
      r.carbon_source = q.Text(6);
      r.carbon_stale = q.Int(7) != 0;
      r.power_w = q.Real(8);
      r.power_source = q.Text(9);
      r.power_fallback = q.Int(10) != 0;
      r.energy_j = q.Real(11);
      r.carbon_g = q.Real(12);
      r.mode = static_cast<int>(q.Int(13));
      r.threshold_w = q.Real(14);
      r.completed = q.Int(15);
      r.rejected = q.Int(16);
      r.dropped = q.Int(17);
      r.slo_violations = q.Int(18);
      r.total_energy_j = q.Real(19);
      r.total_carbon_g = q.Real(20);
      r.total_completed = q.Int(21);
      r.total_rejected = q.Int(22);
      r.total_slo_violations = q.Int(23);
      r.run_id = q.Int(24);
      out.push_back(std::move(r));
    }
  }
  for (IntervalRow& r : out) {
    Stmt q(db_,
           "SELECT tenant, model, pipeline, p50_ms, p95_ms, slo_ms, throughput_rps, completed, rejected, dropped, "
           "slo_met FROM tenant_intervals WHERE interval = ? ORDER BY tenant");
    if (!q.ok()) return SqlError(db_, "query tenant rows");
    q.Bind(1, r.id);
    while (q.Step() == SQLITE_ROW) {
      TenantIntervalRow t;
      t.tenant = q.Text(0);
      t.model = q.Text(1);
      t.pipeline = q.Text(2);
      t.p50_ms = q.Real(3);
      t.p95_ms = q.Real(4);
      t.slo_ms = q.Real(5);
      t.throughput_rps = q.Real(6);
      t.completed = q.Int(7);
      t.rejected = q.Int(8);
      t.dropped = q.Int(9);
      t.slo_met = q.Int(10) != 0;
      r.tenants.push_back(std::move(t));
    }
    Stmt c(db_, "SELECT time_utc, intensity_g_per_kwh, source, stale, forecast, note FROM carbon_readings WHERE interval = ?");
    if (!c.ok()) return SqlError(db_, "query carbon rows");
    c.Bind(1, r.id);
    if (c.Step() == SQLITE_ROW) {
      r.carbon = CarbonRow{c.Text(0), c.Real(1), c.Text(2), c.Int(3) != 0, c.Int(4) != 0, c.Text(5)};
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

int64_t History::ReserveDecisionId() {
  std::lock_guard<std::mutex> l(mu_);
  return next_decision_id_++;
}

StatusOr<int64_t> History::CountIntervals() const {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "SELECT COUNT(*) FROM intervals");
  if (!q.ok() || q.Step() != SQLITE_ROW) return SqlError(db_, "count intervals");
  return q.Int(0);
}

StatusOr<std::map<std::string, TenantTotals>> History::TenantTotalsByName() const {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_,
         "SELECT tenant, COUNT(*), SUM(completed), SUM(rejected), SUM(dropped), SUM(slo_met = 0) "
         "FROM tenant_intervals GROUP BY tenant");
  if (!q.ok()) return SqlError(db_, "sum tenant rows");
  std::map<std::string, TenantTotals> out;
  while (q.Step() == SQLITE_ROW) {
    out[q.Text(0)] = TenantTotals{q.Int(1), q.Int(2), q.Int(3), q.Int(4), q.Int(5)};
  }
  return out;
}

StatusOr<std::optional<std::string>> History::State(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "SELECT value FROM meta WHERE key = ?");
  if (!q.ok()) return SqlError(db_, "read state");
  q.Bind(1, "state:" + key);
  if (q.Step() == SQLITE_ROW) return std::optional<std::string>(q.Text(0));
  return std::optional<std::string>();
}

Status History::SaveApiTenant(const ApiTenantRow& row) {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "INSERT OR REPLACE INTO api_tenants(name, body, added_utc) VALUES(?, ?, ?)");
  if (!q.ok()) return SqlError(db_, "prepare api tenant");
  q.Bind(1, row.name).Bind(2, row.body).Bind(3, row.added_utc);
  if (q.Step() != SQLITE_DONE) return SqlError(db_, "store api tenant '" + row.name + "'");
  return Status::Ok();
}

Status History::RemoveApiTenant(const std::string& name) {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "DELETE FROM api_tenants WHERE name = ?");
  if (!q.ok()) return SqlError(db_, "prepare api tenant removal");
  q.Bind(1, name);
  if (q.Step() != SQLITE_DONE) return SqlError(db_, "remove api tenant '" + name + "'");
  return Status::Ok();
}

StatusOr<std::vector<ApiTenantRow>> History::ApiTenants() const {
  std::lock_guard<std::mutex> l(mu_);
  Stmt q(db_, "SELECT name, body, added_utc FROM api_tenants ORDER BY added_utc, name");
  if (!q.ok()) return SqlError(db_, "query api tenants");
  std::vector<ApiTenantRow> out;
  while (q.Step() == SQLITE_ROW) out.push_back({q.Text(0), q.Text(1), q.Text(2)});
  return out;
}

}  // namespace ecomap::service
