// service/history.h: the daemon's history in SQLite: decisions, interval measurements, carbon
// readings. A restart opens the same file and resumes (interval counter, accumulated energy,
// carbon and request counts).
//
// Durability: WAL journal, synchronous=FULL (each committed interval survives a power cut, not
// only a process crash); every interval (its decision(s), measurements, tenant rows and carbon
// reading) is written in ONE transaction, so a crash (kill -9) loses at most the interval in
// progress and never leaves half an interval.
//
// Schema (version 2, table meta key 'schema_version'; a version-1 file is upgraded in place by
// adding the api_tenants table):
//   meta(key TEXT PRIMARY KEY, value TEXT)
//   intervals(id INTEGER PRIMARY KEY            -- 0, 1, 2, ... continuing across restarts
//             start_utc TEXT, end_utc TEXT, elapsed_s REAL, carbon_time_utc TEXT,
//             intensity_g_per_kwh REAL, carbon_source TEXT, carbon_stale INTEGER,
//             power_w REAL, power_source TEXT      -- "measured" | "modelled" | "simulated"
//             power_fallback INTEGER               -- 1: the platform's reading failed; modelled
//             energy_j REAL, carbon_g REAL, mode INTEGER, threshold_w REAL,
//             completed INTEGER, rejected INTEGER, dropped INTEGER, slo_violations INTEGER,
//             total_energy_j REAL, total_carbon_g REAL, total_completed INTEGER,
//             total_rejected INTEGER, total_slo_violations INTEGER, run_id INTEGER)
//   tenant_intervals(interval INTEGER, tenant TEXT, model TEXT, pipeline TEXT, p50_ms REAL,
//             p95_ms REAL, slo_ms REAL, throughput_rps REAL, completed INTEGER, rejected INTEGER,
//             dropped INTEGER, slo_met INTEGER, PRIMARY KEY(interval, tenant))
//   decisions(id INTEGER PRIMARY KEY AUTOINCREMENT, interval INTEGER, time_utc TEXT,
//             controller TEXT, trigger TEXT ("interval"|"api"|"reload"|"replan"), mode INTEGER,
//             threshold_w REAL, replanned INTEGER, reason TEXT, variants_json TEXT,
//             config_json TEXT, predicted_json TEXT, decision_ms REAL, applied INTEGER,
//             apply_note TEXT)
//   carbon_readings(interval INTEGER PRIMARY KEY, time_utc TEXT, intensity_g_per_kwh REAL,
//             source TEXT, stale INTEGER, forecast INTEGER, note TEXT)
//   runs(id INTEGER PRIMARY KEY AUTOINCREMENT, started_utc TEXT, config TEXT)
//   api_tenants(name TEXT PRIMARY KEY, body TEXT, added_utc TEXT)   -- tenants added through
//             the API (body: the POST /tenants JSON), re-added by the next run
//   meta key 'state:NAME': a component's state (e.g. 'state:demand', the learned demand),
//             written in the transaction of the interval it belongs to
//
//   ECOMAP_ASSIGN_OR_RETURN(auto h, History::Open(dir + "/history.sqlite"));
//   h->resume().next_interval;  ...  h->CommitInterval(record);
//
// Thread-safety: all methods are serialised by an internal mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

struct sqlite3;

