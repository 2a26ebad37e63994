#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Install everything mxtrace needs to build, test and run its lab
# (tests/lab/lab.sh) on Debian 12. Idempotent: when every package is
# already installed it only runs one dpkg-query and prints nothing.
# Must run as root (it calls apt-get). Postfix is installed without
# starting or configuring the system instance: the lab runs its own.
#
# Exim and OpenSMTPD conflict with Postfix (each is "the" system MTA), so
# they are not installed: "tests/lab/lab.sh fetch", run at the end (and
# by "lab.sh up" when needed), downloads and unpacks them into a cache
# (/var/cache/mxtrace-lab) and creates their system users. Only their
# shared libraries are installed here, as ordinary packages.
#
# Add packages to MXT_PACKAGES below; keep it one word per package.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)

MXT_PACKAGES="
build-essential meson ninja-build pkg-config
libc-ares-dev libssl-dev libcjson-dev libidn2-dev
nsd unbound postfix swaks openssl
python3 python3-jsonschema
iproute2 nftables bind9-dnsutils
clang-format groff-base
libc6 libcrypt1 libdb5.3 libgnutls30 libgnutls-dane0 libidn12 libidn2-0
libnsl2 libpcre2-8-0
libevent-2.1-7 libpam0g libssl3 zlib1g
"

# Print the packages from MXT_PACKAGES that are not fully installed,
# separated by spaces.
missing_packages() {
	# shellcheck disable=SC2086 # word splitting is intended
	dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' $MXT_PACKAGES \
	    2>/dev/null | awk '$2 == "ii" { print $1 }' >"$tmp_ok" || true
	for p in $MXT_PACKAGES; do
		grep -qx "$p" "$tmp_ok" || printf '%s ' "$p"
	done
}

tmp_ok=$(mktemp)
policy_created=0
cleanup() {
	rm -f "$tmp_ok"
	if [ "$policy_created" = 1 ]; then
		rm -f /usr/sbin/policy-rc.d
	fi
}
trap cleanup EXIT INT TERM

# The lab's Exim and OpenSMTPD (quiet when already cached).
fetch_lab_mtas() {
	if [ "$(id -u)" = 0 ]; then
		"$ROOT/tests/lab/lab.sh" fetch
	fi
}

missing=$(missing_packages)
if [ -z "$missing" ]; then
	fetch_lab_mtas
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "deps.sh: missing packages: $missing" >&2
	echo "deps.sh: run as root to install them" >&2
	exit 1
fi

echo "deps.sh: installing: $missing"
export DEBIAN_FRONTEND=noninteractive

# Do not let maintainer scripts start daemons (postfix, nsd, unbound):
# the lab starts its own private instances inside a network namespace.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod 755 /usr/sbin/policy-rc.d
	policy_created=1
fi

# Postfix: no system configuration at all.
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections

# shellcheck disable=SC2086
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update -q
	apt-get install -y --no-install-recommends $missing
fi

missing=$(missing_packages)
if [ -n "$missing" ]; then
	echo "deps.sh: still missing: $missing" >&2
	exit 1
fi
fetch_lab_mtas
echo "deps.sh: done"
