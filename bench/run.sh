#!/usr/bin/env bash
# Side-by-side benchmark: wscope vs wscat 6 vs a bare gobwas/ws client.
# Needs Go and npm. Usage: bench/run.sh [--quick] [other flags of go run ./bench/run -h]
# See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./bench/run "$@"
