#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs Ecomap's main job on
# its embedded defaults.
#
#   scripts/run.sh            # deps + build + the main job
#   ECOMAP_BUILD_DIR=dir      # build folder (default: build)
#   ECOMAP_SKIP_BUILD=1       # use the existing build as it is
#
# Structure: 1. dependencies, 2. build, 3. main_job (below). The main job today is the
# trace-driven comparison of the controllers (`ecomap replay`) on the shipped default scenario
# and one bundled week of carbon data, then one minute of the live daemon on real inference
# (`ecomap serve --demo`: the Spanish 2023 trace at one hour per 5 s, two libtorch tenants).
# ECOMAP_DEMO_SECONDS sets the demo's length (default 180; 0 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${ECOMAP_BUILD_DIR:-build}

if [ "${ECOMAP_SKIP_BUILD:-0}" != 1 ]; then
  scripts/install-deps.sh
  scripts/build.sh "$dir"
fi

main_job() {
  # One week of California ISO 2023 (Electricity Maps data, ODbL), the default 4-tenant
  # scenario (data/scenarios/default.toml), every controller, on the simulated Jetson AGX Xavier.
  # Prints one table per controller and Ecomap's savings against each baseline; an HTML report
  # with plots goes to $dir/replay-report/index.html (inside the ignored build folder). All device figures are simulated.
  echo
  echo "== ecomap replay: controllers compared over a week of US-CAL-CISO 2023 (simulated xavier-sim) =="
  "./$dir/ecomap" replay \
    --trace data/carbon/US-CAL-CISO_2023_hourly.csv \
    --scenario data/scenarios/default.toml \
    --start 2023-06-05 --days 7 \
    --controllers ecomap,maxn,throughput,powercap,clover,perfect-predictor,energy \
    --report "$dir/replay-report"
  local demo_s=${ECOMAP_DEMO_SECONDS:-180}
  if [ "$demo_s" != 0 ]; then
    echo
    echo "== ecomap serve --demo: the live daemon on real libtorch inference for ${demo_s} s =="
    "./$dir/ecomap" serve --demo --demo-seconds "$demo_s"
  fi
}

main_job
