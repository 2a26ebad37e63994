#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# mxtrace integration lab: a private network namespace holding a DNS
# tree (nsd authoritative for ".", "test." and the loopback reverse zones,
# unbound recursing from it), a lab CA, a set of Postfix instances, one
# per SMTP scenario, plus Exim (submission with AUTH, MX of exim.test) and
# OpenSMTPD (MX of opensmtpd.test). Everything listens on loopback inside
# the namespace, which has no other interface, so no packet can leave it.
#
# Usage: lab.sh up | down | status | env | fetch | exec CMD [ARG...]
#   MXT_LAB_NS     network namespace name (default mxtlab); several labs
#                  with different names can run at the same time.
#   MXT_LAB_CACHE  where the Exim and OpenSMTPD packages are unpacked
#                  (default /var/cache/mxtrace-lab; kept across up/down).
# Run dir: tests/lab/run/$MXT_LAB_NS/ (logs stay there after "down").
# Processes are only ever stopped by the PIDs this script recorded, and
# only after checking that the PID still lives in the lab's namespace.
# See tests/lab/README.md for the addresses and scenarios.
set -euo pipefail

LAB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NS=${MXT_LAB_NS:-mxtlab}
if [[ ! $NS =~ ^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$ ]]; then
	echo "lab.sh: bad MXT_LAB_NS '$NS'" >&2
	exit 2
fi
RUN=$LAB/run/$NS
NSDIR=/etc/netns/$NS
NSX=(ip netns exec "$NS")

RESOLVER=127.0.0.53
AUTH=127.0.53.1
AUTH_INSECURE=127.0.53.2 # second nsd: the unsigned DANE zone (issue 12)

# Domains that the two healthy MTAs accept (everything whose MX points at
# them, except relay.test, which exists to get "Relay access denied").
SHARED="healthy.test equal.test cname.test xn--bcher-kva.test badfqdn.test"
SHARED+=" fallback.test nullmix.test iplit.test"

# One Postfix instance per line:
# name|listen address|inet_protocols|MX host name|accepted domains|cert|extra SANs
# cert: good (lab CA, SAN = host + extras), expired (lab CA, expired),
# wrongname (lab CA, for wrong-name.test), selfsigned (not from the CA).
MTAS=(
	"mx1|127.0.1.1|ipv4|mx1.healthy.test|$SHARED|good|DNS:a.equal.test,DNS:b.equal.test,DNS:c.equal.test,IP:127.0.1.1"
	"mx2|127.0.1.2|ipv4|mx2.healthy.test|$SHARED|good|IP:127.0.1.2"
	"implicit|127.0.1.3|ipv4|implicit.test|implicit.test|good|IP:127.0.1.3"
	"mx6|::1|ipv6|mx6.v6only.test|v6only.test|good|IP:::1"
	"greylist|127.0.1.30|ipv4|mx.greylist.test|greylist.test|good|"
	"unknown|127.0.1.31|ipv4|mx.unknown.test|unknown.test|good|"
	"badcert-expired|127.0.1.32|ipv4|mx.badcert-expired.test|badcert-expired.test sts-expired.test|expired|"
	"badcert-name|127.0.1.33|ipv4|mx.badcert-name.test|badcert-name.test|wrongname|"
	"badcert-untrusted|127.0.1.34|ipv4|mx.badcert-untrusted.test|badcert-untrusted.test|selfsigned|"
	"banner554|127.0.1.35|ipv4|mx.banner554.test|banner554.test|good|"
	"banner421|127.0.1.36|ipv4|mx.banner421.test|banner421.test|good|"
	"helo-strict|127.0.1.37|ipv4|mx.helo-strict.test|helo-strict.test|good|"
	"tarpit|127.0.1.38|ipv4|mx.tarpit.test|tarpit.test|good|"
)
MAILBOX_USERS="postmaster user test"

# ---- DANE and MTA-STS scenarios (issue 12) --------------------------
# Zones: zones/policy.inc (appended to test.zone), dane-servfail-tcp.zone,
# dane-unsigned.zone; TLSA records are generated (policy_records).
# Cert kinds: good (as above), viaint (issued by the lab intermediate CA,
# chain leaf + intermediate). dane-notls has TLS off (postfix/dane-notls.cf).
STS_SANS="DNS:mx.sts-notlisted.test,DNS:mx.sts-nohost.test"
STS_SANS+=",DNS:mx.sts-malformed.test,DNS:mx.sts-testing.test,IP:127.0.1.60"
STS_DOMAINS="sts-ok.test sts-notlisted.test sts-nohost.test"
STS_DOMAINS+=" sts-malformed.test sts-testing.test"
MTAS+=(
	"dane-ee|127.0.1.50|ipv4|mx.dane-ee.test|dane-ee.test|good|"
	"dane-ta|127.0.1.51|ipv4|mx.dane-ta.test|dane-ta.test dane-cname.test|viaint|"
	"dane-roll|127.0.1.52|ipv4|mx.dane-roll.test|dane-roll.test|good|"
	"dane-servfail|127.0.1.53|ipv4|mx.dane-servfail.test|dane-servfail.test|good|"
	"dane-unsigned|127.0.1.54|ipv4|mx.insecure.dane-unsigned.test|dane-unsigned.test|good|"
	"dane-notls|127.0.1.55|ipv4|mx.dane-notls.test|dane-notls.test|good|"
	"sts|127.0.1.60|ipv4|mx.sts-ok.test|$STS_DOMAINS|good|$STS_SANS"
)
# nginx: HTTPS policy host for mta-sts.<domain> (tests/lab/web/).
WEB=127.0.8.1
STS_POLICIES="sts-ok.test sts-notlisted.test sts-expired.test"
STS_POLICIES+=" sts-malformed.test sts-testing.test"

