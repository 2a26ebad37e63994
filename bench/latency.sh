#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The latency lab and benchmarks B1-B4 of issue 9, one command (root,
# Debian 12): build, generate 1,000 lab domains, bring up the lab
# (tests/lab/lab.sh with MXT_LAB_EXTRA) with two bench Postfix instances,
# start bench/smtpsink and bench/delayproxy so every lab MX and the resolver sit behind an
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

# Start a helper in the namespace ("lab.sh down" stops it with the rest)
# and wait for its "ready" line: NAME CMD...
start() {
	local name=$1
	shift
	ip netns exec "$MXT_LAB_NS" "$@" >"$OUT/$name.out" 2>"$OUT/$name.log" &
	echo $! >"$OUT/$name.pid"
	for _ in $(seq 100); do
		grep -q ready "$OUT/$name.out" 2>/dev/null && return 0
		sleep 0.05
	done
	cat "$OUT/$name.log" >&2
	exit 1
}
# smtpsink: the cheap server B3 also measures against (SIGUSR1 to the proxy
# switches the healthy MX from the bench Postfix instances to it).
LABRUN=$ROOT/tests/lab/run/$MXT_LAB_NS
start sink "$ROOT/build/bench/smtpsink" 127.0.3.3:25 "$LABRUN/ca/bmx1.pem" "$LABRUN/ca/bmx1.key" \
    bsink.bench.test
start proxy "$ROOT/build/bench/delayproxy" -d "$(awk -v r="$RTT_MS" 'BEGIN { print r / 2 }')" \
    -a 127.0.3.3:25 -t 7200 -f "$OUT/proxy.conf"

ip netns exec "$MXT_LAB_NS" /usr/bin/python3 bench/latency.py run "$OUT" "${which[@]}" |
    tee "$OUT/results-$(date -u +%Y%m%dT%H%M%SZ).txt"
