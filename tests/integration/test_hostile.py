#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile-input classes of issue 13, one section per class, each against the
scripted fake servers (tests/fake/fakesmtp.py, tests/fake/fakedns.py) in the
lab namespace (docs/security.md states the rules these tests hold):

1. secrets are scrubbed from the first byte, in every form and output;
2. DNS answers are read as a resolver means them (CNAME chains, NODATA,
   records of other owners);
3. a deadline during a TLS handshake is inconclusive, not a TLS fault;
4. evidence quotes what the server sent (mixed codes, long greetings,
   greetings cut by FIN);
5. --help and --version report a write error (exit 74).

Usage: test_hostile.py [TEST_NAME ...]   (the lab must be up: tests/lab/lab.sh up)

Fake SMTP servers use 127.0.3.100 and up, fake DNS servers 127.0.4.100 and up
(test_fake.py and test_fakedns.py use the lower numbers).
"""
import base64
import json
import os
import subprocess
import sys

import harness
from harness import CA, MXTRACE, NS, assert_eq, assert_in, attempt, codes, main, run, step, test
from test_fake import BANNER, TO, Fake, check_rc
from test_fakedns import FakeDNS, A, MX

# Importing the two modules registered their tests too: only ours run here.
del harness._tests[:]

# ---- 1. secrets ----

USER = "probe-user"


def b64forms(secret):
    """Every base64 form docs/security.md promises to scrub: standard and
    URL-safe, padded and unpadded, and the characters the secret alone
    determines at each of the three byte alignments."""
    out = set()
    for enc in (base64.b64encode, base64.urlsafe_b64encode):
        full = enc(secret).decode()
        out.add(full)
        out.add(full.rstrip("="))
        for skip in range(3):
            s = enc(b"\0" * skip + secret + b"\0\0").decode()
            first = (skip * 8 + 5) // 6
            last = ((skip + len(secret)) * 8) // 6
            out.add(s[first:last])
    return out


def secret_forms(pw):
    b = pw.encode()
    forms = {pw} | b64forms(b)
    plain = b"\0" + USER.encode() + b"\0" + b
    forms.add(base64.b64encode(plain).decode())
    forms.add(base64.b64encode(plain).decode().rstrip("="))
    return forms


# The eight format x verbosity combinations of issue 13 (plus OpenMetrics).
COMBOS = [
    ("text", []), ("text -v", ["-v"]), ("text -vv", ["-vv"]),
    ("text --transcript", ["--transcript"]),
    ("json", ["--format", "json"]), ("json -vv", ["--format", "json", "-vv"]),
    ("json --transcript", ["--format", "json", "--transcript"]),
    ("nagios", ["--format", "nagios"]), ("openmetrics", ["--format", "openmetrics"]),
]


def mxtrace_raw(args, env=None, timeout=60):
    cmd = ["ip", "netns", "exec", NS, MXTRACE, "--ca-file", CA, "--allow-loopback"] + list(args)
    e = dict(os.environ)
    if env:
        e.update(env)
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=e)
    return p.returncode, p.stdout, p.stderr


def assert_no_secret(pw, script, n, extra=()):
    """Run every output combination against a fake server playing script;
    no form of pw may appear on stdout or stderr, and the run must show
    that something was starred (the echo did arrive and was scrubbed)."""
    forms = secret_forms(pw)
    for name, opts in COMBOS:
        with Fake(n, script) as f:
            rc, out, err = mxtrace_raw(
                ["--server", f.addr, "--to", TO, "--user", USER, "--allow-plaintext-auth",
                 "--starttls", "never", "--timeout-total", "20"] + list(extra) + opts,
                env={"MXTRACE_PASSWORD": pw})
        text = out.decode("latin-1") + err.decode("latin-1")
        if rc not in (0, 1, 2, 3):
            raise AssertionError("%s: exit %d: %s" % (name, rc, err[-400:]))
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if bad in text:
                raise AssertionError("%s: sanitizer report: %s" % (name, text[-600:]))
        leaked = sorted(x for x in forms if x in text)
        if leaked:
            raise AssertionError("%s: secret forms in the output: %r" % (name, leaked))
        if name in ("text --transcript", "json --transcript", "text -vv", "json -vv"):
            assert "****" in text, "%s: the echoed secret is not even starred: %s" % (name, text[:800])


def echo_script(pw, where):
    """A server that echoes the password's forms: in the greeting and EHLO
    ('early', before any AUTH) or in the AUTH/MAIL/RCPT replies ('late')."""
    b = pw.encode()
    std = base64.b64encode(b).decode()
    url = base64.urlsafe_b64encode(b).decode()
    nl = base64.b64encode(b + b"\n").decode()
    al1 = base64.b64encode(b"x" + b + b"yz").decode()
    al2 = base64.b64encode(b"xy" + b + b"z").decode()
    plain = base64.b64encode(b"\0" + USER.encode() + b"\0" + b).decode()
    if where == "early":
        return ("send 220 fake.test ESMTP knows %s and %s\\r\\n\n" % (pw, std) +
                "expect EHLO\n"
                "send 250-fake.test %s\\r\\n250-X-UNPADDED %s\\r\\n250-X-URL %s\\r\\n"
                "250-X-NL %s\\r\\n250-X-BLOB1 %s\\r\\n250-X-BLOB2 %s\\r\\n"
                "250 AUTH PLAIN LOGIN\\r\\n\n" % (plain, std.rstrip("="), url, nl, al1, al2) +
                "expect AUTH\nsend 235 2.7.0 ok\\r\\n\n"
                "expect MAIL FROM:\nsend 250 2.1.0 ok\\r\\n\n"
                "expect RCPT TO:\nsend 250 2.1.5 ok\\r\\n\n"
                "expect QUIT\nsend 221 bye\\r\\n\n")
    return (BANNER + "expect EHLO\nsend 250-fake.test\\r\\n250 AUTH LOGIN\\r\\n\n"
            "expect AUTH LOGIN\nsend 334 VXNlcm5hbWU6\\r\\n\n"
            "expect \nsend 334 UGFzc3dvcmQ6 %s\\r\\n\n" % url +
            "expect \nsend 535 5.7.8 bad %s / %s / %s / %s / %s %s\\r\\n\n"
            % (pw, std, al1, al2, nl, plain) +
            "expect QUIT\nsend 221 bye %s %s\\r\\n\n" % (nl, plain))


@test
def secret_echoed_before_auth_scrubbed_everywhere():
    assert_no_secret("Open-Sesame?>~42", echo_script("Open-Sesame?>~42", "early"), 100)


@test
def secret_echoed_in_auth_replies_scrubbed_everywhere():
    assert_no_secret("Open-Sesame?>~42", echo_script("Open-Sesame?>~42", "late"), 101)


@test
def secret_short_and_odd_lengths_scrubbed():
    # 3 bytes (the shortest accepted) and 4 and 5: every alignment of the
    # last base64 group.
    for i, pw in enumerate(("k?>", "k?>~", "k?>~Z")):
        assert_no_secret(pw, echo_script(pw, "early"), 102 + i)


@test
def secret_of_two_bytes_refused():
    for pw in ("a", "ab"):
        rc, out, err = mxtrace_raw(["--server", "127.0.3.109", "--to", TO, "--user", USER],
                                   env={"MXTRACE_PASSWORD": pw})
        assert_eq(rc, 64, "exit status for a %d-byte password" % len(pw))
        assert b"shorter than 3 bytes" in err, "reason: %r" % err
        assert_eq(out, b"", "nothing on stdout")


# ---- 2. DNS answers ----

REFUSED = "127.0.1.20"


def dns_case(n, names, domain):
    with FakeDNS(n, names) as d:
        r = run("--resolver", d.addr, "--timeout-connect", "1", "--timeout-total", "20",
                "postmaster@" + domain, timeout=60)
        check_rc(r)
    return r, d


@test
def dns_mx_answer_with_only_a_cname_is_implicit_mx():
    # RFC 5321 §5.1: follow the CNAME; no MX at its end is NODATA.
    r, d = dns_case(100, {
        "alias.test": {"MX": [{"type": "CNAME", "host": "real.test"}],
                       "A": [{"type": "CNAME", "host": "real.test"},
                             {"type": "A", "addr": REFUSED, "name": "real.test"}]},
        "real.test": {"A": A(REFUSED)}}, "alias.test")
    doc = r.json
    assert_eq(doc["dns"]["source"], "implicit", "MX source")
    assert_in("dns.no_mx_implicit", codes(doc), "findings")
    assert_eq([x["name"] for x in doc["dns"]["exchangers"]], ["alias.test"], "implicit exchanger")
    assert d.queries("A", "alias.test"), "the implicit MX's address was asked"


@test
def dns_mx_answer_with_only_a_and_txt_is_implicit_mx():
    r, d = dns_case(101, {
        "onlya.test": {"MX": [{"type": "A", "addr": REFUSED},
                              {"type": "TXT", "rdata_hex": "0568656c6c6f"}],
                       "A": A(REFUSED)}}, "onlya.test")
    doc = r.json
    assert_eq(doc["dns"]["source"], "implicit", "MX source")
    assert_in("dns.no_mx_implicit", codes(doc), "findings")
    assert "no usable MX" not in (doc["verdict"]["summary"] or ""), doc["verdict"]


@test
def dns_mx_of_another_owner_is_ignored():
    r, d = dns_case(102, {
        "victim.test": {"MX": [{"type": "MX", "pref": 10, "host": "evil.test",
                                "name": "otherowner.test"}],
                        "A": A(REFUSED)},
        "evil.test": {"A": A(REFUSED)}}, "victim.test")
    doc = r.json
    assert_eq(doc["dns"]["source"], "implicit", "an MX for another owner is not ours")
    assert "evil.test" not in [x["name"] for x in doc["dns"]["exchangers"]], doc["dns"]
    assert not d.queries("A", "evil.test"), "evil.test was queried"


@test
def dns_cname_chain_then_mx_is_used():
    r, d = dns_case(103, {
        "a.test": {"MX": [{"type": "CNAME", "host": "b.test"},
                          {"type": "CNAME", "host": "c.test", "name": "b.test"},
                          {"type": "MX", "pref": 5, "host": "mx.c.test", "name": "c.test"},
                          {"type": "MX", "pref": 1, "host": "evil.test", "name": "elsewhere.test"}]},
        "mx.c.test": {"A": A(REFUSED)}, "evil.test": {"A": A(REFUSED)}}, "a.test")
    doc = r.json
    assert_eq(doc["dns"]["source"], "mx", "MX source")
    assert_eq([x["name"] for x in doc["dns"]["exchangers"]], ["mx.c.test"], "exchangers")
    assert not d.queries("A", "evil.test"), "evil.test was queried"


@test
def dns_cname_loop_in_mx_answer_is_implicit_mx():
    r, d = dns_case(104, {
        "loop.test": {"MX": [{"type": "CNAME", "host": "l2.test"},
                             {"type": "CNAME", "host": "loop.test", "name": "l2.test"}],
                      "A": A(REFUSED)}}, "loop.test")
    assert_eq(r.json["dns"]["source"], "implicit", "MX source")


# ---- 3. a deadline during the TLS handshake ----

def deadline_case(n, script, *opts):
    with Fake(n, script, timeout=20) as f:
        r = run("--server", f.addr, "--to", TO, "--timeout-total", "3", *opts, timeout=60)
        check_rc(r)
        return r, attempt(r.json, f.addr)


def assert_tls_deadline(r, a, where):
    doc = r.json
    cs = codes(doc)
    assert_in("tls.handshake_timeout", cs, "findings")
    assert "tls.handshake_failed" not in cs, cs
    assert "delivery.impossible" not in cs, cs
    assert_eq(doc["verdict"]["status"], "unknown", "verdict")
    assert_eq(r.rc, 3, "exit status")
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("deadline", "tls"), "result")
    ev = [f["evidence"] for f in doc["findings"] if f["code"] == "tls.handshake_timeout"][0]
    assert where in ev and "--timeout-total" in ev, ev


@test
def deadline_during_implicit_tls_is_inconclusive():
    r, a = deadline_case(110, "hang\n", "--tls-on-connect", "--port", "25")
    assert_tls_deadline(r, a, "on connect")


@test
def deadline_after_starttls_220_is_inconclusive():
    script = (BANNER + "expect EHLO\nsend 250-fake.test\\r\\n250 STARTTLS\\r\\n\n"
              "expect STARTTLS\nsend 220 2.0.0 go ahead\\r\\n\nhang\n")
    r, a = deadline_case(111, script)
    assert_tls_deadline(r, a, "after the STARTTLS 220")


@test
def deadline_without_tls_still_banner_timeout():
    # The reference the TLS cases must match: silence is inconclusive.
    r, a = deadline_case(112, "hang\n")
    assert_in("banner.timeout", codes(r.json), "findings")
    assert_eq(r.json["verdict"]["status"], "unknown", "verdict")


# ---- 4. evidence quotes what the server sent ----

def evidence(doc, code):
    return [f["evidence"] for f in doc["findings"] if f["code"] == code]


@test
def mixed_code_greeting_is_protocol_error_quoted_as_sent():
    script = "send 220-first\\r\\n250-second\\r\\n554 third\\r\\n\nhang\n"
    with Fake(120, script) as f:
        r = run("--server", f.addr, "--to", TO, "--transcript", timeout=60)
        check_rc(r)
        a = attempt(r.json, f.addr)
    doc = r.json
    assert_in("smtp.protocol_violation", codes(doc), "findings")
    assert "banner.not_smtp" not in codes(doc), codes(doc)
    ev = evidence(doc, "smtp.protocol_violation")[0]
    assert "220-first / 250-second / 554 third" in ev, ev
    assert "different codes" in ev, ev
    b = step(a, "banner")
    assert_eq(b["reply"]["lines"], ["first", "second", "third"], "lines")
    assert_eq(b["reply"]["line_codes"], [220, 250, 554], "each line's own code")
    assert_eq([t["text"] for t in a["transcript"] if t["dir"] == "S"][:3],
              ["220-first", "250-second", "554 third"], "transcript lines as sent")
    dump = str(doc)
    assert "554 first" not in dump and "554-first" not in dump, "re-rendered with the last code"


@test
def mixed_code_ehlo_reply_is_protocol_error():
    script = BANNER + "expect EHLO\nsend 250-a\\r\\n550 b\\r\\n\nhang\n"
    with Fake(121, script) as f:
        r = run("--server", f.addr, "--to", TO, timeout=60)
        check_rc(r)
        a = attempt(r.json, f.addr)
        sent = f.lines()
    ev = evidence(r.json, "smtp.protocol_violation")
    assert ev and "250-a / 550 b" in ev[0], r.json["findings"]
    assert_eq(step(a, "ehlo")["reply"]["line_codes"], [250, 550], "line codes")
    assert not any(x.startswith("HELO") for x in sent), "no HELO after a broken reply: %r" % sent


@test
def long_well_formed_greeting_is_not_not_smtp():
    # 150 well-formed continuation lines: over the line cap, but SMTP.
    script = "flood 220-fake.test padding 150\nsend 220 fake.test ready\\r\\n\nhang\n"
    with Fake(122, script) as f:
        r = run("--server", f.addr, "--to", TO, timeout=60)
        check_rc(r)
    cs = codes(r.json)
    assert "banner.not_smtp" not in cs, cs
    ev = evidence(r.json, "smtp.protocol_violation")
    assert ev and "more than 100 lines" in ev[0], r.json["findings"]
    # One over-long line (3000 octets) is cut and flagged, and the session goes on.
    script = ("send 220 fake.test " + "x" * 3000 + "\\r\\n\n" +
              "expect EHLO\nsend 250 fake.test\\r\\n\nexpect MAIL\nsend 250 ok\\r\\n\n"
              "expect RCPT\nsend 250 ok\\r\\n\nexpect QUIT\nsend 221 bye\\r\\n\n")
    with Fake(123, script) as f:
        r = run("--server", f.addr, "--to", TO, timeout=60)
        check_rc(r)
        a = attempt(r.json, f.addr)
    assert "banner.not_smtp" not in codes(r.json), codes(r.json)
    assert_eq(a["result"]["end"], "ok", "the session went on")
    assert_in("line_truncated", step(a, "banner")["reply"]["flags"], "flags")


@test
def quit_answered_with_garbage_or_never_closed_does_not_delay_the_result():
    # RFC 5321 §4.1.1.10: the result is decided when QUIT goes out; the
    # reply to QUIT is recorded if it comes while the probe runs, never
    # judged, never waited for (before, the QUIT deadline cost 5 s here).
    tails = {125: "expect QUIT\nsend \\x00\\x1b[2J garbage, no code\\r\\n\nhang\n",
             126: "expect QUIT\nhang\n"}
    for n, tail in sorted(tails.items()):
        script = (BANNER + "expect EHLO\nsend 250 fake.test\\r\\n\nexpect MAIL\nsend 250 ok\\r\\n\n"
                  "expect RCPT\nsend 250 ok\\r\\n\n" + tail)
        with Fake(n, script) as f:
            r = run("--server", f.addr, "--to", TO, timeout=60)
            check_rc(r)
            a = attempt(r.json, f.addr)
            lines = f.lines()
        assert_eq(lines[-1], "QUIT", "the client still said QUIT (%d): %r" % (n, lines))
        assert_eq((a["result"]["end"], a["result"]["stage"]), ("ok", "rcpt"), "result (%d)" % n)
        assert_eq([s["stage"] for s in a["steps"]][-2:], ["rcpt", "quit"], "no RSET (%d)" % n)
        q = step(a, "quit")
        assert q["status"] in ("sent", "protocol_error", "replied"), "QUIT step (%d): %r" % (n, q)
        bad = {"smtp.protocol_violation", "smtp.nonstandard_reply", "smtp.timeout",
               "smtp.connection_lost"} & set(codes(r.json))
        assert not bad, "the reply to QUIT became a finding (%d): %r" % (n, bad)
        assert r.json["duration_ms"] < 4000, "waited for QUIT (%d): %d ms" % (n, r.json["duration_ms"])
        assert a["duration_ms"] < 4000, "attempt waited for QUIT (%d): %d ms" % (n, a["duration_ms"])


@test
def reply_to_quit_recorded_while_another_mx_still_runs():
    # The QUIT of the fast MX is not waited for, but its 221 arrives while
    # the slow MX still holds its RCPT reply: it is recorded on the QUIT step
    # and in the transcript, and changes nothing else.
    head = (BANNER + "expect EHLO\nsend 250 fake.test\\r\\n\nexpect MAIL\nsend 250 ok\\r\\n\n"
            "expect RCPT\n")
    fast = head + "send 250 ok\\r\\n\nexpect QUIT\nsend 221 2.0.0 fast bye\\r\\n\nclose\n"
    slow = head + "sleep 3\nsend 250 ok\\r\\n\nexpect QUIT\nsend 221 2.0.0 slow bye\\r\\n\nclose\n"
    with Fake(127, fast) as f1, Fake(128, slow) as f2:
        with FakeDNS(105, {"linger.test": {"MX": MX((10, "a.linger.test"), (20, "b.linger.test"))},
                           "a.linger.test": {"A": A(f1.addr)},
                           "b.linger.test": {"A": A(f2.addr)}}) as d:
            r = run("--resolver", d.addr, "postmaster@linger.test", timeout=60)
            check_rc(r)
    a1, a2 = attempt(r.json, f1.addr), attempt(r.json, f2.addr)
    for a in (a1, a2):
        assert_eq((a["result"]["end"], a["result"]["stage"]), ("ok", "rcpt"), "result %s" % a["address"])
    q = step(a1, "quit")
    assert_eq((q["status"], (q["reply"] or {}).get("code")), ("replied", 221), "fast QUIT step: %r" % q)
    assert "fast bye" in " ".join(q["reply"]["lines"]), q
    assert "fast bye" in json.dumps(a1["transcript"]), "221 in the transcript: %r" % a1["transcript"]
    assert_eq(step(a2, "rcpt")["reply"]["code"], 250, "slow RCPT")


@test
def greeting_cut_by_fin_keeps_the_lines_that_arrived():
    script = "send 220-fake.test first\\r\\n220-second\\r\\n220-thi\nsleep 0.2\nclose\n"
    with Fake(124, script) as f:
        r = run("--server", f.addr, "--to", TO, "--transcript", timeout=60)
        check_rc(r)
        a = attempt(r.json, f.addr)
    doc = r.json
    cs = codes(doc)
    assert "connect.reset" not in cs, cs
    ev = evidence(doc, "smtp.connection_lost")
    assert ev, doc["findings"]
    assert "220-fake.test first / 220-second" in ev[0], ev
    assert "before any greeting" not in ev[0], ev
    b = step(a, "banner")
    assert_eq(b["status"], "closed", "banner step")
    assert_eq(b["reply"]["lines"][:2], ["fake.test first", "second"], "lines kept")
    assert_in("220-thi", b["reply"]["lines"][2], "the unfinished line, raw")


# ---- 5. --help and --version to a full device ----

@test
def help_and_version_to_dev_full_exit_74():
    for opt in ("--help", "--version"):
        with open("/dev/full", "wb") as full:
            p = subprocess.run(["unshare", "-n", MXTRACE, opt], stdout=full,
                               stderr=subprocess.PIPE, timeout=30)
        assert_eq(p.returncode, 74, "%s to /dev/full" % opt)
        assert p.stderr, "%s: a reason on stderr" % opt


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
