#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Check that docs/diagnoses.md documents exactly the diagnosis codes of
# src/report/diagnoses.def: every code has a "### `code`" heading, no heading
# names a code the catalogue lacks, and neither list has duplicates.
# Prints one PASS or FAIL line per check; exits 1 on any FAIL.
#
# Usage: tests/docs_codes.sh [SOURCE_DIR]   (default: the repository root)
set -eu

src=${1:-$(dirname "$0")/..}
def=$src/src/report/diagnoses.def
doc=$src/docs/diagnoses.md
fail=0

for f in "$def" "$doc"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: cannot read $f"
		exit 1
	fi
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# MXT_DIAG(IDENT, "dotted.code", ... starts a line in the catalogue.
sed -n 's/^MXT_DIAG([A-Z0-9_]*, *"\([^"]*\)".*/\1/p' "$def" >"$tmp/def.all"
# ### `dotted.code` headings in the docs.
# shellcheck disable=SC2016 # the backquotes are literal
sed -n 's/^### `\([^`]*\)`[[:space:]]*$/\1/p' "$doc" >"$tmp/doc.all"

sort "$tmp/def.all" >"$tmp/def"
sort "$tmp/doc.all" >"$tmp/doc"

ndef=$(wc -l <"$tmp/def" | tr -d ' ')
ndoc=$(wc -l <"$tmp/doc" | tr -d ' ')
if [ "$ndef" -eq 0 ]; then
	echo "FAIL: no MXT_DIAG entries found in $def"
	exit 1
fi

check_dups() { # $1 = label, $2 = sorted list
	d=$(uniq -d "$2")
	if [ -n "$d" ]; then
		for c in $d; do
			echo "FAIL: $1 lists $c more than once"
		done
		fail=1
	else
		echo "PASS: $1 has no duplicate codes"
	fi
}
check_dups "diagnoses.def" "$tmp/def"
check_dups "docs/diagnoses.md" "$tmp/doc"

sort -u "$tmp/doc" >"$tmp/doc.u"
sort -u "$tmp/def" >"$tmp/def.u"
missing=$(comm -23 "$tmp/def.u" "$tmp/doc.u")
extra=$(comm -13 "$tmp/def.u" "$tmp/doc.u")

if [ -n "$missing" ]; then
	for c in $missing; do
		echo "FAIL: $c is in diagnoses.def but has no '### \`$c\`' heading in docs/diagnoses.md"
	done
	fail=1
else
	echo "PASS: all $ndef codes of diagnoses.def are documented"
fi
if [ -n "$extra" ]; then
	for c in $extra; do
		echo "FAIL: docs/diagnoses.md documents $c, which diagnoses.def does not have"
	done
	fail=1
else
	echo "PASS: docs/diagnoses.md documents no code beyond diagnoses.def ($ndoc headings)"
fi

exit $fail
