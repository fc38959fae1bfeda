#!/usr/bin/env bash
# Runs clang-tidy (the checks of .clang-tidy) over every source file in src/,
# two at a time; exits non-zero on any finding. Its compile commands come from
# a configure-only folder without precompiled headers (GCC's cannot be read
# by clang). Usage: scripts/tidy.sh [file...]   (default: src/**/*.cpp)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TIDY_BUILD:-build-tidy}
tidy=$(command -v clang-tidy-14 || command -v clang-tidy)
cmake -S . -B "$build" -G Ninja -DCMAKE_DISABLE_PRECOMPILE_HEADERS=ON \
  -DSNORKY_BUILD_TESTS=OFF -DSNORKY_BUILD_BENCH=OFF -DSNORKY_BUILD_EXAMPLES=OFF > /dev/null
files=("$@")
[ ${#files[@]} -eq 0 ] && mapfile -t files < <(git ls-files 'src/*.cpp')
echo "clang-tidy: ${#files[@]} files"
# -quiet leaves only the findings; each file's output is printed whole.
printf '%s\n' "${files[@]}" | xargs -P "${TIDY_JOBS:-2}" -I{} sh -c \
  'out=$("$0" -quiet -p "$1" "$2" 2>&1) || { printf "%s\n" "$out" | grep -v "warnings generated" ; exit 1; }' \
  "$tidy" "$build" {} && echo "clang-tidy: no finding"
