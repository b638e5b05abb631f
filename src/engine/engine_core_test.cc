// Tests of the engine's threads, queues, accounting and reconfiguration, on a small real
// computation defined here (the libtorch models are exercised by engine_torch_test).
//
// "Chain" models: block b of a model maps a 64-bit state x to a mix of (x, b, seed) iterated
// `work` times. Every stage checks that its input is the output of the previous block, and the
// last stage recomputes the whole chain from the model input and compares, so a request that
// skipped, repeated or reordered blocks, or was mixed with another model's, fails loudly (the
// engine counts it as dropped with reason "error: ...", and the tests require zero drops).
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <map>
#include <set>
#include <thread>

namespace ecomap::engine {
namespace {

struct ChainState {
  uint64_t input = 0;
  uint64_t value = 0;
  int next_block = 0;
  std::string model;
};

uint64_t ApplyBlock(uint64_t x, int block, uint64_t seed, int work) {
  for (int i = 0; i < work; ++i) {
    x = x * 6364136223846793005ULL + (static_cast<uint64_t>(block) + 1) * 1442695040888963407ULL + seed;
    x ^= x >> 29;
  }
  return x;
}

struct ChainModel {
  zoo::ModelInfo info;
  int work = 0;             // iterations per block
  int fail_block = -1;      // a block whose execution fails (error path)
};

class ChainFactory final : public ExecutorFactory {
 public:
  ChainFactory() {
    Add("chain4", 4, 20000);
    Add("chain6", 6, 20000);
    Add("slow3", 3, 2000000);
    Add("faulty3", 3, 20000, /*fail_block=*/1);
  }
  const zoo::ModelInfo* FindModel(const std::string& name) const override {
    auto it = models_.find(name);
    return it == models_.end() ? nullptr : &it->second.info;
  }
  StatusOr<std::unique_ptr<StageExecutor>> CreateStage(const std::string& model, int begin, int end,
                                                       uint64_t seed) override;
  // Client inputs: INT64 {1} holding the chain's input; the output is INT64 {1} holding its value.
  // A client's state names no model: the first stage claims it, so it may migrate between
  // variants like a torch input.
  StatusOr<Activation> FromTensor(const std::string& model, const HostTensor& t) override {
    if (FindModel(model) == nullptr) return NotFound("no chain model " + model);
    if (t.datatype != DataType::kInt64 || t.shape != std::vector<int64_t>{1}) {
      return InvalidArgument("chain input must be INT64 [1]");
    }
    ECOMAP_RETURN_IF_ERROR(t.Validate());
    ChainState s;
    s.input = s.value = static_cast<uint64_t>(t.Span<int64_t>()[0]);
    return Activation(s);
  }
  StatusOr<HostTensor> ToTensor(const std::string&, const Activation& a, const std::string& name) override {
    const ChainState* s = std::any_cast<ChainState>(&a);
    if (s == nullptr) return Internal("not a chain state");
    return HostTensor::FromValues<int64_t>(name, DataType::kInt64, {1}, {static_cast<int64_t>(s->value)});
  }

  // CPUs each (model, begin) stage ran on.
  std::set<int> CpusOf(const std::string& model, int begin) {
    std::lock_guard<std::mutex> lk(mu_);
    return cpus_[{model, begin}];
  }
  void RecordCpu(const std::string& model, int begin, int cpu) {
    std::lock_guard<std::mutex> lk(mu_);
    cpus_[{model, begin}].insert(cpu);
  }

