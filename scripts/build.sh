#!/usr/bin/env bash
# Configures and builds Ecomap into a build folder.
#   scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Defaults: BUILD_DIR=build, RelWithDebInfo, all parts (libtorch included).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build}
shift || true
jobs=${ECOMAP_JOBS:-$(nproc)}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$dir.configure.log" 2>&1 || {
  cat "$dir.configure.log"; echo "build: cmake configure failed (log above)"; exit 1; }
cmake --build "$dir" -j "$jobs"
