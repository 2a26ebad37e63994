# SPDX-License-Identifier: MIT
# bash completion for mxtrace(1).  The option lists below are kept equal to
# the option table (src/cli/options.c) by tests/completions_check.py.

_mxtrace()
{
	local cur prev
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_CWORD:+${COMP_WORDS[COMP_CWORD - 1]}}
	COMPREPLY=()

	# Every option.
	local opts='--from --to --server --port --submission --source --ehlo
		--allow-loopback --egress-ip --egress-check -4 --ipv4 -6 --ipv6 --starttls
		--tls-on-connect --ca-file --cert-warn-days --user --password-file --auth
		--allow-plaintext-auth --send --body --body-file --size --quit-after
		--resolver --dns-timeout --dns-tries --timeout-connect --timeout-banner
		--timeout-command -t --timeout-total --format --json --transcript --color
		-v -q -w --warning -c --critical -D --cert-days --cert-crit-days --batch
		--concurrency --seed --per-address --listen --config --max-probes --dnsbl --no-dnsbl --no-spf --dane --no-dane --mta-sts --no-mta-sts
		-h --help --version'
	# Options that take an argument, by how it is completed.
	local file_args='--ca-file --password-file --body-file --batch --config'
	local host_args='--server'
	local text_args='--from --to --port --source --ehlo --egress-ip --egress-check
		--cert-warn-days --user --body --size --resolver --dns-timeout
		--dns-tries --timeout-connect --timeout-banner --timeout-command -t
		--timeout-total -w --warning -c --critical -D --cert-days
		--cert-crit-days --concurrency --seed --per-address --listen --max-probes --dnsbl'
	local -A values=(
		[--starttls]='auto require never'
		[--auth]='PLAIN LOGIN CRAM-MD5'
		[--quit-after]='connect banner ehlo tls auth mail rcpt'
		[--format]='text json nagios openmetrics prometheus'
		[--color]='auto always never'
	)

	# --option=value: one word, or three when COMP_WORDBREAKS holds "="
	if [[ $prev == = && COMP_CWORD -ge 2 ]]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == = && COMP_CWORD -ge 1 ]]; then
		cur=
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi
	if [[ -n $prev && -n ${values[$prev]+set} ]]; then
		COMPREPLY=($(compgen -W "${values[$prev]}" -- "$cur"))
		return
	fi
	if [[ " "$file_args" " == *[[:space:]]"$prev"[[:space:]]* ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return
	fi
	if [[ " "$host_args" " == *[[:space:]]"$prev"[[:space:]]* ]]; then
		COMPREPLY=($(compgen -A hostname -- "$cur"))
		return
	fi
	if [[ -n $prev && " "$text_args" " == *[[:space:]]"$prev"[[:space:]]* ]]; then
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	fi
} &&
	complete -F _mxtrace mxtrace
