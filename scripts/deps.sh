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
# After the packages, each tool the test suite runs is probed for the
# version or capability the suite relies on (check_tools below), so a
# missing piece fails here, with its name, rather than as a test failure.
#
# Add packages to MXT_PACKAGES below; keep it one word per package.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)

MXT_PACKAGES="
build-essential meson ninja-build pkg-config
libc-ares-dev libssl-dev libcjson-dev libidn2-dev
libmicrohttpd-dev
nsd unbound postfix swaks libio-socket-inet6-perl openssl
python3 python3-jsonschema python3-prometheus-client
libnet-ssleay-perl time
libspf2-dev libpsl-dev
iproute2 nftables bind9-dnsutils
clang-format groff-base zsh
clang libclang-rt-14-dev
prometheus
libc6 libcrypt1 libdb5.3 libgnutls30 libgnutls-dane0 libidn12 libidn2-0
libnsl2 libpcre2-8-0
libevent-2.1-7 libpam0g libssl3 zlib1g
ldnsutils nginx-light curl
libcurl4-openssl-dev
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
tmp_probe=$(mktemp)
tmp_dir=$(mktemp -d)
policy_created=0
cleanup() {
	rm -f "$tmp_ok" "$tmp_probe"
	rm -rf "$tmp_dir"
	if [ "$policy_created" = 1 ]; then
		rm -f /usr/sbin/policy-rc.d
	fi
}
trap cleanup EXIT INT TERM

# Probe each tool the suite runs for what the suite needs from it.
# Prints one line per missing piece and returns non-zero if any.
probe_failed=0
probe() { # NAME WHAT CMD...: CMD must succeed
	name=$1
	what=$2
	shift 2
	if ! "$@" >"$tmp_probe" 2>&1; then
		echo "deps.sh: $name: $what" >&2
		sed -n '1,3s/^/deps.sh:   | /p' "$tmp_probe" >&2
		probe_failed=1
	fi
}
# out_has PATTERN CMD...: CMD's output (stdout and stderr) matches the
# extended regular expression PATTERN (the exit status is ignored: some
# tools print their version and exit 1).
out_has() {
	pat=$1
	shift
	out=$("$@" 2>&1) || true
	printf '%s\n' "$out" | grep -Eq "$pat" && return 0
	printf '%s\n' "$out"
	return 1
}
# sh_c SCRIPT [ARG...]: run SCRIPT with sh, ARGs as $1...
sh_c() {
	c=$1
	shift
	sh -c "$c" sh "$@"
}