 private:
  void Add(const std::string& name, int blocks, int work, int fail_block = -1) {
    ChainModel m;
    m.info.name = name;
    m.info.family = "chain";
    for (int i = 0; i < blocks; ++i) m.info.blocks.push_back({"block" + std::to_string(i)});
    m.work = work;
    m.fail_block = fail_block;
    models_[name] = m;
  }
  std::map<std::string, ChainModel> models_;
  std::mutex mu_;
  std::map<std::pair<std::string, int>, std::set<int>> cpus_;
};

class ChainStage final : public StageExecutor {
 public:
  ChainStage(ChainFactory* f, ChainModel m, int begin, int end, uint64_t seed)
      : f_(f), m_(std::move(m)), begin_(begin), end_(end), seed_(seed) {}
  Status Run(Activation& io) override {
    f_->RecordCpu(m_.info.name, begin_, sched_getcpu());
    ChainState* s = std::any_cast<ChainState>(&io);
    if (s == nullptr) return Internal("not a chain state");
    if (s->model.empty() && begin_ == 0) s->model = m_.info.name;  // a client's input
    if (s->model != m_.info.name) return Internal("state of " + s->model + " in " + m_.info.name);
    if (s->next_block != begin_) {
      return Internal("stage " + std::to_string(begin_) + " got the state after block " +
                      std::to_string(s->next_block - 1));
    }
    for (int b = begin_; b < end_; ++b) {
      if (b == m_.fail_block) return Internal("block " + std::to_string(b) + " failed");
      s->value = ApplyBlock(s->value, b, seed_, m_.work);
    }
    s->next_block = end_;
    if (end_ == static_cast<int>(m_.info.blocks.size())) {
      uint64_t want = s->input;
      for (int b = 0; b < end_; ++b) want = ApplyBlock(want, b, seed_, m_.work);
      if (want != s->value) return Internal("pipeline result differs from the whole model's");
    }
    return Status::Ok();
  }
  StatusOr<Activation> MakeInput() override {
    ChainState s;
    s.input = s.value = 0x1234567 + seed_;
    s.model = m_.info.name;
    return Activation(s);
  }