# Exim and OpenSMTPD. Debian's postfix, exim4 and opensmtpd packages
# conflict (each is the system MTA), so these two are never installed:
# "fetch" downloads them with apt-get download and unpacks them with
# dpkg-deb -x into $CACHE, and the lab runs them from there with configs
# in the run dir. Their libraries are ordinary packages (scripts/deps.sh).
CACHE=${MXT_LAB_CACHE:-/var/cache/mxtrace-lab}
[[ $CACHE == /* ]] || { echo "lab.sh: MXT_LAB_CACHE must be absolute" >&2; exit 2; }
FETCH_PKGS="exim4-daemon-light opensmtpd"
EXIM=$CACHE/root/usr/sbin/exim4
SMTPD=$CACHE/root/usr/sbin/smtpd
# System users their maintainer scripts would create, and the paths
# compiled into OpenSMTPD that must exist (as mount points, see
# start_opensmtpd; /var/lib/opensmtpd/empty is its chroot).
EXIM_USER=Debian-exim
SMTPD_USERS="opensmtpd opensmtpq"
SMTPD_DIRS="/var/lib/opensmtpd/empty /var/spool/smtpd /usr/libexec/opensmtpd"

# The non-Postfix MTAs, one per line:
# name|listen address|ports|host name|cert|extra SANs (cert kinds as above)
XMTAS=(
	"exim|127.0.1.40|25 465 587|submit.healthy.test|good|IP:127.0.1.40"
	"opensmtpd|127.0.1.41|25|mx.opensmtpd.test|good|IP:127.0.1.41"
)

# MXT_LAB_EXTRA: an optional directory of additions to one lab (made by
# bench/latency.sh): "mtas" (more MTAS lines), "postfix/NAME.cf" (their
# extra settings), "nsd.conf" (appended to nsd's config, e.g. more zones),
# "lab.nft" (loaded after nft/lab.nft). Give it to "up" and "status".
EXTRA=${MXT_LAB_EXTRA:-}
if [[ -n $EXTRA && -f $EXTRA/mtas ]]; then
	while IFS= read -r spec; do
		[[ -z $spec || $spec == '#'* ]] || MTAS+=("$spec")
	done <"$EXTRA/mtas"
fi

# ---- Severity scenarios (issue 11) ------------------------------------
# Persistent 4xx replies from real Postfix (config: postfix/NAME.cf):
# persist450 refuses a client without a PTR with 450 (reach it with
# --source 127.0.2.2), tls454 offers STARTTLS but cannot load its
# certificate, so STARTTLS gets "454 4.7.0 TLS not available due to local
# problem" (what a mistyped smtpd_tls_cert_file does in production).
MTAS+=(
	"persist450|127.0.1.80|ipv4|mx.persist450.test|persist450.test|good|"
	"tls454|127.0.1.81|ipv4|mx.tls454.test|tls454.test|good|"
)

# ---- Reputation scenarios (issue 11) ----------------------------------
# Postfix instances that judge the client (config: postfix/NAME.cf). Reach
# them with --source 127.0.6.1 (listed in the lab's zen.spamhaus.org and
# b.barracudacentral.org zones) or 127.0.2.2 (no PTR).
MTAS+=(
	"rbl|127.0.1.70|ipv4|mx.rbl.test|rbl.test|good|"
	"barracuda|127.0.1.71|ipv4|mx.barracuda.test|barracuda.test|good|"
	"ptr-required|127.0.1.72|ipv4|mx.ptr-required.test|ptr-required.test|good|"
	"tls-broken|127.0.1.73|ipv4|mx.tls-broken.test|tls-broken.test|good|"
	"rbl-banner|127.0.1.74|ipv4|mx.rbl-banner.test|rbl-banner.test|good|"
)

log() { printf 'lab[%s]: %s\n' "$NS" "$*"; }
die() { printf 'lab[%s]: error: %s\n' "$NS" "$*" >&2; exit 1; }

need_root() {
	[[ $(id -u) == 0 ]] || die "must run as root (network namespaces)"
}

ns_exists() { [[ -e /run/netns/$NS ]]; }

# "host:port" as ss prints it for a listen address.
listen_key() {
	if [[ $1 == *:* ]]; then printf '[%s]:%s' "$1" "$2"
	else printf '%s:%s' "$1" "$2"; fi
}

# The inode of the lab's namespace, recorded at "up" so that "down" can
# still recognise its processes after the namespace mount is gone.
ns_inode() {
	if [[ -s $RUN/netns.inode ]]; then cat "$RUN/netns.inode"
	elif ns_exists; then stat -L -c %i "/run/netns/$NS"
	fi
}

# True when PID is alive and belongs to the lab's network namespace.
pid_is_ours() {
	local pid=$1 ino link
	[[ $pid =~ ^[0-9]+$ && $pid -gt 1 ]] || return 1
	ino=$(ns_inode)
	[[ -n $ino ]] || return 1
	link=$(readlink "/proc/$pid/ns/net" 2>/dev/null) || return 1
	[[ $link == "net:[$ino]" ]]
}

# First PID in a pid file (Postfix pads it with spaces), or nothing.
read_pid() {
	[[ -s $1 ]] || return 0
	awk 'NR == 1 { print $1 }' "$1"
}

# True when PID is gone or a zombie (daemons are reparented to PID 1,
# which may reap them late).
pid_gone() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
	stat=${stat##*) }
	[[ ${stat%% *} == Z ]]
}

# Wait up to $2 twentieths of a second for PID $1 to go away.
wait_gone() {
	local i
	for ((i = 0; i < $2; i++)); do
		pid_gone "$1" && return 0
		sleep 0.05
	done
	pid_gone "$1"
}

# Stop one daemon by its pid file: TERM, then KILL after 3 s.
stop_pidfile() {
	local pid
	pid=$(read_pid "$1")
	[[ -n $pid ]] || return 0
	if pid_is_ours "$pid"; then
		kill -TERM "$pid" 2>/dev/null || true
		wait_gone "$pid" 60 || ! pid_is_ours "$pid" ||
		    kill -KILL "$pid" 2>/dev/null || true
	fi
	rm -f "$1"
}

# Stop a Postfix instance: "postfix stop", then the master pid as fallback.
stop_postfix() {
	local dir=$1 pid
	pid=$(read_pid "$dir/queue/pid/master.pid")
	[[ -n $pid ]] || return 0
	pid_is_ours "$pid" || return 0
	postfix -c "$dir/etc" stop >/dev/null 2>&1 || true
	if ! wait_gone "$pid" 100 && pid_is_ours "$pid"; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
}

# ---- Exim and OpenSMTPD from Debian packages -----------------------

mtas_cached() { [[ -x $EXIM && -x $SMTPD && -s $CACHE/versions ]]; }

# Download and unpack the packages into $CACHE unless they are there
# already (then this is three stat calls). Serialised with a lock, so
# labs brought up in parallel fetch once.
fetch_mtas() {
	mtas_cached && return 0
	local lock tmp rc=0
	install -d -m 755 "$CACHE"
	exec {lock}>"$CACHE/.lock"
	flock "$lock"
	if ! mtas_cached; then
		tmp=$(mktemp -d "$CACHE/fetch.XXXXXX")
		fetch_into "$tmp" || rc=$?
		rm -rf "$tmp"
	fi
	exec {lock}>&-
	[[ $rc == 0 ]] || die "could not fetch $FETCH_PKGS (apt-get download)"
}

fetch_into() {
	local tmp=$1 deb f
	chmod 755 "$tmp"
	# apt downloads as _apt when it can write there (else it warns).
	if getent passwd _apt >/dev/null; then chown _apt "$tmp"; fi
	echo "lab: fetching $FETCH_PKGS into $CACHE"
	# shellcheck disable=SC2086
	if ! (cd "$tmp" && apt-get download -q $FETCH_PKGS) >"$tmp/apt.log" 2>&1; then
		# No (or stale) package lists: update once and retry.
		apt-get update -q >>"$tmp/apt.log" 2>&1 || true
		# shellcheck disable=SC2086
		if ! (cd "$tmp" && apt-get download -q $FETCH_PKGS) >>"$tmp/apt.log" 2>&1; then
			cat "$tmp/apt.log" >&2
			return 1
		fi
	fi
	mkdir "$tmp/root"
	: >"$tmp/versions"
	for deb in "$tmp"/*.deb; do
		dpkg-deb -x "$deb" "$tmp/root"
		# shellcheck disable=SC2016 # dpkg's ${...}, not the shell's
		dpkg-deb -W --showformat='${Package} ${Version}\n' "$deb" >>"$tmp/versions"
	done
	# The lab runs these as root; no setuid/setgid binary is left
	# lying around outside dpkg's (and security updates') reach.
	find "$tmp/root" -type f -perm /6000 -exec chmod ug-s {} +
	for f in "$tmp/root/usr/sbin/exim4" "$tmp/root/usr/sbin/smtpd"; do
		if ldd "$f" | grep -q 'not found'; then
			ldd "$f" | grep 'not found' >&2
			echo "lab[$NS]: missing libraries for $f; run scripts/deps.sh" >&2
			return 1
		fi
	done
	rm -rf "$CACHE/root" "$CACHE/debs"
	mkdir "$CACHE/debs"
	chown root:root "$tmp"/*.deb
	mv "$tmp"/*.deb "$CACHE/debs/"
	mv "$tmp/root" "$CACHE/root"
	mv "$tmp/versions" "$CACHE/versions"
	echo "lab: cached $(paste -sd ',' "$CACHE/versions" | sed 's/,/, /g')"
}

# The users and directories the packages' maintainer scripts would make
# (idempotent; a few stat/getent calls when all is there).
ensure_system() {
	local u d
	if ! getent passwd "$EXIM_USER" >/dev/null; then
		useradd --system --user-group --no-create-home \
		    --home-dir /var/spool/exim4 --shell /usr/sbin/nologin \
		    "$EXIM_USER"
	fi
	for u in $SMTPD_USERS; do
		getent passwd "$u" >/dev/null && continue
		useradd --system --user-group --no-create-home \
		    --home-dir /var/lib/opensmtpd/empty \
		    --shell /usr/sbin/nologin "$u"
	done
	for d in $SMTPD_DIRS; do
		[[ -d $d ]] || install -d -m 755 "$d"
	done
}

cmd_fetch() {
	need_root
	fetch_mtas
	ensure_system
}

cmd_down() {
	need_root
	local dir pids pid
	if [[ -d $RUN/mta ]]; then
		for dir in "$RUN"/mta/*/; do
			[[ -d $dir ]] && stop_postfix "${dir%/}" &
		done
	fi
	stop_pidfile "$RUN/mta/exim/exim.pid" &
	stop_pidfile "$RUN/mta/opensmtpd/smtpd.pid" &
	stop_pidfile "$RUN/web/nginx.pid" &
	stop_pidfile "$RUN/dns/unbound.pid" &
	stop_pidfile "$RUN/dns/nsd.pid" &
	stop_pidfile "$RUN/dns/nsd-insecure.pid" &
	wait
	# Anything else still in the namespace (children, "lab.sh exec"
	# leftovers): these PIDs come from the namespace itself.
	if ns_exists; then
		pids=$(ip netns pids "$NS" 2>/dev/null || true)
		if [[ -n $pids ]]; then
			# shellcheck disable=SC2086
			kill -TERM $pids 2>/dev/null || true
			for pid in $pids; do
				wait_gone "$pid" 40 || ! pid_is_ours "$pid" ||
				    kill -KILL "$pid" 2>/dev/null || true
			done
		fi
		ip netns del "$NS"
	fi
	rm -rf "$NSDIR"
	rm -f "$RUN/netns.inode" "$RUN/up"
}

# Replace @KEY@ placeholders: subst FILE KEY=VALUE...
subst() {
	local file=$1 kv args=()
	shift
	for kv in "$@"; do
		args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
	done
	sed "${args[@]}" "$file"
}

make_ca() {
	local ca=$RUN/ca
	mkdir -p "$ca"
	chmod 755 "$ca"
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$ca/ca.key" -out "$ca/ca.pem" -days 3650 \
	    -subj "/O=mxtrace lab/CN=mxtrace lab CA $NS" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
	chmod 644 "$ca/ca.pem"
	cat >"$ca/leaf.ext" <<-EOF
	basicConstraints = CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = serverAuth
	EOF
	# "openssl ca" is only needed for the expired leaf (explicit dates).
	: >"$ca/index.txt"
	echo 1000 >"$ca/serial"
	cat >"$ca/ca.cnf" <<-EOF
	[ca]
	default_ca = lab
	[lab]
	dir = $ca
	database = \$dir/index.txt
	new_certs_dir = \$dir/issued
	serial = \$dir/serial
	default_md = sha256
	policy = anything
	copy_extensions = copy
	unique_subject = no
	x509_extensions = leaf
	[anything]
	commonName = supplied
	[leaf]
	basicConstraints = CA:FALSE
	keyUsage = critical,digitalSignature
	extendedKeyUsage = serverAuth
	EOF
	mkdir -p "$ca/issued"
}

# make_leaf SERIAL NAME HOST KIND EXTRA_SANS -> $RUN/ca/NAME.pem, NAME.key
# Leaves are made in parallel, hence the explicit serial numbers.
make_leaf() {
	local serial=$1 name=$2 host=$3 kind=$4 extra=$5 ca=$RUN/ca cn san
	cn=$host
	[[ $kind == wrongname ]] && cn=wrong-name.test
	san="DNS:$cn${extra:+,$extra}"
	local newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes
	    -keyout "$ca/$name.key" -subj "/O=mxtrace lab/CN=$cn"
	    -addext "subjectAltName=$san")
	case $kind in
	selfsigned)
		openssl req -x509 "${newkey[@]}" -days 825 \
		    -addext "basicConstraints=CA:FALSE" \
		    -addext "extendedKeyUsage=serverAuth" \
		    -out "$ca/$name.pem" 2>/dev/null
		;;
	expired)
		openssl req -new "${newkey[@]}" -out "$ca/$name.csr" 2>/dev/null
		openssl ca -batch -config "$ca/ca.cnf" -notext \
		    -cert "$ca/ca.pem" -keyfile "$ca/ca.key" \
		    -startdate "$(date -u -d '-400 days' +%Y%m%d%H%M%SZ)" \
		    -enddate "$(date -u -d '-30 days' +%Y%m%d%H%M%SZ)" \
		    -in "$ca/$name.csr" -out "$ca/$name.pem" 2>/dev/null
		;;
	viaint)
		# Issued by the lab intermediate CA (make_intermediate);
		# the server sends leaf + intermediate.
		openssl req -new "${newkey[@]}" -out "$ca/$name.csr" 2>/dev/null
		openssl x509 -req -in "$ca/$name.csr" -CA "$ca/int.pem" \
		    -CAkey "$ca/int.key" -set_serial "$serial" \
		    -days 825 -copy_extensions copy -extfile "$ca/leaf.ext" \
		    -out "$ca/$name.leaf.pem" 2>/dev/null
		cat "$ca/$name.leaf.pem" "$ca/int.pem" >"$ca/$name.pem"
		;;
	*)
		openssl req -new "${newkey[@]}" -out "$ca/$name.csr" 2>/dev/null
		openssl x509 -req -in "$ca/$name.csr" -CA "$ca/ca.pem" \
		    -CAkey "$ca/ca.key" -set_serial "$serial" \
		    -days 825 -copy_extensions copy -extfile "$ca/leaf.ext" \
		    -out "$ca/$name.pem" 2>/dev/null
		;;
	esac
	chmod 644 "$ca/$name.pem"
}

