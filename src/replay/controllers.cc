// The controller-list helpers of replay/replay.h, apart from the engine so that programs using
// only RunReplay with their own controllers do not link the policy part's MakeController.
#include <algorithm>
#include <set>
#include <sstream>

#include "replay/replay.h"

namespace ecomap::replay {
namespace {

std::string JoinNames(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

std::string TrimSpaces(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::vector<ControllerRun> ControllerRuns(const std::vector<std::string>& names,
                                          const policy::ControllerContext& context) {
  std::vector<ControllerRun> runs;
  for (const std::string& n : names) {
    runs.push_back({n, [n, context]() { return policy::MakeController(n, context); }});
  }
  return runs;
}

StatusOr<std::vector<std::string>> ParseControllerList(const std::string& list) {
  std::vector<std::string> known = policy::ControllerNames();
  std::vector<std::string> out;
  std::set<std::string> seen;
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = TrimSpaces(item);
    if (item.empty()) {
      return InvalidArgument("--controllers '" + list + "' has an empty entry; give names separated by commas from: " +
                             JoinNames(known));
    }
    if (std::find(known.begin(), known.end(), item) == known.end()) {
      return InvalidArgument("unknown controller '" + item + "'; known controllers: " + JoinNames(known));
    }
    if (!seen.insert(item).second) return InvalidArgument("controller '" + item + "' is listed twice in --controllers");
    out.push_back(item);
  }
  if (out.empty()) return InvalidArgument("--controllers is empty; give one or more of: " + JoinNames(known));
  return out;
}

}  // namespace ecomap::replay