namespace ecomap::service {

inline constexpr int kHistorySchemaVersion = 2;

struct DecisionRow {
  int64_t id = 0;            // assigned on commit
  int64_t interval = 0;
  std::string time_utc;
  std::string controller;
  std::string trigger = "interval";
  int mode = 0;
  double threshold_w = 0;
  bool replanned = false;
  std::string reason;
  std::string variants_json = "[]";
  std::string config_json = "{}";
  std::string predicted_json = "{}";
  double decision_ms = 0;
  bool applied = true;
  std::string apply_note;
};

struct TenantIntervalRow {
  std::string tenant, model, pipeline;
  double p50_ms = 0, p95_ms = 0, slo_ms = 0, throughput_rps = 0;
  int64_t completed = 0, rejected = 0, dropped = 0;
  bool slo_met = true;
};

struct CarbonRow {
  std::string time_utc;
  double intensity_g_per_kwh = 0;
  std::string source;
  bool stale = false, forecast = false;
  std::string note;
};

struct IntervalRow {
  int64_t id = 0;
  std::string start_utc, end_utc, carbon_time_utc;
  double elapsed_s = 0;
  double intensity_g_per_kwh = 0;
  std::string carbon_source;
  bool carbon_stale = false;
  double power_w = 0;
  std::string power_source;
  bool power_fallback = false;
  double energy_j = 0, carbon_g = 0;
  int mode = 0;
  double threshold_w = 0;
  int64_t completed = 0, rejected = 0, dropped = 0, slo_violations = 0;
  // Running totals including this interval (filled by CommitInterval from the resume state).
  double total_energy_j = 0, total_carbon_g = 0;
  int64_t total_completed = 0, total_rejected = 0, total_slo_violations = 0;
  int64_t run_id = 0;
  std::vector<TenantIntervalRow> tenants;
  std::optional<CarbonRow> carbon;
  std::vector<DecisionRow> decisions;  // decided for / during this interval
  // Component states to store with this interval (meta 'state:KEY' = value), same transaction.
  std::map<std::string, std::string> states;
};

// A tenant's counters over the whole history (every run).
struct TenantTotals {
  int64_t intervals = 0, completed = 0, rejected = 0, dropped = 0, slo_violations = 0;
};

struct ApiTenantRow {
  std::string name, body, added_utc;
};

// Where a reopened history continues.
struct ResumeState {
  int64_t next_interval = 0;
  double total_energy_j = 0, total_carbon_g = 0;
  int64_t total_completed = 0, total_rejected = 0, total_slo_violations = 0;
  int64_t runs = 0;           // earlier runs recorded (before this Open)
};

class History {
 public:
  // Opens or creates the database (and its folder). DataLoss when the file is not a database or
  // fails the integrity check; FailedPrecondition for a newer schema version.
  static StatusOr<std::unique_ptr<History>> Open(const std::string& path, const std::string& config_text = "");
  ~History();
  History(const History&) = delete;
  History& operator=(const History&) = delete;

  const ResumeState& resume() const { return resume_; }
  int64_t run_id() const { return run_id_; }
  const std::string& path() const { return path_; }

  // Writes the interval (id must be resume().next_interval, which then advances) with its
  // tenants, carbon reading and decisions in one transaction; fills the running totals.
  Status CommitInterval(IntervalRow& row);

  // An id for a decision that will be committed with its interval (ids increase across
  // restarts; ids reserved by a run that crashed are skipped).
  int64_t ReserveDecisionId();

  // Decisions with id > since_id, oldest first, at most `limit`.
  StatusOr<std::vector<DecisionRow>> DecisionsSince(int64_t since_id, int limit) const;
  // The last `limit` intervals, oldest first (without decisions; with tenants and carbon).
  StatusOr<std::vector<IntervalRow>> RecentIntervals(int limit) const;
  StatusOr<int64_t> CountIntervals() const;
  // Per tenant, summed over every committed interval (slo_violations: intervals not met).
  StatusOr<std::map<std::string, TenantTotals>> TenantTotalsByName() const;
  // The state stored under `key` by the latest interval that had one; nullopt when none.
  StatusOr<std::optional<std::string>> State(const std::string& key) const;

  // Tenants added through the API: stored when added (replacing one of the same name), removed
  // when removed, listed oldest first. Each call is its own durable transaction.
  Status SaveApiTenant(const ApiTenantRow& row);
  Status RemoveApiTenant(const std::string& name);
  StatusOr<std::vector<ApiTenantRow>> ApiTenants() const;
  // PRAGMA integrity_check == "ok".
  Status CheckIntegrity() const;

 private:
  History(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  Status Exec(const std::string& sql) const;
  Status Init(const std::string& config_text);

  mutable std::mutex mu_;
  sqlite3* db_;
  std::string path_;
  ResumeState resume_;
  int64_t run_id_ = 0;
  int64_t next_decision_id_ = 1;
};

}  // namespace ecomap::service
