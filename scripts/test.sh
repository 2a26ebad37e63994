#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The whole mxtrace test suite, one command (as root on Debian 12):
#   1. install what is missing (scripts/deps.sh)
#   2. build with -Werror, run the unit tests
#   3. build with ASan/UBSan, run the unit tests again
#   4. start the lab (real nsd, unbound, Postfix in a private network
#      namespace) and run the integration tests against the sanitizer build
#   5. build the fuzz harnesses as libFuzzer targets with clang (-Werror),
#      replay their corpora and fuzz each for a few seconds
#   6. style (clang-format), banned functions, docs consistency
# Prints "N passed, N failed" as its last line; exits non-zero on any failure.
# Every counted unit is a test case: a meson test (one unit-test program, one
# header, one corpus replay), a lab test function, a lab smoke check or a
# named check.  The TAP assertions inside the unit tests are printed as a
# detail, not counted.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT" || exit 2
PASS=0
FAIL=0
FAILED=()

check() { # name, status
	if [[ $2 == 0 ]]; then
		PASS=$((PASS + 1))
		echo "PASS $1"
	else
		FAIL=$((FAIL + 1))
		FAILED+=("$1")
		echo "FAIL $1"
	fi
}

# Count the meson tests of the last "meson test" run in BUILDDIR, one case
# each (a skipped test counts as failed: the suite has no optional tests);
# print the TAP assertions inside them as a detail.
count_meson() { # builddir label
	local log=$1/meson-logs/testlog.json p f detail
	if [[ ! -s $log ]]; then
		check "$2: test log" 1
		return
	fi
	{ read -r p f; read -r detail; } < <(/usr/bin/python3 - "$log" <<'PY'
import json, sys
p = f = tp = tf = 0
bad = []
for line in open(sys.argv[1]):
    t = json.loads(line)
    for l in t.get("stdout", "").splitlines():
        if l.startswith("ok "):
            tp += 1
        elif l.startswith("not ok "):
            tf += 1
    if t.get("result") in ("OK", "EXPECTEDFAIL"):
        p += 1
    else:
        f += 1
        bad.append("%s (%s)" % (t.get("name"), t.get("result")))
print(p, f)
print("%d TAP assertions passed, %d failed%s" % (tp, tf, "; failed: " + ", ".join(bad) if bad else ""))
PY
)
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	echo "$2: $p tests passed, $f failed ($detail)"
	[[ $f == 0 ]] || FAILED+=("$2")
}

echo "== dependencies"
bash scripts/deps.sh
check "dependencies installed" $?

echo "== build (-Werror)"
if [[ ! -d build-ci ]]; then
	meson setup build-ci --werror -Dbuildtype=debugoptimized >/dev/null
fi
meson setup --reconfigure build-ci >/dev/null && ninja -C build-ci
check "build with -Werror" $?

# Meson's timeouts (30 s unless a test sets one) times MESON_TIMEOUT_X: the
# CI machine may be loaded (2 cores, load 10-40) and the sanitizer build is
# 2-5 times slower; a timeout here should mean a hang, not a busy machine.
MESON_TIMEOUT_X=${MESON_TIMEOUT_X:-4}

echo "== unit tests, corpus replay, docs codes, header self-containment, install"
meson test -C build-ci -t "$MESON_TIMEOUT_X" --suite unit --suite fuzz --suite docs --suite headers --suite install \
    --print-errorlogs >/dev/null
count_meson build-ci "meson tests"

echo "== sanitizer build (ASan/UBSan)"
if [[ ! -d build-asan ]]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dbuildtype=debug >/dev/null
fi
meson setup --reconfigure build-asan >/dev/null && ninja -C build-asan
check "build with ASan/UBSan" $?
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-asan -t "$MESON_TIMEOUT_X" --suite unit --suite fuzz --print-errorlogs >/dev/null
count_meson build-asan "meson tests (sanitizers)"

echo "== libFuzzer build (clang, -Dfuzzing=true, -Werror)"
if [[ ! -d build-fuzz ]]; then
	CC=clang meson setup build-fuzz --werror -Dfuzzing=true -Dbuildtype=debugoptimized \
	    >/dev/null
