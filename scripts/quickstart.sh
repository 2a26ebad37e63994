#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Quick start, one command (as root on Debian 12): install what is missing,
# build mxtrace, and run it.
#   scripts/quickstart.sh            run against the bundled lab: a private
#                                    network namespace with a real DNS tree
#                                    and real Postfix servers (no internet
#                                    needed; nothing leaves the machine)
#   scripts/quickstart.sh DOMAIN     run against a real domain on the internet
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
bash scripts/deps.sh
if [[ ! -d build ]]; then
	meson setup build >/dev/null
fi
ninja -C build >/dev/null
echo "built: $ROOT/build/src/cli/mxtrace"

if [[ $# -gt 0 ]]; then
	exec ./build/src/cli/mxtrace "$@"
fi

export MXT_LAB_NS=${MXT_LAB_NS:-mxtdemo}
trap 'bash tests/lab/lab.sh down >/dev/null 2>&1 || true' EXIT
bash tests/lab/lab.sh up
CA=tests/lab/run/$MXT_LAB_NS/ca/ca.pem
for domain in healthy.test fallback.test; do
	echo
	echo "\$ mxtrace --allow-loopback --ca-file $CA $domain"
	ip netns exec "$MXT_LAB_NS" ./build/src/cli/mxtrace --allow-loopback --ca-file "$CA" "$domain" || true
done
