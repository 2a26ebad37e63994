#!/bin/sh
# SPDX-License-Identifier: MIT
#
# A corpus replay that replays nothing must not pass: run a fuzz harness's
# plain main() (argv[1]) on an empty corpus directory ("empty") or on a
# directory that does not exist ("missing") and succeed only if it exits
# non-zero with a message naming the directory.
set -u
harness=$1
dir=$(mktemp -d) || exit 1
trap 'rmdir "$dir/corpus" "$dir" 2>/dev/null' EXIT
case $2 in
empty) mkdir "$dir/corpus" ;;
missing) ;;
*) echo "usage: $0 HARNESS empty|missing" >&2; exit 2 ;;
esac
out=$("$harness" "$dir/corpus" 2>&1)
rc=$?
echo "$harness on a $2 corpus: exit $rc: $out"
[ "$rc" -ne 0 ] && case $out in *"$dir/corpus"*) true ;; *) false ;; esac