start_dns() {
	mkdir -p "$RUN/dns"
	subst "$LAB/dns/nsd.conf.in" "RUN=$RUN" "ZONES=$RUN/dns/zones" \
	    >"$RUN/dns/nsd.conf"
	if [[ -n $EXTRA && -f $EXTRA/nsd.conf ]]; then
		# Its zones are served signed from the run dir (sign_zones).
		sed -E 's|^([[:space:]]*zonefile:[[:space:]]*")[^"]*/|\1|' \
		    "$EXTRA/nsd.conf" >>"$RUN/dns/nsd.conf"
	fi
	subst "$LAB/dns/unbound.conf.in" "RUN=$RUN" "LAB=$LAB" \
	    "ANCHOR=$RUN/dns/root.anchor" >"$RUN/dns/unbound.conf"
	"${NSX[@]}" nsd -c "$RUN/dns/nsd.conf" >"$RUN/dns/nsd.start" 2>&1 ||
	    { cat "$RUN/dns/nsd.start" "$RUN/dns/nsd.log" >&2 || true; die "nsd failed"; }
	start_nsd_insecure
	"${NSX[@]}" unbound -c "$RUN/dns/unbound.conf" \
	    >"$RUN/dns/unbound.start" 2>&1 ||
	    { cat "$RUN/dns/unbound.start" "$RUN/dns/unbound.log" >&2 || true
	      die "unbound failed"; }
}

