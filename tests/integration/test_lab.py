#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Lab integration tests: mxtrace against a real DNS tree (nsd + unbound)
and real Postfix instances, inside the lab's network namespace.

Usage: test_lab.py [TEST_NAME ...]   (the lab must be up: tests/lab/lab.sh up)
Every JSON output is validated against docs/mxtrace.schema.json.
"""
import os
import sys

from harness import assert_eq, assert_in, attempt, codes, main, run, step, test


# ---- issue 2: the walking skeleton ----

@test
def healthy_two_mx_in_preference_order():
    r = run("healthy.test")
    d = r.json
    mx = d["dns"]["exchangers"]
    assert_eq(d["dns"]["source"], "mx", "MX source")
    assert_eq(d["dns"]["mx_query"]["status"], "ok", "MX query status")
    assert_eq([(x["name"], x["preference"]) for x in mx],
              [("mx1.healthy.test", 10), ("mx2.healthy.test", 20)], "MX order")
    assert_eq([a["address"] for a in mx[0]["addresses"]], ["127.0.1.1"], "mx1 address")
    assert_eq([a["address"] for a in mx[1]["addresses"]], ["127.0.1.2"], "mx2 address")
    assert d["dns"]["mx_query"]["ttl"] > 0, "MX TTL recorded"


@test
def healthy_banner_and_ehlo_capabilities():
    d = run("healthy.test").json
    for addr, name in (("127.0.1.1", "mx1.healthy.test"), ("127.0.1.2", "mx2.healthy.test")):
        a = attempt(d, addr)
        assert_eq(a["connect"]["status"], "connected", "connect " + addr)
        b = step(a, "banner")["reply"]
        assert_eq(b["code"], 220, "banner code")
        assert name in b["lines"][0], "banner names the host: %r" % b["lines"]
        plain = a["capabilities_plaintext"]
        assert plain is not None, "pre-TLS EHLO capabilities recorded"
        for ext in ("SIZE", "PIPELINING", "STARTTLS", "8BITMIME"):
            assert_in(ext, plain["extensions"], "pre-TLS extensions")
        assert_eq(plain["size"], 10240000, "SIZE value")
        caps = a["capabilities"]
        assert caps is not None, "post-TLS capabilities"
        assert "STARTTLS" not in caps["extensions"], "no STARTTLS offered inside TLS"
        assert_eq(caps["size"], 10240000, "SIZE after TLS")


@test
def healthy_starttls_verified_against_lab_ca():
    d = run("healthy.test").json
    for addr, name in (("127.0.1.1", "mx1.healthy.test"), ("127.0.1.2", "mx2.healthy.test")):
        a = attempt(d, addr)
        t = a["tls"]
        assert t["attempted"] and t["ok"], "TLS handshake ok: %r" % t
        c = t["certificate"]
        assert c["chain_ok"], "chain verified: %r" % c
        assert c["name_ok"], "name matches"
        assert_eq(c["name_checked"], name, "name checked against the MX name")
        assert_in("DNS:" + name if False else name, c["san"], "SAN list")
        assert c["days_left"] > 0, "days left"
        assert_eq(step(a, "ehlo_tls")["reply"]["code"], 250, "EHLO after TLS")


@test
def healthy_probe_never_sends_data():
    d = run("healthy.test").json
    for a in d["attempts"]:
        stages = [s["stage"] for s in a["steps"]]
        assert "data" not in stages, "no DATA in probe mode: %r" % stages
        # RFC 5321 §4.1.1.10: QUIT alone ends the session (no RSET), and
        # its 221 is recorded only when it came while the probe ran.
        assert_eq(stages[-2:], ["rcpt", "quit"], "ends with QUIT right after RCPT")
        q = step(a, "quit")
        assert q["status"] in ("sent", "replied", "closed"), "QUIT step: %r" % q
        if q["status"] == "replied":
            assert_eq(q["reply"]["code"], 221, "reply to QUIT")
        assert_eq(step(a, "rcpt")["reply"]["code"], 250, "postmaster accepted")
        assert_eq(a["result"]["end"], "ok", "attempt ok")


@test
def healthy_both_mx_probed_concurrently():
    d = run("healthy.test").json
    a1, a2 = attempt(d, "127.0.1.1"), attempt(d, "127.0.1.2")
    total = d["duration_ms"]
    # Concurrent: the run takes about the longest attempt, not the sum.
    assert total < a1["duration_ms"] + a2["duration_ms"] + d["dns"]["duration_ms"] or \
        total < 50, "run %d ms vs attempts %d + %d ms" % (total, a1["duration_ms"], a2["duration_ms"])


@test
def implicit_mx_from_a_record():
    d = run("implicit.test").json
    assert_eq(d["dns"]["mx_query"]["status"], "nodata", "MX NODATA")
    assert_eq(d["dns"]["source"], "implicit", "implicit MX")
    mx = d["dns"]["exchangers"]
    assert_eq([(x["name"], x["preference"]) for x in mx], [("implicit.test", 0)], "implicit exchanger")
    a = attempt(d, "127.0.1.3")
    assert_eq(step(a, "banner")["reply"]["code"], 220, "implicit MX answers")


@test
def nxdomain_domain():
    r = run("nosuch.test")
    d = r.json
    assert_eq(d["dns"]["mx_query"]["status"], "nxdomain", "MX status")
    assert_eq(d["dns"]["source"], "none", "no exchangers")
    assert_eq(d["attempts"], [], "nothing probed")


@test
def address_target_sets_recipient():
    d = run("user@healthy.test").json
    assert_eq(d["target"]["domain"], "healthy.test", "domain from the address")
    assert_eq(d["target"]["recipients"], ["user@healthy.test"], "recipient")
    a = attempt(d, "127.0.1.1")
    assert_eq(step(a, "rcpt")["command"], "RCPT TO:<user@healthy.test>", "RCPT command")


@test
def domain_target_defaults_to_postmaster():
    d = run("healthy.test").json
    assert_eq(d["target"]["recipients"], ["postmaster@healthy.test"], "default recipient")
    assert_eq(d["target"]["sender"], "", "null sender by default")


@test
def server_option_skips_mx():
    d = run("--server", "127.0.1.2", "--to", "postmaster@healthy.test").json
    assert_eq(d["dns"]["source"], "server", "source")
    a = attempt(d, "127.0.1.2")
    assert_eq(step(a, "banner")["reply"]["code"], 220, "banner")


@test
def server_option_with_name_and_port():
    d = run("--server", "mx1.healthy.test:25", "healthy.test").json
    assert_eq([x["name"] for x in d["dns"]["exchangers"]], ["mx1.healthy.test"], "one exchanger")
    a = attempt(d, "127.0.1.1")
    assert a["tls"]["certificate"]["name_ok"], "name checked against --server name"


@test
def text_output_is_default():
    r = run("healthy.test", json_out=False)
    out = r.out.decode()
    assert out.startswith("mxtrace "), out[:100]
    assert "mx1.healthy.test" in out and "mx2.healthy.test" in out, out


@test
def usage_errors_exit_64():
    for args in (["--port", "0", "x.test"], ["--bogus"], ["a..b"], [],
                 ["--from", "a@b\r\nRCPT TO:<x@y>", "x.test"]):
        r = run(*args, json_out=False, ca=False)
        assert_eq(r.rc, 64, "exit for %r" % args)
        assert r.err.startswith("mxtrace: "), "clear message for %r: %r" % (args, r.err)


@test
def help_and_version():
    r = run("--help", json_out=False, ca=False)
    assert_eq(r.rc, 0, "--help exit")
    assert "--quit-after" in r.out.decode(), "--help lists options"
    r = run("--version", json_out=False, ca=False)
    assert_eq(r.rc, 0, "--version exit")
    assert r.out.decode().startswith("mxtrace 0."), r.out


# ---- issue 3: DNS semantics and client identity ----

def mx_names(d):
    return [x["name"] for x in d["dns"]["exchangers"]]


@test
def equal_preference_order_is_seeded():
    orders = {}
    for seed in range(12):
        d = run("--seed", str(seed), "--quit-after", "connect", "equal.test").json
        orders[seed] = tuple(mx_names(d))
        assert sorted(orders[seed]) == ["a.equal.test", "b.equal.test", "c.equal.test"], orders[seed]
    again = tuple(mx_names(run("--seed", "5", "--quit-after", "connect", "equal.test").json))
    assert_eq(again, orders[5], "same seed, same order")
    assert len(set(orders.values())) > 1, "order varies across seeds: %r" % set(orders.values())
    firsts = {o[0] for o in orders.values()}
    assert len(firsts) >= 2, "more than one host comes first: %r" % firsts


@test
def null_mx():
    d = run("nullmx.test").json
    assert_eq(d["dns"]["source"], "null", "null MX source")
    assert_eq(d["attempts"], [], "no connection to a null MX domain")
    assert_in("dns.null_mx", codes(d), "finding")
    assert_eq(d["verdict"]["status"], "critical", "verdict")


@test
def null_mx_beside_other_mx():
    d = run("nullmix.test").json
    assert_eq(d["dns"]["source"], "null", "treated as null MX (RFC 7505, Postfix)")
    assert d["dns"]["null_mx_mixed"], "mixed flag"
    assert_in("dns.null_mx_with_mx", codes(d), "finding")
    assert_eq(d["attempts"], [], "not probed")


@test
def mx_target_is_cname():
    d = run("cname.test").json
    x = d["dns"]["exchangers"][0]
    assert_in("cname", x["flags"], "flag")
    assert_eq(x["cname"], "mx1.healthy.test", "canonical name")
    assert_in("dns.mx_cname", codes(d), "finding")


@test
def mx_target_without_address():
    d = run("noaddr.test").json
    x = d["dns"]["exchangers"][0]
    assert_in("no_address", x["flags"], "flag")
    assert_eq(x["a_query"]["status"], "nodata", "A NODATA")
    assert_in("dns.mx_no_address", codes(d), "finding")
    assert_eq(d["attempts"], [], "nothing to connect to")


@test
def mx_target_nxdomain_is_skipped():
    d = run("badfqdn.test").json
    x = d["dns"]["exchangers"]
    assert_eq(x[0]["name"], "missing.badfqdn.test", "bad MX first")
    assert_in("nxdomain", x[0]["flags"], "bad FQDN flagged")
    assert_eq(x[0]["a_query"]["status"], "nxdomain", "A NXDOMAIN")
    assert_in("dns.mx_nxdomain", codes(d), "finding")
    assert_eq([a["address"] for a in d["attempts"]], ["127.0.1.2"], "only mx2 probed")


@test
def mx_target_ip_literal():
    d = run("iplit.test").json
    x = d["dns"]["exchangers"][0]
    assert_in("ip_literal", x["flags"], "flag")
    assert_in("dns.mx_ip_literal", codes(d), "finding")
    assert_eq(d["attempts"], [], "an IP literal MX is not connected to")


@test
def servfail_is_kept_apart():
    d = run("servfail.test").json
    assert_eq(d["dns"]["mx_query"]["status"], "servfail", "SERVFAIL kept apart")
    assert_eq(d["dns"]["source"], "none", "no implicit MX after SERVFAIL")
    assert_eq(d["attempts"], [], "nothing probed")
    assert_in("dns.servfail", codes(d), "finding")
    assert_eq(d["verdict"]["status"], "unknown", "temporary: inconclusive")


@test
def unreachable_resolver():
    r = run("--resolver", "127.0.0.99", "healthy.test")
    d = r.json
    assert_eq(d["dns"]["resolver"], "127.0.0.99:53", "resolver recorded")
    assert_eq(d["dns"]["mx_query"]["status"], "unreachable", "unreachable resolver")
    assert_in("dns.unreachable", codes(d), "finding")
    assert_eq(r.rc, 3, "exit unknown")


@test
def resolver_option_with_port():
    d = run("--resolver", "127.0.0.53:53", "healthy.test").json
    assert_eq(d["dns"]["resolver"], "127.0.0.53:53", "resolver recorded")
    assert_eq(d["dns"]["mx_query"]["status"], "ok", "answered")


@test
def idn_domain():
    d = run("bücher.test").json
    assert_eq(d["target"]["domain"], "xn--bcher-kva.test", "A-label")
    assert_eq(d["target"]["domain_unicode"], "bücher.test", "U-label")
    assert_eq(mx_names(d), ["mx1.healthy.test"], "MX of the IDN domain")
    assert_eq(d["target"]["recipients"], ["postmaster@xn--bcher-kva.test"], "recipient in A-label form")


@test
def aaaa_only_exchanger():
    d = run("v6only.test").json
    x = d["dns"]["exchangers"][0]
    assert_eq([(a["address"], a["family"]) for a in x["addresses"]], [("::1", "ipv6")], "AAAA only")
    assert_eq(x["a_query"]["status"], "nodata", "no A")
    a = attempt(d, "::1")
    assert_eq(step(a, "banner")["reply"]["code"], 220, "reached over IPv6")
    assert_eq(d["client"]["local_ipv6"], "::1", "local IPv6 source")


@test
def family_restriction():
    d = run("-4", "v6only.test").json
    assert_eq(d["dns"]["exchangers"][0]["aaaa_query"]["status"], "not_run", "-4: no AAAA query")
    assert_eq(d["attempts"], [], "-4: nothing to probe on an AAAA-only MX")
    d = run("-6", "healthy.test").json
    assert_eq(d["dns"]["exchangers"][0]["a_query"]["status"], "not_run", "-6: no A query")


@test
def client_forward_confirmed_ptr():
    d = run("--source", "127.0.2.1", "healthy.test").json
    c = d["client"]
    assert_eq(c["local_ipv4"], "127.0.2.1", "source")
    assert_eq(c["ptr"], "client-ok.test", "PTR")
    assert c["fcrdns"], "forward-confirmed"
    assert_eq((c["ehlo_name"], c["ehlo_source"]), ("client-ok.test", "ptr"), "EHLO from PTR")
    assert c["ehlo_resolves"], "EHLO name resolves"
    assert_eq(step(attempt(d, "127.0.1.1"), "ehlo")["command"], "EHLO client-ok.test", "sent")
    assert attempt(d, "127.0.1.1")["local"].startswith("127.0.2.1:"), "bound to --source"
    for code in ("client.ptr_missing", "client.ptr_mismatch"):
        assert code not in codes(d), code


@test
def client_without_ptr():
    d = run("--source", "127.0.2.2", "healthy.test").json
    c = d["client"]
    assert_eq(c["ptr"], None, "no PTR")
    assert_eq(c["ptr_query"]["status"], "nxdomain", "PTR NXDOMAIN")
    assert_eq((c["ehlo_name"], c["ehlo_source"]), ("[127.0.2.2]", "literal"), "address literal")
    assert_in("client.ptr_missing", codes(d), "finding")


@test
def client_ptr_not_forward_confirmed():
    d = run("--source", "127.0.2.3", "healthy.test").json
    c = d["client"]
    assert_eq(c["ptr"], "client-bad.test", "PTR")
    assert not c["fcrdns"], "not forward-confirmed"
    assert_in("client.ptr_mismatch", codes(d), "finding")


@test
def ehlo_option_unresolvable():
    d = run("--ehlo", "nowhere.nosuch.test", "healthy.test").json
    c = d["client"]
    assert_eq((c["ehlo_name"], c["ehlo_source"]), ("nowhere.nosuch.test", "option"), "--ehlo")
    assert not c["ehlo_resolves"], "does not resolve"
    assert_in("client.ehlo_name_unresolvable", codes(d), "finding")


# ---- issue 4: probe stage against real Postfix ----

def mailbox(mta, domain, user):
    from harness import RUN
    import glob
    return sorted(glob.glob(os.path.join(RUN, "mta", mta, "mail", domain, user, "new", "*")))


@test
def probe_delivers_nothing():
    before = mailbox("mx1", "healthy.test", "test") + mailbox("mx2", "healthy.test", "test")
    d = run("test@healthy.test").json
    for a in d["attempts"]:
        assert_eq(step(a, "rcpt")["reply"]["code"], 250, "recipient accepted")
    import time
    time.sleep(2)  # time for a delivery to show, were one queued
    after = mailbox("mx1", "healthy.test", "test") + mailbox("mx2", "healthy.test", "test")
    assert_eq(after, before, "no message delivered without --send")


@test
def send_delivers_test_message():
    import tempfile
    before = mailbox("mx1", "healthy.test", "user")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("first line\n.hidden\nlast line\n")
        body = f.name
    d = run("--send", "--body-file", body, "user@healthy.test").json
    os.unlink(body)
    assert_eq(d["verdict"]["status"], "ok", "verdict")
    assert_in("data.accepted", codes(d), "data.accepted finding")
    a = attempt(d, "127.0.1.1")
    assert_eq(step(a, "data")["reply"]["code"], 354, "354 to DATA")
    assert_eq(step(a, "data_end")["reply"]["code"], 250, "accepted")
    assert "SIZE=" in step(a, "mail")["command"], "SIZE= on MAIL FROM"
    mx2 = attempt(d, "127.0.1.2")
    assert_eq(mx2["connect"]["status"], "not_tried", "delivered once, through mx1 only")
    import time
    deadline = time.monotonic() + 15  # Postfix delivers from its queue, asynchronously
    while True:
        new = [m for m in mailbox("mx1", "healthy.test", "user") if m not in before]
        if new or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert_eq(len(new), 1, "one new message in the mailbox")
    text = open(new[0], "rb").read().decode()
    head, _, body = text.partition("\n\n")
    for h in ("From: ", "To: user@healthy.test", "Subject: mxtrace test message", "Date: ",
              "Message-ID: <", "MIME-Version: 1.0"):
        assert ("\n" + h) in ("\n" + head), "header %r in %r" % (h, head)
    assert_eq(body.splitlines(), ["first line", ".hidden", "last line"], "body, dot-stuffing undone by the server")


@test
def quit_after_stops_early():
    d = run("--quit-after", "ehlo", "healthy.test").json
    for a in d["attempts"]:
        stages = [s["stage"] for s in a["steps"]]
        assert_eq(stages, ["banner", "ehlo", "quit"], "quit after EHLO")


@test
def starttls_never():
    d = run("--starttls", "never", "healthy.test").json
    a = attempt(d, "127.0.1.1")
    assert not a["tls"]["attempted"], "no TLS"
    assert "starttls" not in [s["stage"] for s in a["steps"]], "no STARTTLS sent"


@test
def firewalled_connect_times_out():
    r = run("--timeout-connect", "1", "firewalled.test")
    d = r.json
    a = attempt(d, "127.0.1.21")
    assert_eq(a["connect"]["status"], "timeout", "filtered: timeout")
    assert a["connect"]["duration_ms"] < 2500, "within the connect deadline"
    assert_in("connect.timeout", codes(d), "finding")
    assert_eq(r.rc, 2, "critical")


@test
def refused_connection():
    d = run("--server", "127.0.1.20", "--to", "postmaster@healthy.test").json
    a = attempt(d, "127.0.1.20")
    assert_eq(a["connect"]["status"], "refused", "RST")
    assert_in("connect.refused", codes(d), "finding")


# ---- issue 5: scenarios: verdict, diagnosis codes, exit code ----

def scenario(args, status, rc, want, absent=()):
    r = run(*args)
    d = r.json
    assert_eq(d["verdict"]["status"], status, "verdict for %r (%s)" % (args, d["verdict"]["summary"]))
    assert_eq(r.rc, rc, "exit code for %r" % (args,))
    for c in want:
        assert_in(c, codes(d), "codes for %r" % (args,))
    for c in absent:
        assert c not in codes(d), "%s unexpected for %r" % (c, args)
    return d


@test
def scenario_healthy():
    scenario(["healthy.test"], "ok", 0, ["delivery.ok"], ["delivery.fallback"])


@test
def scenario_fallback_to_secondary():
    d = scenario(["fallback.test"], "warning", 1, ["delivery.fallback", "connect.refused"])
    assert_eq(d["verdict"]["via"], "mx2.healthy.test", "mail goes via the secondary")


@test
def scenario_firewalled():
    scenario(["--timeout-connect", "1", "firewalled.test"], "critical", 2, ["connect.timeout"])


@test
def scenario_refused():
    # Issue 11: a refused connection is queued and retried by senders, so
    # the verdict is delivery.stalled (bounces after the queue lifetime),
    # not delivery.impossible (bounces now).
    scenario(["--server", "127.0.1.20", "--to", "postmaster@healthy.test"], "critical", 2,
             ["connect.refused", "delivery.stalled"], ["delivery.impossible"])


@test
def scenario_bad_fqdn():
    scenario(["badfqdn.test"], "warning", 1, ["dns.mx_nxdomain", "delivery.fallback"])


@test
def scenario_domain_nxdomain():
    scenario(["nosuch.test"], "critical", 2, ["dns.domain_nxdomain", "delivery.impossible"])


@test
def scenario_implicit_mx():
    # RFC 5321 §5.1 allows it: noted, not a fault.
    scenario(["implicit.test"], "ok", 0, ["dns.no_mx_implicit", "delivery.ok"])


@test
def scenario_null_mx():
    scenario(["nullmx.test"], "critical", 2, ["dns.null_mx", "delivery.impossible"])


@test
def scenario_relay_denied():
    scenario(["someone@elsewhere.test", "--server", "mx1.healthy.test"], "critical", 2,
             ["rcpt.relay_denied", "delivery.impossible"])


@test
def scenario_unknown_user():
    scenario(["nobody@unknown.test"], "critical", 2, ["rcpt.unknown_user"])


@test
def scenario_greylisted():
    scenario(["greylist.test"], "unknown", 3, ["rcpt.greylisted", "delivery.inconclusive"])


@test
def scenario_banner_554():
    scenario(["banner554.test"], "critical", 2, ["banner.rejected"])


@test
def scenario_banner_421():
    scenario(["banner421.test"], "unknown", 3, ["banner.busy"])


@test
def scenario_ehlo_rejected():
    d = scenario(["--ehlo", "nowhere.nosuch.test", "helo-strict.test"], "critical", 2,
                 ["ehlo.rejected", "client.ehlo_name_unresolvable"])
    assert_eq(step(attempt(d, "127.0.1.37"), "ehlo")["reply"]["code"], 450, "Postfix 450 4.7.1")


@test
def scenario_tarpit():
    d = scenario(["tarpit.test"], "ok", 0, ["delivery.ok"])
    b = step(attempt(d, "127.0.1.38"), "banner")
    assert b["duration_ms"] >= 1500, "greeting delay measured: %d ms" % b["duration_ms"]


@test
def scenario_tarpit_beyond_deadline():
    scenario(["--timeout-banner", "1", "tarpit.test"], "unknown", 3, ["banner.timeout"])


@test
def scenario_cert_expired():
    scenario(["badcert-expired.test"], "warning", 1, ["tls.cert_expired"])


@test
def scenario_cert_name_mismatch():
    scenario(["badcert-name.test"], "warning", 1, ["tls.cert_name_mismatch"])


@test
def scenario_cert_untrusted():
    scenario(["badcert-untrusted.test"], "warning", 1, ["tls.cert_untrusted"])


@test
def scenario_no_ptr():
    scenario(["--source", "127.0.2.2", "healthy.test"], "warning", 1, ["client.ptr_missing"])


@test
def nagios_format():
    r = run("--format", "nagios", "healthy.test", json_out=False)
    out = r.out.decode()
    assert out.startswith("MXTRACE OK - "), out
    assert "|" in out, "perfdata"
    assert_eq(r.rc, 0, "exit")


# ---- output sinks: a full disk, a closed pipe (SIGPIPE) ----

@test
def write_error_is_reported():
    import subprocess
    from harness import MXTRACE, NS, CA
    with open("/dev/full", "w") as full:
        p = subprocess.run(["ip", "netns", "exec", NS, MXTRACE, "--json", "--ca-file", CA, "--allow-loopback",
                            "healthy.test"], stdout=full, stderr=subprocess.PIPE, timeout=60)
    assert_eq(p.returncode, 74, "exit status on a full disk")
    assert b"write error" in p.stderr, p.stderr


@test
def closed_pipe_does_not_kill():
    import subprocess
    from harness import MXTRACE, NS, CA
    p = subprocess.run("ip netns exec %s %s --ca-file %s --allow-loopback --transcript healthy.test | head -c 10"
                       % (NS, MXTRACE, CA), shell=True, capture_output=True, timeout=60,
                       executable="/bin/bash")
    assert_eq(len(p.stdout), 10, "head got its bytes")
    assert b"Sanitizer" not in p.stderr and b"Segmentation" not in p.stderr, p.stderr


@test
def batch_json_lines():
    import json, tempfile, subprocess
    from harness import MXTRACE, NS, CA, validate
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("# comment\nhealthy.test\n\nuser@fallback.test\nnosuch.test\nbad..test\n")
        path = f.name
    # JSON Lines is the default for --batch.
    p = subprocess.run(["ip", "netns", "exec", NS, MXTRACE, "--ca-file", CA, "--allow-loopback",
                        "--batch", path],
                       capture_output=True, timeout=120)
    os.unlink(path)
    docs = [json.loads(l) for l in p.stdout.decode().splitlines()]
    for d in docs:
        validate(d)
    # Records come as targets finish: order them by their line.
    docs.sort(key=lambda d: d["target"]["line"])
    assert_eq([(d["target"]["line"], d["target"]["input"], d["verdict"]["status"]) for d in docs],
              [(2, "healthy.test", "ok"), (4, "user@fallback.test", "warning"),
               (5, "nosuch.test", "critical"), (6, "bad..test", "unknown")],
              "one JSON line per target, with its line number")
    assert_eq(docs[1]["target"]["recipients"], ["user@fallback.test"], "recipient from the line")
    assert_eq([f["code"] for f in docs[3]["findings"]], ["target.invalid"], "a bad line is its own record")
    assert "line 6" in docs[3]["findings"][0]["evidence"], docs[3]["findings"][0]
    assert_eq(docs[3]["attempts"], [], "nothing probed for a bad line")
    assert_eq(p.returncode, 2, "exit status is the worst verdict")
    assert b"4 target(s)" in p.stderr and b"target.invalid" in p.stderr, p.stderr


@test
def system_trust_is_the_hashed_directory():
    """Without --ca-file the trust store is the hashed directory, read per
    issuer when a handshake needs it: a directory holding only the lab CA
    (hash links made by openssl rehash) verifies the lab certificates, with
    SSL_CERT_FILE naming a file that does not exist."""
    import shutil, subprocess, tempfile
    from harness import CA
    d = tempfile.mkdtemp(prefix="mxt-certdir-")
    try:
        shutil.copy(CA, os.path.join(d, "lab-ca.pem"))
        subprocess.run(["openssl", "rehash", d], check=True, capture_output=True)
        r = run("--server", "mx1.healthy.test", "--to", "postmaster@healthy.test", ca=False,
                env={"SSL_CERT_DIR": d, "SSL_CERT_FILE": os.path.join(d, "none.pem")})
        c = attempt(r.json, "127.0.1.1")["tls"]["certificate"]
        assert c["chain_ok"], c
        assert_eq(r.json["verdict"]["status"], "ok", "verdict")
    finally:
        shutil.rmtree(d, True)


@test
def openmetrics_format():
    r = run("--format", "openmetrics", "fallback.test", json_out=False)
    lines = r.out.decode().splitlines()
    assert_eq(lines[-1], "# EOF", "exposition ends with # EOF")
    assert_in('mxtrace_verdict{target="fallback.test",status="warning"} 1', lines, "verdict gauge")
    assert any(l.startswith('mxtrace_finding{target="fallback.test",code="connect.refused"') for l in lines), lines
    assert any(l.startswith("mxtrace_tls_certificate_expiry_timestamp_seconds{") for l in lines), "cert gauge"
    assert_eq(r.rc, 1, "exit status")


@test
def quit_after_mail_sends_no_rcpt():
    d = run("--server", "mx1.healthy.test", "--to", "postmaster@healthy.test", "--quit-after", "mail").json
    a = attempt(d, "127.0.1.1")
    # RFC 5321 §4.1.1.10: QUIT abandons the transaction; no RSET first.
    assert_eq([s["stage"] for s in a["steps"]][-2:], ["mail", "quit"], "no RCPT after --quit-after mail")
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("ok", "mail"), "result")


@test
def address_target_certificate_checked_against_ip_san():
    d = run("--server", "127.0.1.2", "--to", "postmaster@healthy.test").json
    c = attempt(d, "127.0.1.2")["tls"]["certificate"]
    assert_eq(c["name_checked"], "127.0.1.2", "the address is what is checked")
    assert c["name_ok"], "iPAddress SAN matches"


@test
def total_deadline_covers_dns():
    """A resolver that never answers: --timeout-total bounds the whole run,
    DNS included, and nothing is reported as a firewall."""
    from harness import udp_sink
    # Bound before mxtrace runs (else its queries get "port unreachable").
    sink = udp_sink("127.0.4.250")
    try:
        r = run("--resolver", "127.0.4.250", "--timeout-total", "2", "--dns-timeout", "10",
                "--dns-tries", "3", "healthy.test")
        # Unbounded, the first query alone would wait 10 s.
        from harness import assert_took
        assert_took(r, 2.5, "run took")
        d = r.json
        assert_eq(d["dns"]["mx_query"]["status"], "timeout", "MX query timed out")
        assert "connect.timeout" not in codes(d), codes(d)
        assert_eq(r.rc, 3, "unknown")
    finally:
        sink.kill()
        sink.wait()


@test
def loopback_mx_refused_without_allow_loopback():
    """An MX resolving to 127.0.0.0/8 is a real-world misconfiguration: mail
    would loop back into the sender.  Without --allow-loopback mxtrace does
    not probe it (it would only test the local machine) and says so."""
    import json as _json, subprocess
    from harness import MXTRACE, NS, CA, validate
    p = subprocess.run(["ip", "netns", "exec", NS, MXTRACE, "--json", "--ca-file", CA, "healthy.test"],
                       capture_output=True, timeout=60)
    d = _json.loads(p.stdout)
    validate(d)
    for x in d["dns"]["exchangers"]:
        assert_in("loopback_address", x["flags"], "flag on " + x["name"])
        assert_eq(x["addresses"], [], "loopback address left out")
    assert_eq(d["attempts"], [], "nothing probed")
    assert_in("dns.mx_loopback", codes(d), "finding")
    assert_eq((d["verdict"]["status"], p.returncode), ("critical", 2), "verdict")
    # --server is the user's explicit choice: probed, by address or by name.
    for server in ("127.0.1.1", "mx1.healthy.test"):
        p = subprocess.run(["ip", "netns", "exec", NS, MXTRACE, "--json", "--ca-file", CA, "--server",
                            server, "--to", "postmaster@healthy.test"], capture_output=True, timeout=60)
        d = _json.loads(p.stdout)
        validate(d)
        assert_eq(attempt(d, "127.0.1.1")["connect"]["status"], "connected", "--server " + server)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
