#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run one lab integration suite (tests/integration/test_NAME.py) in a lab
# of its own: bring the lab up, run the suite against $MXTRACE, take the
# lab down.  Used by "meson test --suite lab" (meson -Dlab_tests=enabled);
# scripts/test.sh runs every suite in one lab instead.  Exit 77 (meson's
# skip) when not root: the lab needs network namespaces.
#   usage: lab-suite.sh MXTRACE SUITE.py
#   MXT_LAB_NS  namespace (default mxtmeson)
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ $# != 2 ]]; then
	echo "usage: $0 MXTRACE SUITE.py" >&2
	exit 2
fi
if [[ $(id -u) != 0 ]]; then
	echo "lab-suite: SKIP (needs root for network namespaces)"
	exit 77
fi
export MXTRACE=$1 MXT_LAB_NS=${MXT_LAB_NS:-mxtmeson}
trap 'bash "$ROOT/tests/lab/lab.sh" down >/dev/null 2>&1 || true' EXIT
bash "$ROOT/tests/lab/lab.sh" up >/dev/null || exit 1
/usr/bin/python3 "$2"
