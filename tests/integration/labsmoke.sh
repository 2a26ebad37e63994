#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Smoke test for the integration lab (tests/lab/lab.sh): bring a lab up in
# its own network namespace, prove each building block with standard
# tools (dig, swaks, posttls-finger, openssl s_client, bash /dev/tcp),
# print PASS/FAIL per check, tear the lab down and exit non-zero if any
# check failed. Exit 77 (skip) when not root.
#   MXT_LAB_NS   namespace to use (default mxtsmoke, so a developer's
#                "mxtlab" is left alone)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LABSH=$ROOT/tests/lab/lab.sh
export MXT_LAB_NS=${MXT_LAB_NS:-mxtsmoke}

if [[ $(id -u) != 0 ]]; then
	echo "labsmoke: SKIP (needs root for network namespaces)"
	exit 77
fi
for c in dig swaks posttls-finger openssl timeout; do
	if ! command -v "$c" >/dev/null; then
		echo "labsmoke: FAIL: $c missing; run scripts/deps.sh" >&2
		exit 1
	fi
done

RUN=$ROOT/tests/lab/run/$MXT_LAB_NS
CA=$RUN/ca/ca.pem
pass=0
fail=0
OUT=$(mktemp)
trap 'rm -f "$OUT"; "$LABSH" down >/dev/null 2>&1 || true' EXIT

X() { "$LABSH" exec "$@"; }

# check NAME CMD...: run CMD (output in $OUT), PASS when it succeeds.
check() {
	local name=$1
	shift
	if "$@" >"$OUT" 2>&1; then
		printf 'PASS  %s\n' "$name"
		pass=$((pass + 1))
	else
		printf 'FAIL  %s\n' "$name"
		sed 's/^/      | /' "$OUT" | tail -n 15
		fail=$((fail + 1))
	fi
}

# dig through the lab resolver; prints "STATUS answer..." on one line.
q() {
	X dig @127.0.0.53 +time=3 +tries=1 +noall +comments +answer "$@" |
	    sed -n -e 's/.*status: \([A-Z]*\),.*/\1/p;t' -e '/^[^;]/p' | tr '\n' ' '
}

dns_mx_healthy() {
	local r
	r=$(q MX healthy.test)
	echo "$r"
	[[ $r == NOERROR* && $r == *"10 mx1.healthy.test."* &&
	    $r == *"20 mx2.healthy.test."* ]]
}

dns_status() { # WANT QUERY...
	local want=$1 r
	shift
	r=$(q "$@")
	echo "$r"
	[[ $r == "$want"* ]]
}

dns_servfail_fast() {
	local t0 t1 r
	t0=$(date +%s%N)
	r=$(q MX servfail.test)
	t1=$(date +%s%N)
	echo "$r ($(((t1 - t0) / 1000000)) ms)"
	[[ $r == SERVFAIL* && $((t1 - t0)) -lt 2500000000 ]]
}

dns_ptr() {
	local r
	r=$(q -x 127.0.2.1)
	echo "$r"
	[[ $r == NOERROR*"PTR	client-ok.test."* ]]
}

dns_other() { # ANSWER-SUBSTRING QUERY...
	local want=$1 r
	shift
	r=$(q "$@")
	echo "$r"
	[[ $r == NOERROR*"$want"* ]]
}

# swaks to a lab MTA, stopping after RCPT; WANT is matched in the transcript.
# (swaks exits non-zero on rejections, so only the transcript counts.)
smtp_expect() { # SERVER WANT SWAKS-ARGS...
	local server=$1 want=$2 out
	shift 2
	out=$(X swaks --server "$server" --timeout 10 --quit-after RCPT \
	    --from probe@client-ok.test "$@" 2>&1) || true
	echo "$out"
	grep -qF -- "$want" <<<"$out"
}

tls_verified() {
	local out
	out=$(X env MAIL_CONFIG="$RUN/client" posttls-finger -c -l verify \
	    -F "$CA" healthy.test 2>&1) || true
	echo "$out"
	grep -q 'Verified TLS connection established to mx1.healthy.test' <<<"$out"
}

# openssl s_client with name checks; WANT is grepped in its output.
tls_expect() { # ADDR NAME WANT
	local out
	out=$(echo QUIT | X timeout 10 openssl s_client -brief -starttls smtp \
	    -connect "$1:25" -CAfile "$CA" -verify_hostname "$2" \
	    -servername "$2" -verify_return_error 2>&1) || true
	echo "$out"
	grep -qF -- "$3" <<<"$out"
}

tcp_timeout() {
	local rc=0
	X timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.1.21/25' || rc=$?
	echo "exit $rc (124 = timed out)"
	[[ $rc == 124 ]]
}

