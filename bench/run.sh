#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks: build, start a lab of their own, run bench.py, tear down.
# Usage (root, Debian 12): bench/run.sh [ITERATIONS]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/deps.sh
[[ -d build ]] || meson setup build -Dbuildtype=release >/dev/null
ninja -C build >/dev/null
export MXT_LAB_NS=${MXT_LAB_NS:-mxtbench}
trap 'bash tests/lab/lab.sh down >/dev/null 2>&1 || true' EXIT
bash tests/lab/lab.sh up >/dev/null
/usr/bin/python3 bench/bench.py "${1:-20}"
