#!/usr/bin/env bash
# Runs clang-tidy (config: .clang-tidy) over the project's non-torch sources, using the
# compile database of a build folder (default: build-asan, which has no libtorch code).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-asan}
[ -f "$dir/compile_commands.json" ] || { echo "lint: no $dir/compile_commands.json; run scripts/test.sh first"; exit 1; }
files=$(git ls-files 'src/*.cc' | grep -v -E 'torch|_bench\.cc$')
echo "$files" | xargs -P "$(nproc)" -n 4 clang-tidy -p "$dir" --quiet 2>/dev/null | grep -E 'warning:|error:' || true