# ---- DNSSEC, DANE and MTA-STS (issue 12) ---------------------------

# The zones nsd serves and how they are signed, one per line:
# zone|file in zones/|parent zone|how
# how: signed (DS in the parent), unsigned (no DS: an insecure
# delegation), bogus (the parent's DS names a key that does not sign
# the zone, so validation fails and the resolver answers SERVFAIL).
# how "auto": a zone of dns/nsd.conf.in or $MXT_LAB_EXTRA/nsd.conf that is
# not listed here, added by dnssec_table and signed like "signed"; its
# parent is the longest listed zone above it and gets the child's NS
# records if it has none (unbound would take an unsigned zone on the
# root's server for "DNSSEC lame", and an undelegated one for bogus).
DNSSEC_ZONES=(
	".|root.zone||signed"
	"test.|test.zone|.|signed"
	"127.in-addr.arpa.|127.in-addr.arpa.zone|.|signed"
	"0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.|ip6.zone|.|signed"
	"_tcp.mx.dane-servfail.test.|dane-servfail-tcp.zone|test.|bogus"
	"insecure.dane-unsigned.test.|dane-unsigned.zone|test.|unsigned"
)
# Reputation scenarios (issue 11): signed like their parents, so that the
# validating resolver answers them on the main nsd.
DNSSEC_ZONES+=(
	"sender.test.|sender.test.zone|test.|signed"
	"zen.spamhaus.org.|zen.spamhaus.org.zone|.|signed"
	"b.barracudacentral.org.|b.barracudacentral.org.zone|.|signed"
)

