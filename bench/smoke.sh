#!/usr/bin/env bash
# Quick test of the load generator against the real server (ctest bench_smoke):
# 50 connections over 5 channels, 2 s of backend publishing at 20/s; the
# generator's --check fails unless every connection subscribed, every expected
# delivery arrived and nothing errored.
# Usage: smoke.sh <snorky binary> <snorky-bench binary>
set -euo pipefail
SNORKY=$1
SNORKY_BENCH=$2
SEND_FLOOR=unused
BENCH_NICE=0  # a test, not a measurement
source "$(dirname "$0")/lib.sh"
start_server
bench --label smoke -c 50 --channels 5 --rate 20 -d 2 --drain 0.5 --check
