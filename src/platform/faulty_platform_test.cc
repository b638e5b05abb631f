#include "platform/faulty_platform.h"

#include <gtest/gtest.h>

#include "platform/sim/calibration.h"
#include "platform/sim/xavier_sim.h"

namespace ecomap::platform {
namespace {

std::unique_ptr<Platform> Sim() {
  PlatformOptions o;
  o.model_lookup = CalibrationLookup();
  return std::make_unique<XavierSim>(o);
}

TEST(FaultyPlatform, FailsEveryNthCallOfEachMethod) {
  struct Case {
    FaultyPlatform::Faults faults;
    std::vector<bool> read_power_ok;  // outcome of successive ReadPower calls
    std::vector<bool> apply_ok;       // outcome of successive ApplyMode calls
  };
  FaultyPlatform::Faults never;
  FaultyPlatform::Faults power3;
  power3.read_power_every = 3;
  FaultyPlatform::Faults apply2;
  apply2.apply_mode_every = 2;
  apply2.code = StatusCode::kPermissionDenied;
  const Case cases[] = {
      {never, {true, true, true, true}, {true, true}},
      {power3, {true, true, false, true, true, false}, {true, true}},
      {apply2, {true, true}, {true, false, true, false}},
  };
  for (const Case& c : cases) {
    FaultyPlatform p(Sim(), c.faults);
    for (size_t i = 0; i < c.read_power_ok.size(); ++i) {
      auto r = p.ReadPower();
      EXPECT_EQ(r.ok(), c.read_power_ok[i]) << "ReadPower call " << i + 1;
      if (!r.ok()) {
        EXPECT_EQ(r.status().code(), c.faults.code);
        EXPECT_NE(r.status().message().find("injected fault in ReadPower"), std::string::npos);
      }
    }
    for (size_t i = 0; i < c.apply_ok.size(); ++i) {
      Status s = p.ApplyMode(0);
      EXPECT_EQ(s.ok(), c.apply_ok[i]) << "ApplyMode call " << i + 1;
      if (!s.ok()) {
        EXPECT_EQ(s.code(), c.faults.code);
      }
    }
  }
}

TEST(FaultyPlatform, ForwardsEverythingElse) {
  FaultyPlatform::Faults f;
  f.evaluate_every = 2;
  FaultyPlatform p(Sim(), f);
  EXPECT_EQ(p.info().name, "xavier-sim");
  auto first = p.Evaluate(TypicalLoad(3));
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(*p.CurrentMode(), 3);  // the wrapped simulator switched mode
  EXPECT_FALSE(p.Evaluate(TypicalLoad(3)).ok());
  Configuration bad = TypicalLoad(3);
  bad.power_mode = 42;
  EXPECT_EQ(p.Validate(bad).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace ecomap::platform
