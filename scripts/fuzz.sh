#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Long fuzzing run (docs/security.md, "Fuzzing"): build every harness of
# tests/fuzz as a libFuzzer target with ASan and UBSan (clang, meson
# -Dfuzzing=true) in build-fuzz-long, then run each one for SECONDS (default
# 600) from a copy of its corpus, at most JOBS (default 2) at a time under
# nice 19.  Logs and crash inputs go to OUT (default /tmp/mxt-fuzz); the
# last lines print, per harness: seconds, executions, coverage, corpus size
# and findings.  A finding's input is OUT/NAME/crash-* (or leak-, timeout-,
# oom-): copy it into tests/fuzz/corpus/NAME/ once the bug is fixed.
#
# Usage: scripts/fuzz.sh [-t SECONDS] [-j JOBS] [-o OUT] [HARNESS...]
# No network: the harnesses parse bytes only.
set -u
cd "$(dirname "$0")/.." || exit 1

secs=600 jobs=2 out=/tmp/mxt-fuzz
while getopts t:j:o: opt; do
	case $opt in
	t) secs=$OPTARG ;;
	j) jobs=$OPTARG ;;
	o) out=$OPTARG ;;
	*) echo "usage: $0 [-t SECONDS] [-j JOBS] [-o OUT] [HARNESS...]" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))

if [[ ! -d build-fuzz-long ]]; then
	CC=clang meson setup build-fuzz-long -Dfuzzing=true -Db_sanitize=address,undefined \
	    -Db_lundef=false -Dbuildtype=debugoptimized >/dev/null || exit 1
fi
ninja -C build-fuzz-long >/dev/null || exit 1

if [[ $# -eq 0 ]]; then
	for f in tests/fuzz/fuzz_*.c; do
		f=${f#tests/fuzz/fuzz_}
		set -- "$@" "${f%.c}"
	done
fi
mkdir -p "$out"

# One harness: fuzz from a copy of its corpus; the summary goes to NAME.sum.
one() {
	local name=$1 dir=$out/$1
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	cp tests/fuzz/corpus/"$name"/* "$dir/corpus/"
	# -timeout is generous: on a shared, loaded machine a slow execution is
	# not a hang.
	local bin=build-fuzz-long/tests/fuzz/fuzz_$name
	[[ -x $bin ]] || bin=build-fuzz-long/tests/fuzz_$name
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    nice -n 19 "$bin" -max_total_time="$secs" -timeout=300 \
	    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$dir/" "$dir/corpus" \
	    >"$dir/log" 2>&1
	local rc=$? execs cov units findings
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
	cov=$(grep -oE 'cov: [0-9]+' "$dir/log" | tail -n 1 | awk '{print $2}')
	units=$(find "$dir/corpus" -type f | wc -l)
	findings=$(find "$dir" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' \
	    -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
	printf '%-12s %5ss exit %-3s execs %-10s cov %-5s corpus %-5s findings %s\n' "$name" \
	    "$secs" "$rc" "${execs:-?}" "${cov:-?}" "$units" "$findings" >"$dir.sum"
}

for name in "$@"; do
	while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do
		wait -n
	done
	one "$name" &
done
wait
for name in "$@"; do
	cat "$out/$name.sum"
done
