#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Lint the metrics renderer's fixture exposition (tests/unit/test_metrics.c)
# in both formats with the tools Prometheus users run: promtool (Debian 12's
# Prometheus 2.42 lints the text format 0.0.4) and the strict OpenMetrics
# 1.0 parser of python3-prometheus-client.  TAP output; a missing tool is a
# failure, not a skip (scripts/deps.sh installs both).
# Usage: metrics_promtool.sh PATH/TO/test_metrics
set -u
exe=$1
n=0
fail=0
point() { # status, name
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fail=1
	fi
}
for fmt in openmetrics prometheus; do
	out=$("$exe" --dump "$fmt" 2>&1)
	point $? "fixture renders as $fmt"
	lint=$(printf '%s\n' "$out" | promtool check metrics 2>&1)
	rc=$?
	[ -n "$lint" ] && printf '%s\n' "$lint" | sed 's/^/# /'
	[ $rc = 0 ] && [ -z "$lint" ]
	point $? "promtool check metrics accepts the $fmt exposition"
done
out=$("$exe" --dump openmetrics)
err=$(printf '%s\n' "$out" | /usr/bin/python3 -c '
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = list(text_string_to_metric_families(sys.stdin.read()))
assert len(fams) >= 12, [f.name for f in fams]
' 2>&1)
rc=$?
[ -n "$err" ] && printf '%s\n' "$err" | sed 's/^/# /'
point $rc "the OpenMetrics 1.0 parser accepts the openmetrics exposition"
echo "1..$n"
exit $fail