# "len|name|zonefile" for each zone of an nsd.conf (file as written).
nsd_zones() {
	awk '$1 == "name:" { gsub(/"/, "", $2); n = $2 }
	    $1 == "zonefile:" { gsub(/"/, "", $2); print length(n) "|" n "|" $2 }' "$@"
}

# Add the zones nsd serves but DNSSEC_ZONES does not list, as "auto"
# (see above); parents first (shorter names), so a child finds them.
dnssec_table() {
	local name file spec zone best known=" " confs=("$LAB/dns/nsd.conf.in")
	for spec in "${DNSSEC_ZONES[@]}"; do
		known+="${spec%%|*} "
	done
	[[ -n $EXTRA && -f $EXTRA/nsd.conf ]] && confs+=("$EXTRA/nsd.conf")
	while IFS='|' read -r name file; do
		[[ -n $name && $known != *" $name "* ]] || continue
		best=.
		for spec in "${DNSSEC_ZONES[@]}"; do
			zone=${spec%%|*}
			if [[ $zone != . && $name == *".$zone" && ${#zone} -gt ${#best} ]]; then
				best=$zone
			fi
		done
		DNSSEC_ZONES+=("$name|$file|$best|auto")
		known+="$name "
	done < <(nsd_zones "${confs[@]}" | sort -t '|' -k 1,1n | cut -d '|' -f 2-)
}

# One ECDSA P-256 (algorithm 13) key per signed zone, made at every "up"
# in $RUN/dns/keys (ldns-keygen: a few ms each). keys/ZONE.sign names the
# key that signs the zone, keys/ZONE.ds the one whose DS the parent
# publishes (another key for a bogus zone).
dnssec_keys() {
	local k=$RUN/dns/keys spec zone how
	mkdir -p "$k"
	for spec in "${DNSSEC_ZONES[@]}"; do
		IFS='|' read -r zone _ _ how <<<"$spec"
		[[ $how == unsigned ]] && continue
		(cd "$k" && ldns-keygen -a ECDSAP256SHA256 -k "$zone") >"$k/$zone.sign"
		if [[ $how == bogus ]]; then
			(cd "$k" && ldns-keygen -a ECDSAP256SHA256 -k "$zone") >"$k/$zone.ds"
		else
			cp "$k/$zone.sign" "$k/$zone.ds"
		fi
	done
}

# SHA-256 of the SubjectPublicKeyInfo of a private key file, in hex: the
# data of a TLSA record with selector 1, matching type 1 (RFC 6698 §2.1).
spki_sha256() {
	openssl pkey -in "$1" -pubout -outform DER | sha256sum | cut -d ' ' -f 1
}

# Print the generated TLSA records of one zone file (RFC 7672 §3: at
# _25._tcp.<MX host>). They hash keys made at this "up".
policy_records() { # zone file name
	local ca=$RUN/ca
	case $1 in
	test.zone)
		printf '_25._tcp.mx.dane-ee.test. 300 IN TLSA 3 1 1 %s\n' \
		    "$(spki_sha256 "$ca/dane-ee.key")"
		printf '_25._tcp.mx.dane-ta.test. 300 IN TLSA 2 1 1 %s\n' \
		    "$(spki_sha256 "$ca/int.key")"
		printf '_25._tcp.mx.dane-cname.test. 300 IN TLSA 2 1 1 %s\n' \
		    "$(spki_sha256 "$ca/int.key")"
		printf '_25._tcp.mx.dane-roll.test. 300 IN TLSA 3 1 1 %s\n' \
		    "$(spki_sha256 "$ca/dane-roll-old.key")"
		printf '_25._tcp.mx.dane-notls.test. 300 IN TLSA 3 1 1 %s\n' \
		    "$(spki_sha256 "$ca/dane-notls.key")"
		;;
	dane-servfail-tcp.zone)
		printf '_25._tcp.mx.dane-servfail.test. 300 IN TLSA 3 1 1 %s\n' \
		    "$(spki_sha256 "$ca/dane-servfail.key")"
		;;
	dane-unsigned.zone)
		printf '_25._tcp.mx.insecure.dane-unsigned.test. 300 IN TLSA 3 1 1 %s\n' \
		    "$(spki_sha256 "$ca/dane-unsigned.key")"
		;;
	esac
}

# Build the zone files nsd serves in $RUN/dns/zones: copy zones/*.zone,
# append zones/policy.inc to test.zone, the generated TLSA records and
# each child's DS record, then sign (ldns-signzone, NSEC). The root
# key's DS is the resolver's trust anchor ($RUN/dns/root.anchor).
sign_zones() {
	local z=$RUN/dns/zones k=$RUN/dns/keys spec zone file parent how
	local pfile pids=() pid fail=0 key
	mkdir -p "$z"
	cp "$LAB"/zones/*.zone "$z/"
	# shellcheck disable=SC2016 # a zone file directive, not a variable
	{ printf '\n$ORIGIN test.\n'; cat "$LAB/zones/policy.inc"; } >>"$z/test.zone"
	for spec in "${DNSSEC_ZONES[@]}"; do
		IFS='|' read -r zone file parent how <<<"$spec"
		# A zone file elsewhere ($MXT_LAB_EXTRA) is copied in too.
		[[ $file == /* ]] && cp "$file" "$z/${file##*/}"
		file=${file##*/}
		policy_records "$file" >>"$z/$file"
		[[ -n $parent && $how != unsigned ]] || continue
		pfile=$(zone_file "$parent")
		if [[ $how == auto ]] && ! ldns-read-zone "$z/$pfile" 2>/dev/null |
		    awk -v n="$zone" 'tolower($1) == n && $4 == "NS" { f = 1 }
		    END { exit !f }'; then
			ldns-read-zone "$z/$file" 2>/dev/null |
			    awk -v n="$zone" 'tolower($1) == n && $4 == "NS"' >>"$z/$pfile"
		fi
		ldns-key2ds -n -2 "$k/$(cat "$k/$zone.ds").key" >>"$z/$pfile"
	done
	for spec in "${DNSSEC_ZONES[@]}"; do
		IFS='|' read -r zone file parent how <<<"$spec"
		[[ $how == unsigned ]] && continue
		file=${file##*/}
		key=$k/$(cat "$k/$zone.sign")
		# Valid from a day ago (clock skew) for a year.
		ldns-signzone -i "$(date -u -d '-1 day' +%Y%m%d%H%M%S)" \
		    -e "$(date -u -d '+365 days' +%Y%m%d%H%M%S)" \
		    -f "$z/$file.signed" "$z/$file" "$key" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do
		wait "$pid" || fail=1
	done
	[[ $fail == 0 ]] || die "zone signing failed"
	for spec in "${DNSSEC_ZONES[@]}"; do
		IFS='|' read -r zone file _ how <<<"$spec"
		file=${file##*/}
		[[ $how == unsigned ]] || mv "$z/$file.signed" "$z/$file"
	done
	ldns-key2ds -n -2 "$k/$(cat "$k/..ds").key" >"$RUN/dns/root.anchor"
}

# The file of a zone listed in DNSSEC_ZONES.
zone_file() {
	local spec zone file
	for spec in "${DNSSEC_ZONES[@]}"; do
		IFS='|' read -r zone file _ <<<"$spec"
		[[ $zone == "$1" ]] && { echo "${file##*/}"; return 0; }
	done
	die "zone $1 is not in DNSSEC_ZONES"
}

# The second nsd (dns/nsd-insecure.conf.in): the unsigned zone of the
# dane-unsigned.test scenario, reached through a referral from test.
start_nsd_insecure() {
	subst "$LAB/dns/nsd-insecure.conf.in" "RUN=$RUN" "ZONES=$RUN/dns/zones" \
	    >"$RUN/dns/nsd-insecure.conf"
	"${NSX[@]}" nsd -c "$RUN/dns/nsd-insecure.conf" \
	    >"$RUN/dns/nsd-insecure.start" 2>&1 ||
	    { cat "$RUN/dns/nsd-insecure.start" "$RUN/dns/nsd-insecure.log" >&2 || true
	      die "nsd (insecure) failed"; }
}

# The lab intermediate CA (signed by the lab CA): the trust anchor of the
# DANE-TA scenario (TLSA 2 1 1 of its key).
make_intermediate() {
	local ca=$RUN/ca
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$ca/int.key" -out "$ca/int.csr" \
	    -subj "/O=mxtrace lab/CN=mxtrace lab intermediate CA $NS" 2>/dev/null
	printf '%s\n' "basicConstraints = critical,CA:TRUE,pathlen:0" \
	    "keyUsage = critical,keyCertSign,cRLSign" >"$ca/int.ext"
	openssl x509 -req -in "$ca/int.csr" -CA "$ca/ca.pem" -CAkey "$ca/ca.key" \
	    -set_serial 1999 -days 3650 -extfile "$ca/int.ext" \
	    -out "$ca/int.pem" 2>/dev/null
	chmod 644 "$ca/int.pem"
}

# Keys and certificates of the policy scenarios, in the background; their
# pids are appended to the array named $1. dane-roll-old.key is the key
# the dane-roll.test TLSA record still names (the server rolled away).
make_policy_certs() {
	local -n _pids=$1
	local ca=$RUN/ca san d
	san=""
	for d in $STS_POLICIES; do
		[[ $d == sts-ok.test ]] || san+="${san:+,}DNS:mta-sts.$d"
	done
	make_leaf 2200 web mta-sts.sts-ok.test good "$san,IP:$WEB" &
	_pids+=($!)
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	    -out "$ca/dane-roll-old.key" 2>/dev/null &
	_pids+=($!)
	dnssec_keys &
	_pids+=($!)
}

# A CA directory for tools that want one (posttls-finger -P, curl
# --capath): the lab CA, hashed.
make_capath() {
	mkdir -p "$RUN/ca/capath"
	cp "$RUN/ca/ca.pem" "$RUN/ca/capath/lab-ca.pem"
	openssl rehash "$RUN/ca/capath"
}

# nginx serving the MTA-STS policies of the sts-*.test domains
# (tests/lab/web/policies/DOMAIN.txt) at
# https://mta-sts.DOMAIN/.well-known/mta-sts.txt. sts-ok.test's policy
# is served with CRLF line ends, the others with LF (RFC 8461 §3.2
# allows both).
start_web() {
	local dir=$RUN/web d site
	install -d -m 755 "$dir" "$dir/sites" "$dir/tmp"
	for d in $STS_POLICIES; do
		site=$dir/sites/mta-sts.$d/.well-known
		install -d -m 755 "$site"
		if [[ $d == sts-ok.test ]]; then
			sed 's/$/\r/' "$LAB/web/policies/$d.txt" >"$site/mta-sts.txt"
		else
			cp "$LAB/web/policies/$d.txt" "$site/mta-sts.txt"
		fi
		chmod 644 "$site/mta-sts.txt"
	done
	subst "$LAB/web/nginx.conf.in" "RUN=$RUN" "ADDR=$WEB" \
	    "USER=$(id -un "$MAIL_UID")" "GROUP=$(id -gn "$MAIL_GID")" \
	    >"$dir/nginx.conf"
	if ! "${NSX[@]}" nginx -p "$dir" -e "$dir/error.log" \
	    -c "$dir/nginx.conf" >"$dir/start.log" 2>&1; then
		echo "--- nginx failed to start:" >&2
		cat "$dir/start.log" "$dir/error.log" >&2 2>/dev/null || true
		return 1
	fi
}

# Create the queue and data directories the way "post-install
# create-missing" would (see /etc/postfix/postfix-files) and ask
# "postfix start" to skip its integrity checks (quick-start): on a fresh,
# empty queue they only cost time (~0.2 s per instance).
make_queue() {
	local q=$1/queue
	install -d -o root -g root -m 755 "$q" "$q/pid"
	install -d -o postfix -g root -m 700 "$q"/{active,bounce,corrupt,defer,deferred,flush,hold,incoming,private,saved,trace} "$1/data"
	install -d -o postfix -g postdrop -m 730 "$q/maildrop"
	install -d -o postfix -g postdrop -m 710 "$q/public"
	touch "$q/quick-start"
}

# Write the config of one Postfix instance and start it (in the netns).
start_mta() {
	local name=$1 addr=$2 proto=$3 host=$4 domains=$5
	local dir=$RUN/mta/$name d u listen
	mkdir -p "$dir/etc"
	make_queue "$dir"
	install -d -o "$MAIL_UID" -g "$MAIL_GID" -m 700 "$dir/mail"
	listen=$(listen_key "$addr" 25)
	subst "$LAB/postfix/main.cf.in" "NAME=$name" "DIR=$dir" "RUN=$RUN" \
	    "LAB=$LAB" "PROTO=$proto" "HOST=$host" "DOMAINS=$domains" \
	    "CERT=$RUN/ca/$name.pem" "KEY=$RUN/ca/$name.key" \
	    "UID=$MAIL_UID" "GID=$MAIL_GID" >"$dir/etc/main.cf"
	if [[ -f $LAB/postfix/$name.cf ]]; then
		{
			printf '\n# --- from tests/lab/postfix/%s.cf ---\n' "$name"
			subst "$LAB/postfix/$name.cf" "DIR=$dir" "RUN=$RUN" "LAB=$LAB"
		} >>"$dir/etc/main.cf"
	fi
	if [[ -n $EXTRA && -f $EXTRA/postfix/$name.cf ]]; then
		{
			printf '\n# --- from %s/postfix/%s.cf ---\n' "$EXTRA" "$name"
			subst "$EXTRA/postfix/$name.cf" "DIR=$dir" "RUN=$RUN" "LAB=$LAB"
		} >>"$dir/etc/main.cf"
	fi
	subst "$LAB/postfix/master.cf.in" "LISTEN=$listen" >"$dir/etc/master.cf"
	for d in $domains; do
		for u in $MAILBOX_USERS; do
			printf '%s@%s\t%s/%s/\n' "$u" "$d" "$d" "$u"
		done
	done >"$dir/etc/vmailbox"
	# Postfix refuses to read a table or main.cf changed in the last
	# second (it polls until the file is older, ~2 s): backdate them.
	touch -d '-1 minute' "$dir"/etc/*
	if ! "${NSX[@]}" postfix -c "$dir/etc" start >"$dir/start.log" 2>&1; then
		# Postfix prints to stderr only when it is a terminal, and
		# errors found before maillog_file is known go to syslog: run
		# "postfix check" on a pty to show them.
		echo "--- postfix $name failed to start; postfix check says:" >&2
		script -qec "postfix -c $(printf %q "$dir/etc") check" /dev/null \
		    </dev/null >&2 || true
		tail -n 20 "$dir/maillog" >&2 2>/dev/null || true
		return 1
	fi
}

# The TLS key and certificate of a non-Postfix MTA, in its dir.
install_tls() { # NAME DIR OWNER
	install -d -m 755 "$2/tls"
	install -m 644 "$RUN/ca/$1.pem" "$2/tls/cert.pem"
	install -m 600 -o "$3" "$RUN/ca/$1.key" "$2/tls/key.pem"
}

# Exim: a daemon started as root with an alternate config (-C); it forks
# and writes its pid file itself. See tests/lab/exim/exim.conf.in for
# why no /etc/exim4/trusted_configs entry is needed.
start_exim() {
	local dir=$RUN/mta/exim
	install -d -m 755 "$dir"
	install -d -o "$EXIM_USER" -g "$EXIM_USER" -m 750 "$dir/spool" "$dir/log" "$dir/mail"
	install_tls exim "$dir" "$EXIM_USER"
	subst "$LAB/exim/exim.conf.in" "DIR=$dir" "EXIM=$EXIM" >"$dir/exim.conf"
	if ! "${NSX[@]}" "$EXIM" -C "$dir/exim.conf" -bd >"$dir/start.log" 2>&1; then
		echo "--- exim failed to start:" >&2
		cat "$dir/start.log" "$dir/log/paniclog" >&2 2>/dev/null || true
		return 1
	fi
}

# OpenSMTPD has its queue (/var/spool/smtpd), control socket
# (/run/smtpd.sock) and helpers (/usr/libexec/opensmtpd) compiled in, so
# it runs in a private mount namespace (the one "ip netns exec" makes)
# where those paths are bind mounts of this lab's dirs: labs stay
# independent and nothing is written outside the run dir. -d keeps it in
# the foreground (log to stderr, so to smtpd.log) with a known pid.
start_opensmtpd() {
	local dir=$RUN/mta/opensmtpd pid
	install -d -m 755 "$dir" "$dir/run"
	install -d -m 711 "$dir/spool"
	install -d -o "$MAIL_UID" -g "$MAIL_GID" -m 700 "$dir/mail"
	install_tls opensmtpd "$dir" root
	subst "$LAB/opensmtpd/smtpd.conf.in" "DIR=$dir" \
	    "USER=$(id -un "$MAIL_UID")" >"$dir/smtpd.conf"
	"$SMTPD" -n -f "$dir/smtpd.conf" >"$dir/start.log" 2>&1 ||
	    { cat "$dir/start.log" >&2; return 1; }
	# shellcheck disable=SC2016 # expanded by the inner bash
	setsid "${NSX[@]}" bash -c '
		set -e
		dir=$1 root=$2 nsdir=$3
		# Never touch the host: refuse unless this is a mount
		# namespace of its own (ip netns exec always makes one).
		[[ $(readlink /proc/self/ns/mnt) != $(readlink /proc/1/ns/mnt) ]]
		# /etc/resolv.conf may be a symlink into /run; keep it.
		rc=$(readlink -f /etc/resolv.conf)
		mount --bind "$dir/spool" /var/spool/smtpd
		mount --bind "$root/usr/libexec/opensmtpd" /usr/libexec/opensmtpd
		mount --bind "$dir/run" /run
		if [[ $rc == /run/* && -f $nsdir/resolv.conf ]]; then
			mkdir -p "$(dirname "$rc")"
			touch "$rc"
			mount --bind "$nsdir/resolv.conf" "$rc"
		fi
		exec "$root/usr/sbin/smtpd" -d -f "$dir/smtpd.conf"
	' opensmtpd "$dir" "$CACHE/root" "$NSDIR" \
	    >"$dir/smtpd.log" 2>&1 </dev/null &
	pid=$!
	echo "$pid" >"$dir/smtpd.pid"
}

# Wait until every expected listener is up and nsd has loaded its zones.
# The deadline is in seconds of wall time (MXT_LAB_READY_S, default 60):
# ~35 daemons start at once, on a loaded 2-core machine that takes a while.
wait_ready() {
	local want=("$(listen_key "$AUTH" 53)" "$(listen_key "$RESOLVER" 53)"
	    "$(listen_key "$AUTH_INSECURE" 53)" "$(listen_key "$WEB" 443)")
	local spec name addr missing i have
	local port ports limit=${MXT_LAB_READY_S:-60} t0=$SECONDS
	for spec in "${MTAS[@]}"; do
		IFS='|' read -r name addr _ <<<"$spec"
		want+=("$(listen_key "$addr" 25)")
	done
	for spec in "${XMTAS[@]}"; do
		IFS='|' read -r name addr ports _ <<<"$spec"
		for port in $ports; do
			want+=("$(listen_key "$addr" "$port")")
		done
	done
	while :; do
		have=$("${NSX[@]}" ss -Hltn | awk '{ print $4 }')
		missing=()
		for addr in "${want[@]}"; do
			grep -qxF "$addr" <<<"$have" || missing+=("$addr")
		done
		if [[ ${#missing[@]} == 0 ]] &&
		    grep -q 'nsd started' "$RUN/dns/nsd.log" 2>/dev/null &&
		    grep -q 'nsd started' "$RUN/dns/nsd-insecure.log" 2>/dev/null; then
			return 0
		fi
		((SECONDS - t0 < limit)) || break
		sleep 0.1
	done
	die "not ready after $limit s; missing listeners: ${missing[*]:-none}"
}

# EXIT trap of "up": tear down whatever was started, keep the logs.
up_failed() {
	trap - EXIT
	echo "lab[$NS]: up failed (rc $1); logs are in $RUN" >&2
	cmd_down >/dev/null 2>&1 || true
	exit "$1"
}

cmd_up() {
	need_root
	local t0 spec name addr proto host domains kind extra pids=() pid fail=0 i
	t0=$(date +%s%N)
	for c in nsd unbound postfix openssl nft ss ldns-keygen ldns-signzone nginx; do
		command -v "$c" >/dev/null ||
		    die "$c not found; run scripts/deps.sh as root"
	done
	fetch_mtas
	ensure_system
	if ns_exists || [[ -e $RUN/netns.inode ]]; then
		log "tearing down the previous lab"
		cmd_down
	fi
	rm -rf "$RUN"
	mkdir -p "$RUN"
	MAIL_UID=$(id -u nobody)
	MAIL_GID=$(id -g nobody)

	trap 'up_failed $?' EXIT
	ip netns add "$NS"
	stat -L -c %i "/run/netns/$NS" >"$RUN/netns.inode"
	"${NSX[@]}" ip link set lo up
	mkdir -p "$NSDIR"
	# trust-ad: glibc passes the resolver's AD bit on (Postfix DANE needs it).
	printf 'nameserver %s\noptions timeout:1 attempts:2 trust-ad\n' \
	    "$RESOLVER" >"$NSDIR/resolv.conf"
	# 127.0.0.1 is localhost.test (forward-confirmed in DNS too); every
	# other name and address is answered by the lab DNS.
	printf '127.0.0.1\tlocalhost.test localhost\n' >"$NSDIR/hosts"
	"${NSX[@]}" nft -f "$LAB/nft/lab.nft"
	if [[ -n $EXTRA && -f $EXTRA/lab.nft ]]; then
		"${NSX[@]}" nft -f "$EXTRA/lab.nft"
	fi

	make_ca
	make_intermediate
	dnssec_table
	# A main.cf for Postfix client tools (posttls-finger) run in the lab:
	# MAIL_CONFIG=$RUN/client.
	mkdir -p "$RUN/client"
	printf 'compatibility_level = 3.6\n' >"$RUN/client/main.cf"
	for ((i = 0; i < ${#MTAS[@]}; i++)); do
		IFS='|' read -r name addr proto host domains kind extra <<<"${MTAS[i]}"
		make_leaf "$((2000 + i))" "$name" "$host" "$kind" "$extra" &
		pids+=($!)
	done
	for ((i = 0; i < ${#XMTAS[@]}; i++)); do
		IFS='|' read -r name addr _ host kind extra <<<"${XMTAS[i]}"
		make_leaf "$((2100 + i))" "$name" "$host" "$kind" "$extra" &
		pids+=($!)
	done
	make_policy_certs pids
	for pid in "${pids[@]}"; do
		wait "$pid" || fail=1
	done
	[[ $fail == 0 ]] || die "certificate generation failed"
	# The zones carry TLSA records of the keys just made: sign them now.
	make_capath
	sign_zones
	start_dns
	pids=()
	for spec in "${MTAS[@]}"; do
		IFS='|' read -r name addr proto host domains kind extra <<<"$spec"
		start_mta "$name" "$addr" "$proto" "$host" "$domains" &
		pids+=($!)
	done
	start_exim &
	pids+=($!)
	start_opensmtpd &
	pids+=($!)
	start_web &
	pids+=($!)
	for pid in "${pids[@]}"; do
		wait "$pid" || fail=1
	done
	[[ $fail == 0 ]] || die "some MTAs failed to start"
	wait_ready
	trap - EXIT
	date -u +%FT%TZ >"$RUN/up"
	log "up in $(( ($(date +%s%N) - t0) / 1000000 )) ms:" \
	    "resolver $RESOLVER, nsd $AUTH," \
	    "$(( ${#MTAS[@]} + ${#XMTAS[@]} )) MTAs, CA $RUN/ca/ca.pem"
	log "run commands inside with: $0 exec CMD..."
}

# status: 0 when everything runs, 1 when something is missing, 3 when
# the lab is not up at all.
cmd_status() {
	need_root
	local spec name addr pid host state bad=0
	if ! ns_exists; then
		log "down (no network namespace $NS)"
		return 3
	fi
	show() { # kind name listen pidfile note
		pid=$(read_pid "$4")
		if [[ -n $pid ]] && pid_is_ours "$pid" && ! pid_gone "$pid"; then
			state=running
		else state=STOPPED; bad=1; fi
		printf '  %-4s %-18s %-17s pid %-7s %-8s %s\n' "$1" "$2" "$3" \
		    "${pid:--}" "$state" "$5"
	}
	log "netns $NS, run dir $RUN, up since $(cat "$RUN/up" 2>/dev/null || echo '?')"
	show dns nsd "$AUTH:53" "$RUN/dns/nsd.pid" "authoritative . test. 127.in-addr.arpa."
	show dns nsd-insecure "$AUTH_INSECURE:53" "$RUN/dns/nsd-insecure.pid" \
	    "authoritative insecure.dane-unsigned.test. (unsigned)"
	show dns unbound "$RESOLVER:53" "$RUN/dns/unbound.pid" "recursive resolver"
	for spec in "${MTAS[@]}"; do
		IFS='|' read -r name addr _ host _ <<<"$spec"
		show mta "$name" "$(listen_key "$addr" 25)" \
		    "$RUN/mta/$name/queue/pid/master.pid" "$host"
	done
	show mta exim "127.0.1.40:25,587" "$RUN/mta/exim/exim.pid" \
	    "submit.healthy.test (Exim)"
	show mta opensmtpd "127.0.1.41:25" "$RUN/mta/opensmtpd/smtpd.pid" \
	    "mx.opensmtpd.test (OpenSMTPD)"
	show web nginx "$WEB:443" "$RUN/web/nginx.pid" "mta-sts.*.test (HTTPS)"
	printf '  ca   %s\n' "$RUN/ca/ca.pem"
	return $bad
}

cmd_env() {
	printf 'MXT_LAB_NS=%s\nMXT_LAB_RUN=%s\nMXT_LAB_CA=%s\nMXT_LAB_RESOLVER=%s\n' \
	    "$NS" "$RUN" "$RUN/ca/ca.pem" "$RESOLVER"
	printf 'MXT_LAB_CACHE=%s\n' "$CACHE"
	printf 'MXT_LAB_CAPATH=%s\nMXT_LAB_ANCHOR=%s\nMXT_LAB_WEB=%s\n' \
	    "$RUN/ca/capath" "$RUN/dns/root.anchor" "$WEB"
}

cmd_exec() {
	need_root
	ns_exists || die "lab is not up (no network namespace $NS)"
	[[ $# -gt 0 ]] || die "usage: lab.sh exec CMD [ARG...]"
	exec ip netns exec "$NS" "$@"
}

usage() {
	echo "usage: [MXT_LAB_NS=name] $0 up|down|status|env|fetch|exec CMD [ARG...]" >&2
	exit 2
}

[[ $# -ge 1 ]] || usage
cmd=$1
shift
case $cmd in
up) cmd_up ;;
down) cmd_down; log "down" ;;
status) cmd_status ;;
env) cmd_env ;;
fetch) cmd_fetch ;;
exec) cmd_exec "$@" ;;
*) usage ;;
esac
