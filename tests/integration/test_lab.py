#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Lab integration tests: mxtrace against a real DNS tree (nsd + unbound)
and real Postfix instances, inside the lab's network namespace.

Usage: test_lab.py [TEST_NAME ...]   (the lab must be up: tests/lab/lab.sh up)
Every JSON output is validated against docs/mxtrace.schema.json.
"""
import sys

from harness import attempt, codes, main, run, step, test


def assert_eq(a, b, what):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what, b, a))


def assert_in(x, coll, what):
    if x not in coll:
        raise AssertionError("%s: %r not in %r" % (what, x, coll))


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
        assert_eq(stages[-2:], ["rset", "quit"], "ends with RSET, QUIT")
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
