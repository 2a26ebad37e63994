#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The latency lab and benchmarks B1-B4 of issue 9, one command (root,
# Debian 12): build, generate 1,000 lab domains, bring up the lab
# (tests/lab/lab.sh with MXT_LAB_EXTRA) with two bench Postfix instances,
# start bench/delayproxy so every lab MX and the resolver sit behind an
# emulated round-trip time, run the benchmarks inside the lab namespace,
# tear everything down.  Loopback only.
#
# Usage: bench/latency.sh [B1|B2|B3|B4|all]...
#   MXT_LAB_NS  lab namespace (default mxtlat)
#   RTT_MS      emulated round-trip time (default 50)
#   MXTRACE     binary to measure (default build/src/cli/mxtrace)
#   and the knobs listed in bench/latency.py (BENCH_RUNS, B3_BUDGET, ...).
# Output: stdout, and a copy in tests/lab/run/$MXT_LAB_NS.latency/.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
export MXT_LAB_NS=${MXT_LAB_NS:-mxtlat}
RTT_MS=${RTT_MS:-50}
[[ $RTT_MS =~ ^[0-9]+$ ]] || { echo "latency.sh: bad RTT_MS" >&2; exit 2; }
which=()
for b in "${@:-all}"; do
	case $b in
	all) which+=(B1 B2 B3 B4) ;;
	B[1-4]) which+=("$b") ;;
	*) echo "usage: $0 [B1|B2|B3|B4|all]..." >&2; exit 2 ;;
	esac
done

bash scripts/deps.sh
[[ -d build ]] || meson setup build -Dbuildtype=release >/dev/null
ninja -C build >/dev/null
export MXTRACE=${MXTRACE:-$ROOT/build/src/cli/mxtrace}

OUT=$ROOT/tests/lab/run/$MXT_LAB_NS.latency
rm -rf "$OUT"
mkdir -p "$OUT"
/usr/bin/python3 bench/latency.py gen "$OUT" "$RTT_MS"

export MXT_LAB_EXTRA=$OUT
trap 'bash tests/lab/lab.sh down >/dev/null 2>&1 || true' EXIT
bash tests/lab/lab.sh up >/dev/null

# The proxy lives in the namespace; "lab.sh down" stops it with the rest.
ip netns exec "$MXT_LAB_NS" "$ROOT/build/bench/delayproxy" -d "$(awk -v r="$RTT_MS" 'BEGIN { print r / 2 }')" \
    -t 7200 -f "$OUT/proxy.conf" >"$OUT/proxy.out" 2>"$OUT/proxy.log" &
echo $! >"$OUT/proxy.pid"
for _ in $(seq 100); do
	grep -q ready "$OUT/proxy.out" 2>/dev/null && break
	sleep 0.05
done
grep -q ready "$OUT/proxy.out" || { cat "$OUT/proxy.log" >&2; exit 1; }

ip netns exec "$MXT_LAB_NS" /usr/bin/python3 bench/latency.py run "$OUT" "${which[@]}" |
    tee "$OUT/results-$(date -u +%Y%m%dT%H%M%SZ).txt"