 private:
  ChainFactory* f_;
  ChainModel m_;
  int begin_, end_;
  uint64_t seed_;
};

StatusOr<std::unique_ptr<StageExecutor>> ChainFactory::CreateStage(const std::string& model, int begin,
                                                                   int end, uint64_t seed) {
  auto it = models_.find(model);
  if (it == models_.end()) return NotFound("no chain model " + model);
  return std::unique_ptr<StageExecutor>(std::make_unique<ChainStage>(this, it->second, begin, end, seed));
}

std::vector<UnitInfo> TestUnits() {
  std::vector<UnitInfo> host = HostUnits();
  return {{"u0", host[0].cpu_id}, {"u1", host[host.size() > 1 ? 1 : 0].cpu_id}};
}

EngineSpec Spec(const std::string& compact, std::vector<std::string> online = {}) {
  auto t = ParseTenantsSpec(compact, 1);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return EngineSpec{std::move(online), t.ok() ? *t : std::vector<PipelineSpec>{}};
}

PipelineSpec Tenant(const std::string& compact) { return Spec(compact).tenants.at(0); }

void Sleep(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

struct Fixture {
  std::shared_ptr<ChainFactory> factory = std::make_shared<ChainFactory>();
  Engine engine{factory, EngineOptions{TestUnits(), true, /*record_requests=*/true, nullptr}};
};

const TenantReport& Find(const EngineReport& r, const std::string& name) {
  for (const auto& t : r.tenants) {
    if (t.name == name) return t;
  }
  static TenantReport none;
  ADD_FAILURE() << "no tenant " << name;
  return none;
}

// Every id 0..submitted-1 of every tenant appears exactly once in the log, with the outcome
// counts of the report.
void ExpectEachRequestOnce(const EngineReport& report, const std::vector<RequestRecord>& log) {
  std::map<std::string, std::map<uint64_t, int>> seen;
  std::map<std::string, std::map<Outcome, uint64_t>> outcomes;
  for (const RequestRecord& r : log) {
    ++seen[r.tenant][r.id];
    ++outcomes[r.tenant][r.outcome];
  }
  std::map<std::string, uint64_t> submitted;
  for (const TenantReport& t : report.tenants) {
    submitted[t.name] += t.submitted;
    EXPECT_EQ(t.in_flight, 0u) << t.name;
    EXPECT_EQ(t.submitted, t.completed + t.rejected + t.dropped) << t.name;
    EXPECT_EQ(outcomes[t.name][Outcome::kCompleted], t.completed) << t.name;
    EXPECT_EQ(outcomes[t.name][Outcome::kRejected], t.rejected) << t.name;
    EXPECT_EQ(outcomes[t.name][Outcome::kDropped], t.dropped) << t.name;
  }
  for (const auto& [name, n] : submitted) {
    ASSERT_EQ(seen[name].size(), n) << name;
    for (uint64_t id = 0; id < n; ++id) ASSERT_EQ(seen[name][id], 1) << name << " id " << id;
  }
}

TEST(EngineCore, ClosedLoopCompletesEveryRequest) {
  Fixture f;
  ASSERT_TRUE(f.engine.Start(Spec("chain4@u0,closed=2")).ok());
  Sleep(300);
  EngineReport r = f.engine.Shutdown(Milliseconds(5000));
  const TenantReport& t = Find(r, "chain4");
  EXPECT_GT(t.completed, 5u);
  EXPECT_EQ(t.rejected, 0u);
  EXPECT_EQ(t.dropped, 0u);
  EXPECT_FALSE(t.active);
  EXPECT_GT(t.latency.p50_ms, 0);
  EXPECT_LE(t.latency.p50_ms, t.latency.p95_ms);
  EXPECT_LE(t.latency.p95_ms, t.latency.p99_ms);
  EXPECT_GT(t.throughput_rps, 0);
  EXPECT_NEAR(t.active_s, r.elapsed_s, 1e-6);
  ExpectEachRequestOnce(r, f.engine.TakeRequestLog());
  EXPECT_GT(r.units[0].busy_ms, 0);
  EXPECT_GT(r.units[0].cpu_ms, 0);
  EXPECT_GT(r.units[0].utilization, 0);
  EXPECT_LE(r.units[0].utilization, 1.0 + 1e-9);
  // A second Shutdown returns the same report; control calls now fail.
  EXPECT_EQ(f.engine.Shutdown(Milliseconds(0)).tenants[0].completed, t.completed);
  EXPECT_EQ(f.engine.AddTenant(Tenant("chain6@u0")).code(), StatusCode::kFailedPrecondition);
}

TEST(EngineCore, OverloadIsRejectedAtAdmissionAndCounted) {
  Fixture f;
  ASSERT_TRUE(f.engine.Start(Spec("slow3@u0,rate=500,queue=2")).ok());
  Sleep(300);
  EngineReport r = f.engine.Shutdown(Milliseconds(10000));
  const TenantReport& t = Find(r, "slow3");
  EXPECT_GT(t.rejected, 10u);
  EXPECT_EQ(t.rejected_by_reason.at("queue_full"), t.rejected);
  EXPECT_GT(t.completed, 0u);
  EXPECT_EQ(t.dropped, 0u);
  ExpectEachRequestOnce(r, f.engine.TakeRequestLog());
}

uint64_t ChainOf(const std::string& model, uint64_t x, uint64_t seed) {
  const int blocks = model == "chain6" ? 6 : model == "slow3" ? 3 : 4;
  const int work = model == "slow3" ? 2000000 : 20000;
  for (int b = 0; b < blocks; ++b) x = ApplyBlock(x, b, seed, work);
  return x;
}

HostTensor ChainInput(int64_t v) { return HostTensor::FromValues<int64_t>("x", DataType::kInt64, {1}, {v}); }

TEST(EngineCore, SubmitReturnsTheOutputAndSurvivesLiveReconfiguration) {
  Fixture f;
  ASSERT_TRUE(f.engine.Start(Spec("chain4@u0,closed=1,external=1,seed=7,name=x")).ok());
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, wrong = 0, failed = 0;
  std::set<std::string> served_by;
  std::atomic<bool> stop{false};
  std::atomic<int> accepted{0}, refused{0};
  std::thread client([&] {
    for (int64_t i = 0; !stop.load(); ++i) {
      Status s = f.engine.Submit("x", ChainInput(1000 + i), [&, i](SubmitResult r) {
        std::lock_guard<std::mutex> lk(mu);
        ++answered;
        if (!r.output.ok()) {
          ++failed;
        } else if (static_cast<uint64_t>(r.output->Span<int64_t>()[0]) != ChainOf(r.model, 1000 + i, 7)) {
          ++wrong;
        }
        served_by.insert(r.model);
        cv.notify_all();
      });
      (s.ok() ? accepted : refused).fetch_add(1);
      if (i % 4 == 0) Sleep(1);
    }
  });
  Sleep(100);
  for (const char* spec : {"chain6@0-3:u0|3-:u1,closed=1,external=1,seed=7,name=x",
                           "chain4@u1,closed=1,external=1,seed=7,name=x"}) {
    auto rep = f.engine.Reconfigure(Tenant(spec));
    ASSERT_TRUE(rep.ok()) << rep.status().message();
    EXPECT_TRUE(rep->rebuilt);
    EXPECT_EQ(rep->dropped, 0u);
    Sleep(100);
  }
  stop = true;
  client.join();
  EngineReport r = f.engine.Shutdown(Milliseconds(5000));
  {
    std::unique_lock<std::mutex> lk(mu);
    cv.wait_for(lk, std::chrono::seconds(5), [&] { return answered == accepted.load(); });
    EXPECT_EQ(answered, accepted.load());
    EXPECT_EQ(wrong, 0);
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(served_by, (std::set<std::string>{"chain4", "chain6"}));
  }
  const TenantReport& t = Find(r, "x");
  // No generator ran: every request is a client's.
  EXPECT_EQ(t.submitted, static_cast<uint64_t>(accepted.load() + refused.load()));
  EXPECT_EQ(t.completed, static_cast<uint64_t>(accepted.load()));
  EXPECT_GT(t.completed, 50u);
  ExpectEachRequestOnce(r, f.engine.TakeRequestLog());
}

TEST(EngineCore, SubmitRefusesWhatCannotMeetTheSloAndBadInputs) {
  Fixture f;
  ASSERT_TRUE(f.engine.Start(Spec("slow3@u0,closed=1,external=1,slo=1000,queue=64,name=s")).ok());
  auto none = [](SubmitResult) {};
  EXPECT_EQ(f.engine.Submit("nope", ChainInput(1), none).code(), StatusCode::kNotFound);
  HostTensor bad = HostTensor::FromValues<float>("x", DataType::kFp32, {1}, {1.f});
  EXPECT_EQ(f.engine.Submit("s", bad, none).code(), StatusCode::kInvalidArgument);
  // A first request measures the service times.
  std::promise<SubmitResult> first;
  ASSERT_TRUE(f.engine.Submit("s", ChainInput(5), [&](SubmitResult r) { first.set_value(std::move(r)); }).ok());
  SubmitResult r0 = first.get_future().get();
  ASSERT_TRUE(r0.output.ok()) << r0.output.status().message();
  // A burst: admitted while the estimate fits 0.8 x 1000 ms, refused at once beyond.
  std::atomic<int> done{0};
  int ok = 0, refused = 0;
  double retry = 0;
  for (int i = 0; i < 200; ++i) {
    double ra = 0;
    Status s = f.engine.Submit("s", ChainInput(i), [&](SubmitResult) { done.fetch_add(1); }, {}, &ra);
    if (s.ok()) {
      ++ok;
    } else {
      EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.message();
      ++refused;
      retry = std::max(retry, ra);
    }
  }
  EXPECT_GT(ok, 0);
  EXPECT_GT(refused, 0);
  EXPECT_GT(retry, 0);
  EngineReport r = f.engine.Shutdown(Milliseconds(10000));
  const TenantReport& t = Find(r, "s");
  EXPECT_EQ(t.rejected_by_reason.at("slo_admission"), static_cast<uint64_t>(refused));
  EXPECT_EQ(done.load(), ok);
  // Admitted requests finish within the SLO (1.5x slack for a loaded test machine).
  EXPECT_LT(t.latency.max_ms, 1500.0);
  ExpectEachRequestOnce(r, f.engine.TakeRequestLog());
}

TEST(EngineCore, ReconfiguresVariantCutsAndUnitsWhileRequestsFlow) {
  Fixture f;
  ASSERT_TRUE(f.engine
                  .Start(Spec("chain4@u0,closed=3,name=a;chain6@0-3:u0|3-:u1,rate=300,name=b;"
                              "chain4@u1,closed=1,name=c"))
                  .ok());
  Sleep(150);
  struct Step { const char* spec; bool rebuilt; };
  const Step steps[] = {
      {"chain6@u0,closed=3,name=a", true},                        // variant
      {"chain6@0-2:u1|2-4:u0|4-:u1,rate=300,name=b", true},       // cut points and units
      {"chain4@u0,rate=200,name=c", true},                        // unit and source
      {"chain6@u0,closed=3,name=a,slo=20", false},                // SLO only
      {"chain6@0-2:u1|2-4:u0|4-:u1,rate=150,name=b", false},      // source only
  };
  for (const Step& s : steps) {
    auto rep = f.engine.Reconfigure(Tenant(s.spec));
    ASSERT_TRUE(rep.ok()) << s.spec << ": " << rep.status().message();
    EXPECT_EQ(rep->rebuilt, s.rebuilt) << s.spec;
    EXPECT_EQ(rep->dropped, 0u) << s.spec;
    if (s.rebuilt) {
      EXPECT_GT(rep->new_generation, rep->old_generation);
    }
    Sleep(80);
  }
  ASSERT_TRUE(f.engine.AddTenant(Tenant("chain4@0-2:u1|2-:u0,closed=2,name=d")).ok());
  Sleep(100);
  auto removed = f.engine.RemoveTenant("d", Milliseconds(5000));
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_GT(removed->completed, 0u);
  EXPECT_FALSE(removed->active);
  EXPECT_EQ(f.engine.RemoveTenant("d", Milliseconds(0)).status().code(), StatusCode::kNotFound);
  Sleep(100);
  EngineSpec now = f.engine.spec();
  ASSERT_EQ(now.tenants.size(), 3u);
  EXPECT_EQ(now.tenants[0].model, "chain6");
  EXPECT_EQ(FormatStages(now.tenants[1].stages), "0-2:u1|2-4:u0|4-6:u1");

  EngineReport r = f.engine.Shutdown(Milliseconds(5000));
  std::vector<RequestRecord> log = f.engine.TakeRequestLog();
  ExpectEachRequestOnce(r, log);
  for (const TenantReport& t : r.tenants) {
    EXPECT_EQ(t.dropped, 0u) << t.name;
    EXPECT_EQ(t.completed + t.rejected, t.submitted) << t.name;
    EXPECT_GT(t.completed, 0u) << t.name;
  }
  EXPECT_EQ(Find(r, "a").reconfigurations, 2);
  EXPECT_EQ(Find(r, "b").reconfigurations, 2);
  // Requests were served by both the old and the new variant of "a".
  std::set<std::string> models_a;
  for (const auto& rec : log) {
    if (rec.tenant == "a" && rec.outcome == Outcome::kCompleted) models_a.insert(rec.model);
  }
  EXPECT_EQ(models_a, (std::set<std::string>{"chain4", "chain6"}));
}

TEST(EngineCore, ShutdownDeadlineDropsWhatIsLeftAndReportsIt) {
  Fixture f;
  ASSERT_TRUE(f.engine.Start(Spec("slow3@0-1:u0|1-2:u0|2-:u0,closed=8,queue=8")).ok());
  Sleep(100);
  EngineReport r = f.engine.Shutdown(Milliseconds(0));
  const TenantReport& t = Find(r, "slow3");
  EXPECT_GT(t.dropped, 0u);
  EXPECT_EQ(t.dropped_by_reason.at("shutdown"), t.dropped);
  EXPECT_EQ(t.in_flight, 0u);
  ExpectEachRequestOnce(r, f.engine.TakeRequestLog());
}

TEST(EngineCore, FailingStageIsDroppedWithItsError) {
  Fixture f;
  ASSERT_TRUE(f.engine.Start(Spec("faulty3@0-1:u0|1-:u1,closed=2")).ok());
  Sleep(100);
  EngineReport r = f.engine.Shutdown(Milliseconds(5000));
  const TenantReport& t = Find(r, "faulty3");
  EXPECT_EQ(t.completed, 0u);
  EXPECT_GT(t.dropped, 0u);
  ASSERT_EQ(t.dropped_by_reason.size(), 1u);
  EXPECT_EQ(t.dropped_by_reason.begin()->first, "error: block 1 failed");
  ExpectEachRequestOnce(r, f.engine.TakeRequestLog());
}

TEST(EngineCore, InvalidStartStartsNothing) {
  Fixture f;
  const char* bad[] = {"resnet19@u0", "chain4@0-2:u0|3-:u1", "chain4@gpu0", "chain4@u0,rate=0",
                       "chain4@0-2:u0|1-:u1", "chain4@2-2:u0|2-:u1"};
  for (const char* spec : bad) {
    Status s = f.engine.Start(Spec(spec));
    EXPECT_FALSE(s.ok()) << spec;
    EXPECT_TRUE(f.engine.Report().tenants.empty()) << spec;
  }
  EXPECT_EQ(f.engine.Reconfigure(Tenant("chain4@u0")).status().code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(f.engine.Start(Spec("chain4@u0,closed=1")).ok());
  EXPECT_EQ(f.engine.Start(Spec("chain4@u0")).code(), StatusCode::kFailedPrecondition);
  // Live changes are validated the same way and change nothing on error.
  EXPECT_EQ(f.engine.Reconfigure(Tenant("chain4@0-2:u0|3-:u1,name=chain4")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(f.engine.Reconfigure(Tenant("chain6@u0,name=zz")).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f.engine.AddTenant(Tenant("chain6@u0,name=chain4")).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(f.engine.AddTenant(Tenant("chain6@u9")).code(), StatusCode::kNotFound);
  EXPECT_EQ(f.engine.spec().tenants.size(), 1u);
  EngineReport r = f.engine.Shutdown(Milliseconds(5000));
  ExpectEachRequestOnce(r, f.engine.TakeRequestLog());
}

TEST(EngineCore, OnlineUnitsAndApply) {
  Fixture f;
  ASSERT_TRUE(f.engine.Start(Spec("chain4@u0,closed=1,name=a")).ok());
  Status s = f.engine.SetOnlineUnits({"u1"});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("tenant 'a'"), std::string::npos) << s.message();
  EXPECT_EQ(f.engine.SetOnlineUnits({"u7"}).code(), StatusCode::kNotFound);
  // Adding on an offline unit fails.
  ASSERT_TRUE(f.engine.SetOnlineUnits({"u0"}).ok());
  EXPECT_EQ(f.engine.AddTenant(Tenant("chain6@u1,name=b")).code(), StatusCode::kFailedPrecondition);
  // Apply: move "a" to u1, add "b", with only u1 online; a bad desired state changes nothing.
  EXPECT_FALSE(f.engine.Apply(Spec("chain6@u0,name=a", {"u1"})).ok());
  ASSERT_TRUE(f.engine.Apply(Spec("chain6@u1,closed=1,name=a;chain4@u1,rate=100,name=b", {"u1"})).ok());
  Sleep(150);
  EngineReport mid = f.engine.Report();
  EXPECT_FALSE(mid.units[0].online);
  EXPECT_TRUE(mid.units[1].online);
  EXPECT_EQ(mid.units[0].stages, 0);
  EXPECT_EQ(mid.units[1].stages, 2);
  // Apply without "b" removes it.
  ASSERT_TRUE(f.engine.Apply(Spec("chain6@u1,closed=1,name=a")).ok());
  EngineReport r = f.engine.Shutdown(Milliseconds(5000));
  ASSERT_EQ(r.tenants.size(), 2u);
  EXPECT_FALSE(Find(r, "b").active);
  ExpectEachRequestOnce(r, f.engine.TakeRequestLog());
}

TEST(EngineCore, WindowsAddUpToTheTotal) {
  Fixture f;
  ASSERT_TRUE(f.engine.Start(Spec("chain4@u0,rate=400,name=a")).ok());
  uint64_t completed = 0, submitted = 0;
  double busy = 0;
  for (int i = 0; i < 3; ++i) {
    Sleep(100);
    EngineReport w = f.engine.TakeWindow();
    EXPECT_TRUE(w.window);
    EXPECT_GE(w.elapsed_s, 0.09);  // Sleep(100) and then some, on a loaded machine
    completed += w.tenants[0].completed;
    submitted += w.tenants[0].submitted;
    busy += w.units[0].busy_ms;
  }
  EngineReport last = f.engine.Shutdown(Milliseconds(5000));
  // Requests finishing during shutdown belong to the window after the last TakeWindow.
  EngineReport tail = f.engine.TakeWindow();
  completed += tail.tenants[0].completed;
  submitted += tail.tenants[0].submitted;
  busy += tail.units[0].busy_ms;
  EXPECT_EQ(completed, last.tenants[0].completed);
  EXPECT_EQ(submitted, last.tenants[0].submitted);
  EXPECT_NEAR(busy, last.units[0].busy_ms, 1e-6);
}

TEST(EngineCore, WorkersArePinnedToTheirUnit) {
  std::vector<UnitInfo> host = HostUnits();
  if (host.size() < 2) GTEST_SKIP() << "needs two CPUs";
  Fixture f;
  ASSERT_TRUE(f.engine.Start(Spec("chain4@0-2:u1|2-:u0,closed=2")).ok());
  Sleep(150);
  f.engine.Shutdown(Milliseconds(5000));
  EXPECT_EQ(f.factory->CpusOf("chain4", 0), std::set<int>{host[1].cpu_id});
  EXPECT_EQ(f.factory->CpusOf("chain4", 2), std::set<int>{host[0].cpu_id});
}

}  // namespace
}  // namespace ecomap::engine