fi
meson setup --reconfigure build-fuzz >/dev/null && ninja -C build-fuzz
check "build with clang and libFuzzer" $?
meson test -C build-fuzz -t "$MESON_TIMEOUT_X" --suite fuzz --print-errorlogs >/dev/null
count_meson build-fuzz "meson tests (clang)"
for h in build-fuzz/tests/fuzz_* build-fuzz/tests/fuzz/fuzz_*; do
	[[ -f $h && -x $h && $h != *_replay ]] || continue
	name=$(basename "$h")
	work=$(mktemp -d)
	cp tests/fuzz/corpus/"${name#fuzz_}"/* "$work"/
	# A crash input is kept in build-fuzz/artifacts/ for the corpus.
	mkdir -p build-fuzz/artifacts
	"$h" -max_total_time=10 -timeout=5 -rss_limit_mb=1024 \
	    -artifact_prefix="build-fuzz/artifacts/$name-" "$work" >"$work.log" 2>&1
	rc=$?
	tail -n 2 "$work.log"
	check "$name: libFuzzer for 10 s from its corpus" $rc
	rm -rf "$work" "$work.log"
done

echo "== lab smoke test (standard tools against the lab: dig, swaks, posttls-finger)"
bash tests/integration/labsmoke.sh >/tmp/mxt-labsmoke.$$ 2>&1
rc=$?
grep -E '^(PASS|FAIL)' /tmp/mxt-labsmoke.$$ | sed 's/^/  /'
# Each smoke check is one case; a run that ends without its summary fails.
line=$(grep -E '^labsmoke: [0-9]+ passed, [0-9]+ failed' /tmp/mxt-labsmoke.$$ | tail -n 1)
if [[ -n $line ]]; then
	p=$(awk '{print $2}' <<<"$line")
	f=$(awk '{print $4}' <<<"$line")
	echo "lab smoke: $p checks passed, $f failed"
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	[[ $f == 0 && $rc == 0 ]] || FAILED+=("labsmoke")
	[[ $f != 0 || $rc == 0 ]] || check "lab smoke test exit status" "$rc"
else
	check "lab smoke test finished" 1
fi
rm -f /tmp/mxt-labsmoke.$$

echo "== lab integration tests (sanitizer build)"
export MXT_LAB_NS=${MXT_LAB_NS:-mxtci$$}
lab_down() { bash tests/lab/lab.sh down >/dev/null 2>&1 || true; }
trap lab_down EXIT
if bash tests/lab/lab.sh up; then
	check "lab starts" 0
	# The time limit catches a hung suite only: test_agreement.py alone
	# took 1012 s at load 30 (its limit was 1200 s).
	for suite in tests/integration/test_*.py; do
		out=$(MXTRACE=$ROOT/build-asan/src/cli/mxtrace timeout 3600 /usr/bin/python3 "$suite" 2>&1)
		echo "$out"
		line=$(grep -E '^lab: [0-9]+ passed, [0-9]+ failed$' <<<"$out" | tail -n 1)
		if [[ -n $line ]]; then
			p=$(awk '{print $2}' <<<"$line")
			f=$(awk '{print $4}' <<<"$line")
			PASS=$((PASS + p))
			FAIL=$((FAIL + f))
			[[ $f == 0 ]] || FAILED+=("$(basename "$suite")")
		else
			check "$(basename "$suite") finished" 1
		fi
	done
else
	check "lab starts" 1
fi
lab_down
trap - EXIT

echo "== style and hygiene"
mapfile -t CFILES < <(git ls-files -co --exclude-standard -- 'src/*.c' 'src/*.h' 'include/*.h' 'tests/unit/*.c' 'tests/unit/*.h')
clang-format --dry-run -Werror "${CFILES[@]}" >/dev/null 2>&1
check "clang-format (KNF style)" $?
banned=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strncpy|gets|atoi|strtok|system)\s*\(' src/ -r || true)
[[ -z $banned ]] && check "no banned functions in src/" 0 || { echo "$banned"; check "no banned functions in src/" 1; }
groff -man -Tutf8 -ww docs/mxtrace.1 >/dev/null 2>/tmp/mxt-groff.$$ && [[ ! -s /tmp/mxt-groff.$$ ]]
check "man page renders without warnings" $?
rm -f /tmp/mxt-groff.$$
/usr/bin/python3 -c 'import json,sys,jsonschema; jsonschema.Draft7Validator.check_schema(json.load(open(sys.argv[1])))' docs/mxtrace.schema.json
check "docs/mxtrace.schema.json is a valid JSON Schema" $?

echo
if ((FAIL > 0)); then
	echo "failed: ${FAILED[*]}"
fi
echo "$PASS passed, $FAIL failed"
[[ $FAIL == 0 ]]
