#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The whole mxtrace test suite, one command (as root on Debian 12):
#   1. install what is missing (scripts/deps.sh)
#   2. build with -Werror, run the unit tests
#   3. build with ASan/UBSan, run the unit tests again
#   4. start the lab (real nsd, unbound, Postfix in a private network
#      namespace) and run the integration tests against the sanitizer build
#   5. style (clang-format), banned functions, docs consistency
# Prints "N passed, N failed" as its last line; exits non-zero on any failure.
# Every counted unit is a TAP test point, a lab test, or a named check.
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

# Count TAP points of a meson test run from its JSON log.
count_tap() { # builddir label
	local log=$1/meson-logs/testlog.json p f
	if [[ ! -s $log ]]; then
		check "$2: test log" 1
		return
	fi
	read -r p f < <(/usr/bin/python3 - "$log" <<'PY'
import json, sys
p = f = 0
for line in open(sys.argv[1]):
    t = json.loads(line)
    for l in t.get("stdout", "").splitlines():
        if l.startswith("ok "):
            p += 1
        elif l.startswith("not ok "):
            f += 1
    if t.get("result") not in ("OK", "EXPECTEDFAIL") and "not ok" not in t.get("stdout", ""):
        f += 1  # crashed or failed without a TAP failure line
print(p, f)
PY
)
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	echo "$2: $p test points passed, $f failed"
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

echo "== unit tests"
meson test -C build-ci --suite unit --print-errorlogs >/dev/null
count_tap build-ci "unit"
meson test -C build-ci --suite fuzz --print-errorlogs >/dev/null
check "fuzz corpus replay" $?
meson test -C build-ci --suite docs --print-errorlogs >/dev/null
check "docs/diagnoses.md lists exactly the diagnosis codes" $?
meson test -C build-ci --suite headers --print-errorlogs >/dev/null
check "every public header compiles on its own" $?

echo "== sanitizer build (ASan/UBSan)"
if [[ ! -d build-asan ]]; then
	meson setup build-asan -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dbuildtype=debug >/dev/null
fi
meson setup --reconfigure build-asan >/dev/null && ninja -C build-asan
check "build with ASan/UBSan" $?
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
meson test -C build-asan --suite unit --print-errorlogs >/dev/null
count_tap build-asan "unit (sanitizers)"
meson test -C build-asan --suite fuzz --print-errorlogs >/dev/null
check "fuzz corpus replay (sanitizers)" $?

echo "== lab smoke test (standard tools against the lab: dig, swaks, posttls-finger)"
bash tests/integration/labsmoke.sh >/tmp/mxt-labsmoke.$$ 2>&1
rc=$?
grep -E '^(PASS|FAIL)' /tmp/mxt-labsmoke.$$ | sed 's/^/  /'
check "lab smoke test" $rc
rm -f /tmp/mxt-labsmoke.$$

echo "== lab integration tests (sanitizer build)"
export MXT_LAB_NS=${MXT_LAB_NS:-mxtci$$}
lab_down() { bash tests/lab/lab.sh down >/dev/null 2>&1 || true; }
trap lab_down EXIT
if bash tests/lab/lab.sh up; then
	check "lab starts" 0
	for suite in tests/integration/test_*.py; do
		out=$(MXTRACE=$ROOT/build-asan/src/cli/mxtrace timeout 1200 /usr/bin/python3 "$suite" 2>&1)
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
