#!/bin/sh
# SPDX-License-Identifier: MIT
# swaks as a sysadmin would script it for a whole domain (swaks itself takes
# only the best MX, and needs Net::DNS for that): look up the MX with dig,
# then run swaks (STARTTLS, through RCPT) against the exchangers in
# preference order.
#   walk: stop at the first exchanger that connects (swaks exit 2 = could
#         not connect), like an MTA walking the MX list
#   all:  every exchanger, one after another (the work mxtrace does)
# Usage: swaks-mx.sh walk|all DOMAIN TIMEOUT_SECONDS
# Prints "DOMAIN STATUS" and exits with STATUS: swaks's status for the last
# exchanger tried (2 when none connected or there is no MX).
mode=$1 domain=$2 timeout=$3
rc=2
for host in $(dig +short +tries=2 +time=2 MX "$domain" | sort -n | awk '{ print $2 }'); do
	swaks --server "${host%.}" --to "postmaster@$domain" --tls --quit-after RCPT \
	    --timeout "$timeout" --hide-all >/dev/null 2>&1
	rc=$?
	if [ "$mode" = walk ] && [ "$rc" != 2 ]; then
		break
	fi
done
echo "$domain $rc"
exit "$rc"
