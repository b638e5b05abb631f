#!/usr/bin/env bash
# The README's second command: installs what is missing, builds, and runs the whole test suite:
#   1. the full build (libtorch parts included) under CTest;
#   2. the project's non-torch code again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Set ECOMAP_SKIP_SANITIZE=1 to skip step 2.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=${ECOMAP_JOBS:-$(nproc)}

scripts/build.sh build
(cd build && ctest --output-on-failure -j "$jobs")

if [ "${ECOMAP_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== sanitizer build (ASan + UBSan, non-torch code) =="
  scripts/build.sh build-asan -DECOMAP_SANITIZE=ON -DECOMAP_BUILD_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=Debug
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
     ctest --output-on-failure -j "$jobs")
fi
