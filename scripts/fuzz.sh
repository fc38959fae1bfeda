#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan+UBSan, build dir $FUZZ_BUILD) and
# runs each for $FUZZ_SECONDS (or $FUZZ_RUNS executions), niced. Exits non-zero
# when any target finds a crash; the input is kept in $FUZZ_BUILD/crashes/.
# The seeds in fuzz/corpus/<target>/ are read, never written: new inputs go
# to $FUZZ_BUILD/corpus/<target>/ (FUZZ_MERGE=1 merges them into the seeds).
# Usage: scripts/fuzz.sh [target...]      (default: every target)
set -uo pipefail

cd "$(dirname "$0")/.."
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
runs=${FUZZ_RUNS:-}
merge=${FUZZ_MERGE:-0}
all_targets=(ws_frame ws_inflate ws_upgrade static_path backend_request envelope_rpc datasync_filter jwt config redis_url)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${all_targets[@]}")

export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
if [ ! -f "$build/build.ninja" ]; then
  cc=$(command -v clang || command -v clang-14); cxx=$(command -v clang++ || command -v clang++-14)
  CC=$cc CXX=$cxx cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSNORKY_FUZZ=ON \
    -DSNORKY_BUILD_TESTS=OFF -DSNORKY_BUILD_BENCH=OFF -DSNORKY_BUILD_EXAMPLES=OFF > /dev/null || exit 1
fi
build_targets=()
for t in "${targets[@]}"; do build_targets+=("fuzz_$t"); done
nice cmake --build "$build" --target "${build_targets[@]}" || exit 1

# UBSan reports are fatal; fuzz/ubsan.supp may name known findings owned elsewhere.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$PWD/fuzz/ubsan.supp"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"

failed=()
mkdir -p "$build/crashes"
for t in "${targets[@]}"; do
  scratch="$build/corpus/$t"
  mkdir -p "$scratch"
  limit=(-max_total_time="$seconds")
  [ -n "$runs" ] && limit=(-runs="$runs")
  dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=(-dict="fuzz/dict/$t.dict")
  echo "== fuzz_$t (${runs:+$runs runs}${runs:-$seconds s})"
  # The first folder receives new inputs; the seeds are only read.
  nice -n 19 "$build/fuzz/fuzz_$t" "${limit[@]}" "${dict[@]}" -print_final_stats=1 \
    -artifact_prefix="$build/crashes/$t-" "$scratch" "fuzz/corpus/$t" > "$build/fuzz_$t.log" 2>&1
  rc=$?
  grep -E '^(#[0-9]+\s+DONE|stat::number_of_executed_units|stat::average_exec_per_sec)' "$build/fuzz_$t.log" | tr '\n' ' '
  echo
  if [ $rc -ne 0 ]; then
    failed+=("$t")
    echo "!! fuzz_$t failed (exit $rc); log: $build/fuzz_$t.log"
    grep -E 'ERROR|runtime error|invariant failed|Test unit written' "$build/fuzz_$t.log" | head -5
  elif [ "$merge" = 1 ]; then
    "$build/fuzz/fuzz_$t" -merge=1 "fuzz/corpus/$t" "$scratch" > /dev/null 2>&1
  fi
done

if [ ${#failed[@]} -ne 0 ]; then
  echo "fuzzing found crashes in: ${failed[*]} (inputs in $build/crashes/, see docs/fuzzing.md)"
  exit 1
fi
echo "fuzzing: no crash in ${targets[*]}"
