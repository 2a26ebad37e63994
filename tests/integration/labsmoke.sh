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
for c in dig swaks posttls-finger openssl timeout curl; do
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
# (A second try and 5 s each: a loaded machine may be slow to answer.)
q() {
	X dig @127.0.0.53 +time=5 +tries=2 +noall +comments +answer "$@" |
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

# The time is dig's own (";; Query time"): the start-up of lab.sh, ip
# netns exec and dig on a loaded machine is not the resolver's.
dns_servfail_fast() {
	local out r ms
	out=$(X dig @127.0.0.53 +time=3 +tries=1 +noall +comments +stats MX servfail.test)
	r=$(sed -n 's/.*status: \([A-Z]*\),.*/\1/p' <<<"$out")
	ms=$(sed -n 's/^;; Query time: \([0-9]*\) msec.*/\1/p' <<<"$out")
	echo "${r:-no answer} (${ms:-?} ms)"
	[[ $r == SERVFAIL && -n $ms && $ms -lt 2500 ]]
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
	out=$(X timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.1.20/25' 2>&1) || rc=$?
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
	for ((i = 0; i < 200; i++)); do # postlogd writes asynchronously
		grep -qF -- "$2" "$RUN/mta/mx2/maillog" && return 0
		sleep 0.1
	done
	echo "not in $RUN/mta/mx2/maillog: $2"
	return 1
}

# ---- DNSSEC, DANE, MTA-STS (issue 12) ------------------------------

# dig through the lab resolver: "STATUS flags | answer..." on one line.
qflags() {
	X dig @127.0.0.53 +time=5 +tries=2 +dnssec +noall +comments +answer "$@" |
	    sed -n -e 's/.*status: \([A-Z]*\),.*/\1/p;t' \
	    -e 's/^;; flags: \([a-z ]*\);.*/\1 |/p;t' -e '/^[^;]/p' | tr '\n' ' '
}

# dig_ad yes|no WANT-STATUS ANSWER-SUBSTRING QUERY...: the AD bit (RFC 4035
# §3.2.3) is set (yes) or not (no) and the answer holds the substring.
dig_ad() {
	local ad=$1 want=$2 sub=$3 r flags
	shift 3
	r=$(qflags "$@")
	echo "$r"
	[[ $r == "$want"* && $r == *"$sub"* ]] || return 1
	flags=${r%%|*}
	if [[ $ad == yes ]]; then [[ " $flags " == *" ad "* ]]
	else [[ " $flags " != *" ad "* ]]; fi
}

# posttls-finger at DANE level (it uses the namespace's resolv.conf, i.e.
# the validating lab unbound); every WANT must appear in its output, no
# NOT (optional, after --) may.
dane_expect() { # DOMAIN WANT... [-- NOT...]
	local domain=$1 out w neg=0
	shift
	out=$(X env MAIL_CONFIG="$RUN/client" timeout 20 posttls-finger -c \
	    -l dane -P "$RUN/ca/capath" "$domain" 2>&1) || true
	echo "$out"
	for w in "$@"; do
		if [[ $w == -- ]]; then neg=1; continue; fi
		if [[ $neg == 0 ]]; then grep -qF -- "$w" <<<"$out" || return 1
		else ! grep -qF -- "$w" <<<"$out" || return 1; fi
	done
}

# dane-notls.test: the EHLO reply has no STARTTLS, so no TLS session at
# all (posttls-finger only reports; a DANE sender would defer).
dane_notls() {
	local out
	out=$(X env MAIL_CONFIG="$RUN/client" timeout 20 posttls-finger \
	    -l dane -P "$RUN/ca/capath" dane-notls.test 2>&1) || true
	echo "$out"
	grep -q '< 250 CHUNKING' <<<"$out" && ! grep -q STARTTLS <<<"$out" &&
	    ! grep -q 'TLS connection established' <<<"$out"
}

# curl the MTA-STS policy of DOMAIN (RFC 8461 §3.3) with the lab CA;
# prints "exit=N code=HTTP type=MEDIA" and the body.
sts_fetch() {
	X curl -sS --max-time 20 --cacert "$CA" --proto =https --max-redirs 0 \
	    -w '\nexit=0 code=%{http_code} type=%{content_type}\n' \
	    "https://mta-sts.$1/.well-known/mta-sts.txt" 2>&1 ||
	    echo "exit=$?"
}

# sts_expect DOMAIN WANT...: every WANT (a fixed string) is in the fetch.
sts_expect() {
	local out w
	out=$(sts_fetch "$1")
	shift
	echo "$out"
	for w in "$@"; do grep -qF -- "$w" <<<"$out" || return 1; done
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
check "dnssec: MX healthy.test has AD" \
    dig_ad yes NOERROR "10 mx1.healthy.test." MX healthy.test
check "dnssec: PTR 127.0.1.1 has AD" \
    dig_ad yes NOERROR "mx1.healthy.test." -x 127.0.1.1
check "dnssec: nosuch.test NXDOMAIN has AD (NSEC proof)" \
    dig_ad yes NXDOMAIN "" MX nosuch.test
check "dnssec: TLSA dane-ee has AD" \
    dig_ad yes NOERROR "3 1 1 " TLSA _25._tcp.mx.dane-ee.test
check "dnssec: TLSA dane-ta 2 1 1 has AD" \
    dig_ad yes NOERROR "2 1 1 " TLSA _25._tcp.mx.dane-ta.test
check "dnssec: A mx.dane-servfail.test has AD" \
    dig_ad yes NOERROR "127.0.1.53" A mx.dane-servfail.test
check "dnssec: TLSA dane-servfail SERVFAIL (bogus)" \
    dig_ad no SERVFAIL "" TLSA _25._tcp.mx.dane-servfail.test
check "dnssec: MX dane-unsigned.test has AD" \
    dig_ad yes NOERROR "mx.insecure.dane-unsigned.test." MX dane-unsigned.test
check "dnssec: TLSA dane-unsigned answered without AD" \
    dig_ad no NOERROR "3 1 1 " TLSA _25._tcp.mx.insecure.dane-unsigned.test
check "dnssec: TLSA dane-notls has AD" \
    dig_ad yes NOERROR "3 1 1 " TLSA _25._tcp.mx.dane-notls.test
check "dane: dane-ee.test Verified (DANE-EE 3 1 1)" \
    dane_expect dane-ee.test "Matched DANE EE certificate at depth 0: 3 1 1" \
    "Verified TLS connection established to mx.dane-ee.test"
check "dane: dane-ta.test Verified (DANE-TA 2 1 1, intermediate)" \
    dane_expect dane-ta.test "Matched DANE TA certificate at depth 1: 2 1 1" \
    "Verified TLS connection established to mx.dane-ta.test"
check "dane: dane-roll.test Untrusted (no matching TLSA)" \
    dane_expect dane-roll.test "no matching DANE TLSA records" \
    "Untrusted TLS connection established to mx.dane-roll.test"
check "dane: dane-servfail.test TLSA lookup error" \
    dane_expect dane-servfail.test \
    "TLSA lookup error for mx.dane-servfail.test:25" -- "TLS connection established"
check "dane: dane-unsigned.test no DANE (insecure), PKIX only" \
    dane_expect dane-unsigned.test \
    "Verified TLS connection established to mx.insecure.dane-unsigned.test" \
    -- "DANE"
check "dane: dane-notls.test offers no STARTTLS" dane_notls
check "sts: _mta-sts.sts-ok.test TXT v=STSv1" \
    dig_ad yes NOERROR '"v=STSv1; id=20261205T010000;"' TXT _mta-sts.sts-ok.test
check "sts: _smtp._tls.sts-ok.test TXT v=TLSRPTv1 rua=mailto:" \
    dig_ad yes NOERROR '"v=TLSRPTv1; rua=mailto:tlsrpt@sts-ok.test"' \
    TXT _smtp._tls.sts-ok.test
check "sts: no TLS-RPT record for sts-notlisted.test" \
    dig_ad yes NXDOMAIN "" TXT _smtp._tls.sts-notlisted.test
check "sts: sts-ok.test policy enforce, *.sts-ok.test, text/plain" \
    sts_expect sts-ok.test "mode: enforce" "mx: *.sts-ok.test" \
    "max_age: 86400" "code=200 type=text/plain"
check "sts: sts-notlisted.test policy lists mail. only" \
    sts_expect sts-notlisted.test "mode: enforce" \
    "mx: mail.sts-notlisted.test" "code=200 type=text/plain"
check "sts: sts-expired.test policy lists mx.badcert-expired.test" \
    sts_expect sts-expired.test "mode: enforce" \
    "mx: mx.badcert-expired.test" "code=200"
check "sts: sts-testing.test policy mode testing" \
    sts_expect sts-testing.test "mode: testing" "mx: mx.sts-testing.test" \
    "code=200"
check "sts: sts-malformed.test policy malformed" \
    sts_expect sts-malformed.test "mode enforce" "max_age: soon" "code=200"
check "sts: sts-nohost.test policy host does not resolve" \
    sts_expect sts-nohost.test "Could not resolve host" "exit=6"
check "sts: mx.sts-testing.test cert valid (lab CA)" \
    tls_expect 127.0.1.60 mx.sts-testing.test "Verification: OK"
check "tcp: 127.0.1.21:25 connect times out" tcp_timeout
check "tcp: 127.0.1.20:25 connection refused" tcp_refused

check "lab down" "$LABSH" down
gone() { ! ip netns list | grep -qw "$MXT_LAB_NS" && [[ ! -e /etc/netns/$MXT_LAB_NS ]]; }
check "netns and /etc/netns entry removed" gone
trap 'rm -f "$OUT"' EXIT

echo "labsmoke: $pass passed, $fail failed; up took $up_ms ms"
[[ $fail == 0 ]]