# shellcheck disable=SC2016 # sh_c's scripts expand in their own sh
check_tools() {
	probe meson "meson >= 1.0 (meson.build's meson_version)" \
	    sh_c 'v=$(meson --version) && [ "${v%%.*}" -ge 1 ]'
	probe ninja "ninja runs" ninja --version
	probe pkg-config "pkg-config finds libcares, openssl >= 3, libcjson, libidn2" \
	    pkg-config --exists libcares 'openssl >= 3.0' libcjson libidn2
	probe cc "a C11 compiler (cc)" \
	    sh_c 'printf "int main(void){return 0;}\n" | cc -std=c11 -x c -o /dev/null -'
	probe clang "clang with the libFuzzer runtime (-fsanitize=fuzzer)" \
	    sh_c 'printf "#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n" |
	    clang -fsanitize=fuzzer -x c -o "$1/fuzz" - && "$1/fuzz" -runs=1' "$tmp_dir"
	probe clang-format "clang-format 14 (.clang-format is written for it)" \
	    out_has 'clang-format version 14\.' clang-format --version
	probe groff "groff renders man pages to utf8 (groff-base)" \
	    sh_c 'printf ".TH X 1\n.SH NAME\nx\n" | groff -man -Tutf8 -ww >/dev/null'
	probe python3 "python3 with the ssl module" python3 -c 'import ssl'
	probe python3-jsonschema "python3 jsonschema with Draft7Validator" \
	    python3 -c 'import jsonschema; jsonschema.Draft7Validator.check_schema({})'
	probe python3-prometheus-client "the OpenMetrics parser of python3-prometheus-client" \
	    /usr/bin/python3 -c 'import prometheus_client.openmetrics.parser'
	probe zsh "zsh (the completion test checks _mxtrace's syntax)" zsh -n -c 'true'
	probe promtool "promtool check metrics (prometheus)" \
	    sh_c 'printf "# HELP x_seconds x\n# TYPE x_seconds gauge\nx_seconds 1\n" |
	    promtool check metrics'
	probe libmicrohttpd "libmicrohttpd >= 0.9.71 with MHD_USE_EPOLL (the exporter)" \
	    sh_c 'pkg-config --exists "libmicrohttpd >= 0.9.71" &&
	    printf "#include <microhttpd.h>\nint main(void){return MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? 0 : 1;}\n" |
	    cc -x c -o "$1/mhd" - $(pkg-config --cflags --libs libmicrohttpd) && "$1/mhd"' "$tmp_dir"
	probe prometheus "the prometheus server (the exporter's lab test runs its own)" \
	    out_has '^prometheus, version 2\.' prometheus --version
	probe openssl "openssl 3 command line tool" out_has '^OpenSSL 3\.' openssl version
	probe nsd "nsd (authoritative DNS server)" out_has '^NSD version 4\.' nsd -v
	probe unbound "unbound (recursive resolver)" out_has '^Version 1\.' unbound -V
	probe postfix "postfix (lab MTA)" out_has '^mail_version = [3-9]\.' postconf -d mail_version
	probe posttls-finger "posttls-finger (postfix), with all its libraries" \
	    sh_c 'test -x /usr/sbin/posttls-finger &&
	    ! ldd /usr/sbin/posttls-finger | grep "not found"'
	probe swaks "swaks with IPv6 support (libio-socket-inet6-perl)" \
	    out_has '^=== IPv6 supported' swaks --support
	probe dig "dig (bind9-dnsutils)" out_has '^DiG 9\.' dig -v
	probe nft "nft (nftables)" out_has '^nftables v1\.' nft --version
	probe ip "ip (iproute2) with netns" sh_c 'ip -V && ip netns help 2>&1 | grep -q "ip netns add"'
	probe ss "ss (iproute2)" ss -V
	probe timeout "timeout (coreutils)" timeout --version
	# Issue 12 lab: zone signing, the MTA-STS policy host, policy fetches.
	probe ldns-signzone "ldns-keygen, ldns-signzone, ldns-key2ds (ldnsutils) with ECDSA P-256" \
	    sh_c 'command -v ldns-signzone && cd "$1" && k=$(ldns-keygen -a ECDSAP256SHA256 -k x.) &&
	    ldns-key2ds -n -2 "$k.key" | grep -Eq "IN[[:space:]]+DS[[:space:]]+[0-9]+ 13 2 "' "$tmp_dir"
	probe nginx "nginx with the SSL module (nginx-light)" \
	    out_has 'with-http_ssl_module' nginx -V
	probe curl "curl with HTTPS" out_has '^Protocols:.* https' curl -V
	if [ "$(id -u)" = 0 ]; then
		# The lab's one kernel capability: a private network namespace.
		ns=mxtdeps$$
		probe "ip netns" "creating a network namespace" \
		    sh_c "ip netns add $ns || exit 1
		    ip netns exec $ns ip link set lo up; rc=\$?
		    ip netns del $ns && exit \$rc"
	fi
	return $probe_failed
}

# The lab's Exim and OpenSMTPD (quiet when already cached).
fetch_lab_mtas() {
	if [ "$(id -u)" = 0 ]; then
		"$ROOT/tests/lab/lab.sh" fetch
	fi
}

missing=$(missing_packages)
if [ -z "$missing" ]; then
	fetch_lab_mtas
	check_tools || exit 1
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
check_tools || exit 1
echo "deps.sh: done"
