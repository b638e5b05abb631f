#!/usr/bin/env bash
# The README's first command: installs what is missing, builds, and runs Ecomap's main job on
# its embedded defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
echo
echo "== ecomap carbon stats on the bundled California ISO 2023 trace (Electricity Maps, ODbL) =="
./build/ecomap carbon stats --trace data/carbon/US-CAL-CISO_2023_hourly.csv