tcp_refused() {
	local rc=0 out
	out=$(X timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.1.20/25' 2>&1) || rc=$?
	echo "exit $rc: $out"
	[[ $rc == 1 && $out == *"refused"* ]]
}

tarpit_slow() {
	local t0 t1
	t0=$(date +%s%N)
	smtp_expect 127.0.1.38 "220 mx.tarpit.test" --quit-after CONNECT
	t1=$(date +%s%N)
	echo "banner after $(((t1 - t0) / 1000000)) ms"
	[[ $((t1 - t0)) -ge 2500000000 ]]
}

# Probe mx2 from a client-identity address; mx2's maillog must show WANT.
client_seen() { # SOURCE WANT
	local i
	X swaks --server 127.0.1.2 --local-interface "$1" --quit-after HELO \
	    --timeout 10 >/dev/null 2>&1 || true
	for ((i = 0; i < 40; i++)); do # postlogd writes asynchronously
		grep -qF -- "$2" "$RUN/mta/mx2/maillog" && return 0
		sleep 0.05
	done
	echo "not in $RUN/mta/mx2/maillog: $2"
	return 1
}

only_lo() {
	local links
	links=$(X ip -o link show | awk -F': ' '{ print $2 }')
	echo "$links"
	[[ $links == lo ]]
}

echo "labsmoke: lab $MXT_LAB_NS"
t0=$(date +%s%N)
if ! "$LABSH" up; then
	echo "FAIL  lab up"
	exit 1
fi
up_ms=$((($(date +%s%N) - t0) / 1000000))
echo "labsmoke: lab.sh up took $up_ms ms"

check "status: every daemon running" "$LABSH" status
check "netns has no interface but lo" only_lo
check "dns: MX healthy.test = 10 mx1, 20 mx2" dns_mx_healthy
check "dns: servfail.test SERVFAIL in < 2.5 s" dns_servfail_fast
check "dns: nosuch.test NXDOMAIN" dns_status NXDOMAIN MX nosuch.test
check "dns: example.com NXDOMAIN (nothing leaves)" dns_status NXDOMAIN A example.com
check "dns: PTR 127.0.2.1 = client-ok.test" dns_ptr
check "dns: nullmx.test MX 0 ." dns_other "MX	0 ." MX nullmx.test
check "dns: mx6.v6only.test AAAA ::1" dns_other "AAAA	::1" AAAA mx6.v6only.test
check "smtp: RCPT postmaster@healthy.test 250" \
    smtp_expect 127.0.1.1 "250 2.1.5" --to postmaster@healthy.test
check "smtp: relay.test at its MX 554 5.7.1" \
    smtp_expect 127.0.1.1 "554 5.7.1" --to user@relay.test
check "smtp: [::1] RCPT user@v6only.test 250" \
    smtp_expect ::1 "250 2.1.5" --to user@v6only.test
check "smtp: greylist 450 4.7.1" \
    smtp_expect 127.0.1.30 "450 4.7.1" --to user@greylist.test
check "smtp: unknown user 550 5.1.1" \
    smtp_expect 127.0.1.31 "550 5.1.1" --to nobody@unknown.test
check "smtp: banner 554" smtp_expect 127.0.1.35 "554 5.7.1" --to user@banner554.test
check "smtp: banner 421" smtp_expect 127.0.1.36 "421 4.3.2" --to user@banner421.test
check "smtp: bad EHLO 504 at helo-strict" \
    smtp_expect 127.0.1.37 "504 5.5.2" --ehlo localhost --to user@helo-strict.test
check "smtp: tarpit banner after >= 2.5 s" tarpit_slow
check "client 127.0.2.1 is client-ok.test (FCrDNS)" \
    client_seen 127.0.2.1 "connect from client-ok.test[127.0.2.1]"
check "client 127.0.2.2 has no PTR" \
    client_seen 127.0.2.2 "connect from unknown[127.0.2.2]"
check "client 127.0.2.3 PTR does not resolve" \
    client_seen 127.0.2.3 "client-bad.test does not resolve to address 127.0.2.3"
check "tls: posttls-finger verified mx1.healthy.test" tls_verified
check "tls: expired cert (verify error 10)" \
    tls_expect 127.0.1.32 mx.badcert-expired.test "certificate has expired"
check "tls: wrong-name cert (verify error 62)" \
    tls_expect 127.0.1.33 mx.badcert-name.test "hostname mismatch"
check "tls: self-signed cert (verify error 18)" \
    tls_expect 127.0.1.34 mx.badcert-untrusted.test "self-signed certificate"
check "tcp: 127.0.1.21:25 connect times out" tcp_timeout
check "tcp: 127.0.1.20:25 connection refused" tcp_refused

check "lab down" "$LABSH" down
gone() { ! ip netns list | grep -qw "$MXT_LAB_NS" && [[ ! -e /etc/netns/$MXT_LAB_NS ]]; }
check "netns and /etc/netns entry removed" gone
trap 'rm -f "$OUT"' EXIT

echo "labsmoke: $pass passed, $fail failed; up took $up_ms ms"
[[ $fail == 0 ]]
