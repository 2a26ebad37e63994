#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile-server integration tests: mxtrace against the scripted fake SMTP
server (tests/fake/fakesmtp.py), for misbehaviour no real MTA can be set up
to show: floods, trickled and silent servers, short and mixed-code replies,
hostile bytes in server text, STARTTLS response injection (CVE-2011-0411),
TLS stripping, PIPELINING desynchronisation (RFC 2920 §3.1), 554 and 421
greetings, broken TLS.  Everything a real MTA can do is tested in
test_lab.py instead.

Usage: test_fake.py [TEST_NAME ...]   (the lab must be up: tests/lab/lab.sh up)

Each test starts its own fake server inside the lab namespace on its own
address 127.0.3.N:25 (loopback only), runs mxtrace against it, and checks
both mxtrace's JSON (validated against docs/mxtrace.schema.json by the
harness) and the fake server's log of what mxtrace sent.
"""
import atexit
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time

import harness
from harness import NS, ROOT, assert_eq, assert_in, assert_took, attempt, main, run, step, test

FAKE = os.path.join(ROOT, "tests", "fake", "fakesmtp.py")
PY = "/usr/bin/python3"
TO = "postmaster@fake.test"
RSS_MAX_KB = 64 * 1024  # max RSS < 64 MiB on any hostile test

_tmp = tempfile.mkdtemp(prefix="mxt-fake-")
atexit.register(shutil.rmtree, _tmp, True)
_cert = None


def cert():
    """A throwaway self-signed P-256 certificate for fake.test (made once)."""
    global _cert
    if _cert is None:
        c, k = os.path.join(_tmp, "cert.pem"), os.path.join(_tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=fake.test",
                        "-addext", "subjectAltName=DNS:fake.test", "-keyout", k, "-out", c],
                       check=True, capture_output=True)
        _cert = (c, k)
    return _cert


class Fake:
    """The fake server as a process in the lab namespace, on 127.0.3.n:25."""

    def __init__(self, n, script, connections=1, timeout=30, linger=2):
        self.addr = "127.0.3.%d" % n
        name = "fake%d" % n
        self.script_path = os.path.join(_tmp, name + ".smtp")
        self.log_path = os.path.join(_tmp, name + ".log")
        with open(self.script_path, "w") as f:
            f.write(script)
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)
        c, k = cert()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS, PY, FAKE, "--listen", self.addr + ":25",
             "--script", self.script_path, "--log", self.log_path, "--cert", c, "--key", k,
             "--connections", str(connections), "--timeout", str(timeout),
             "--linger", str(linger)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.log = []
        self.rc = None
        self.stderr = ""
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("READY"):
            self.stop()
            raise AssertionError("fake server on %s did not start: %r %s" % (self.addr, line, self.stderr))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self, wait=10):
        """Wait for the server to finish its script (or kill it) and load its log."""
        if self.rc is None:
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.rc = self.proc.returncode
            self.stderr = self.proc.stderr.read().decode("utf-8", "replace")
            self.proc.stdout.close()
            self.proc.stderr.close()
            self.log = []
            if os.path.exists(self.log_path):
                with open(self.log_path) as f:
                    self.log = [json.loads(x) for x in f if x.strip()]
        return self

    def lines(self, conn=None):
        """What mxtrace sent, one entry per line (terminator stripped)."""
        self.stop()
        return [e["data"] for e in self.log if e["dir"] == "C" and (conn is None or e["conn"] == conn)]

    def notes(self):
        self.stop()
        return [e["data"] for e in self.log if e["dir"] == "I"]

    def first(self, d, prefix):
        """The first log entry of direction d whose data starts with prefix."""
        self.stop()
        for e in self.log:
            if e["dir"] == d and e["data"].startswith(prefix):
                return e
        raise AssertionError("no %s entry %r in the fake log" % (d, prefix))

    def server(self, *opts, **kw):
        return ("--server", self.addr, "--to", TO) + opts


def check_rc(r):
    if r.rc not in (0, 1, 2, 3):
        raise AssertionError("exit code %d (expected 0-3): %s" % (r.rc, r.err[-600:]))
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "Segmentation"):
        if bad in r.err:
            raise AssertionError("sanitizer/crash report on stderr: %s" % r.err[-600:])


def probe(fake, *opts, **kw):
    """Run mxtrace --json against the fake server; return (result, attempt)."""
    r = run(*fake.server(*opts), timeout=kw.pop("timeout", 60), **kw)
    check_rc(r)
    return r, attempt(r.json, fake.addr)


def probe_rusage(fake, *opts, timeout=60):
    """probe(), measuring mxtrace's own peak RSS."""
    r = harness.run_rusage(*fake.server(*opts), timeout=timeout)
    check_rc(r)
    return r, attempt(r.json, fake.addr)


def stages(a):
    return [s["stage"] for s in a["steps"]]


# Scripted pieces.  Replies are sent in one segment each.
BANNER = "send 220 fake.test ESMTP fake\\r\\n\n"
EHLO_TLS = ("expect EHLO\n"
            "send 250-fake.test\\r\\n250-PIPELINING\\r\\n250 STARTTLS\\r\\n\n"
            "expect STARTTLS\n")
# After a HELO (no capabilities, so no pipelining): one command at a time.
TAIL_SERIAL = ("expect MAIL FROM:\nsend 250 2.1.0 ok\\r\\n\n"
               "expect RCPT TO:\nsend 250 2.1.5 ok\\r\\n\n"
               "expect QUIT\nsend 221 2.0.0 bye\\r\\n\n")
# After an EHLO that offered PIPELINING: MAIL and RCPT come as one group.
TAIL_PIPELINED = ("expect MAIL FROM:\nexpect RCPT TO:\n"
                  "send 250 2.1.0 ok\\r\\n250 2.1.5 ok\\r\\n\n"
                  "expect QUIT\nsend 221 2.0.0 bye\\r\\n\n")
EHLO_PLAIN = "expect EHLO\nsend 250-fake.test\\r\\n250 PIPELINING\\r\\n\n"


def no_auth_in_caps(a):
    for key in ("capabilities", "capabilities_plaintext"):
        caps = a[key]
        if caps is None:
            continue
        assert "AUTH" not in caps["extensions"], "%s has AUTH (injected?): %r" % (key, caps)
        assert "evil" not in json.dumps(caps), "%s uses injected lines: %r" % (key, caps)


# ---- STARTTLS response injection (CVE-2011-0411 class) ----

@test
def starttls_injection_same_segment():
    script = (BANNER + EHLO_TLS +
              "send 220 2.0.0 go\\r\\n250-evil\\r\\n250 AUTH PLAIN\\r\\n\n"
              "starttls\n")
    with Fake(1, script) as f:
        r, a = probe(f, "--timeout-banner", "2", "--timeout-command", "2")
    t = a["tls"]
    assert t["injection"] is True, "tls.injection: %r" % t
    assert t["ok"] is False, "no TLS session after an injection: %r" % t
    no_auth_in_caps(a)
    assert_eq(stages(a), ["banner", "ehlo", "starttls"], "nothing after STARTTLS")
    assert a["result"]["end"] in ("tls_failed", "protocol_error"), a["result"]
    lines = f.lines()
    assert_eq(len(lines), 2, "client lines %r" % lines)
    assert lines[0].startswith("EHLO "), lines
    assert_eq(lines[1], "STARTTLS", "the last thing mxtrace sent")


@test
def starttls_injection_second_segment():
    # The injected lines come 50 ms after the 220, after mxtrace sent its
    # ClientHello and before the server read it: they get read as TLS.
    script = (BANNER + EHLO_TLS +
              "send 220 2.0.0 go\\r\\n\n"
              "sleep 0.05\n"
              "send 250-evil\\r\\n250 AUTH PLAIN\\r\\n\n"
              "starttls\n" + EHLO_PLAIN + TAIL_PIPELINED)
    with Fake(2, script) as f:
        r, a = probe(f, "--timeout-banner", "2", "--timeout-command", "2")
    t = a["tls"]
    assert t["attempted"], t
    assert t["ok"] is False or t["injection"] is True, "handshake over injected bytes succeeded: %r" % t
    assert t["ok"] is False, "tls.ok must be false: %r" % t
    no_auth_in_caps(a)
    for s in a["steps"]:
        assert s["stage"] not in ("mail", "rcpt", "auth", "data"), "sent %s after the injection" % s["stage"]
    lines = f.lines()
    assert_eq(lines[-1], "STARTTLS", "nothing after STARTTLS in the fake log (%r)" % lines)
    assert not any(e["dir"] == "C" and e["tls"] for e in f.log), "no TLS session lines"


# ---- banner deadlines ----

@test
def banner_never_comes():
    with Fake(3, "hang\n") as f:
        r, a = probe(f, "--timeout-banner", "2")
    b = step(a, "banner")
    assert_eq(b["status"], "timeout", "banner step status")
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("timeout", "banner"), "result")
    assert_eq(a["connect"]["status"], "connected", "a silent server is not a connect failure")
    assert 1900 <= b["duration_ms"] <= 3000, "banner wait %d ms for --timeout-banner 2" % b["duration_ms"]
    assert a["duration_ms"] <= 3000, "attempt took %d ms" % a["duration_ms"]
    assert_took(r, 2 + 1 + 1.5)
    assert_eq(f.lines(), [], "mxtrace sent nothing before a greeting")


@test
def greeting_delay_2s_tolerated():
    script = "sleep 2\n" + BANNER + EHLO_PLAIN + TAIL_PIPELINED
    with Fake(4, script) as f:
        r, a = probe(f)
    b = step(a, "banner")
    assert_eq(b["status"], "replied", "banner step")
    assert_eq(b["reply"]["code"], 220, "banner code")
    # The fake's 2 s start at its accept(); the banner step starts when
    # mxtrace's loop sees the connect complete, a few ms later under load.
    assert b["duration_ms"] >= 1900, "banner step %d ms" % b["duration_ms"]
    assert_eq(a["result"]["end"], "ok", "result %r" % a["result"])
    assert_eq(step(a, "rcpt")["reply"]["code"], 250, "RCPT")
    assert not [e for e in f.log if e.get("early")], "mxtrace waited for the greeting"
    assert_eq(f.rc, 0, "fake script passed: %s" % f.stderr)


@test
def banner_trickle_deadline_per_reply():
    # 1 byte every 0.2 s, never a LF: each read brings a byte, so only an
    # absolute per-reply deadline can end it (Postfix smtp_per_request_deadline).
    script = "trickle 220 fake.test this greeting never ends %s 5\n" % ("x" * 100)
    with Fake(5, script) as f:
        r, a = probe(f, "--timeout-banner", "2")
    b = step(a, "banner")
    assert_eq(b["status"], "timeout", "banner step status")
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("timeout", "banner"), "result")
    assert 1000 <= b["duration_ms"] <= 3000, "timed out after %d ms, want 2 s +- 1" % b["duration_ms"]
    note = f.first("I", "client closed during trickle")
    sent = int(note["data"].rsplit("after ", 1)[1].split()[0])
    assert sent >= 5, "bytes kept flowing during the wait (%d sent)" % sent


# ---- floods ----

@test
def flood_of_continuation_lines():
    script = "send 220-fake.test flood\\r\\n\nflood 220-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx 100000\n"
    with Fake(6, script) as f:
        r, a = probe_rusage(f, "--timeout-banner", "10")
    b = step(a, "banner")
    flags = b["reply"]["flags"] if b["reply"] else []
    assert "too_many_lines" in flags or "too_large" in flags, "flags %r" % flags
    assert_eq(b["status"], "protocol_error", "banner step status")
    assert_eq(a["result"]["end"], "protocol_error", "result %r" % a["result"])
    assert_took(r, 5)
    assert r.maxrss_kb < RSS_MAX_KB, "max RSS %d KiB" % r.maxrss_kb


@test
def unterminated_10mb_line():
    script = "send 220\\x20\nrepeat x %d\n" % (10 * 1024 * 1024)
    with Fake(7, script) as f:
        r, a = probe_rusage(f, "--timeout-banner", "10")
    b = step(a, "banner")
    flags = b["reply"]["flags"] if b["reply"] else []
    assert_in("unterminated", flags, "banner flags")
    assert_eq(b["status"], "protocol_error", "banner step status")
    assert_eq(a["result"]["end"], "protocol_error", "result %r" % a["result"])
    assert_took(r, 3)
    assert r.maxrss_kb < RSS_MAX_KB, "max RSS %d KiB" % r.maxrss_kb


# ---- hostile bytes in server text ----

HOSTILE = ("220 fake.test \\x1b]8;;http://evil\\x07click\\x1b]8;;\\x07 \\x1b[2J "
           "\\x1b]52;c;ZXZpbA==\\x07 \\xc2\\x9b31m \\xe2\\x80\\xaeevil\\xe2\\x80\\xac "
           "\\xe2\\x81\\xa6iso\\xe2\\x81\\xa9 \\xff\\xfe \\x00nul a\\rb \\x7fdel \\x9b\\x1b\\\\\\r\\n")
FORBIDDEN_CHARS = set(range(0x00, 0x20)) | set(range(0x7f, 0xa0)) | set(range(0x202a, 0x202f)) | \
    set(range(0x2066, 0x206a))


def strings(x):
    if isinstance(x, str):
        yield x
    elif isinstance(x, dict):
        for k, v in x.items():
            yield k
            yield from strings(v)
    elif isinstance(x, list):
        for v in x:
            yield from strings(v)


@test
def hostile_banner_escaped_in_json_and_text():
    script = "send %s\n" % HOSTILE + EHLO_PLAIN + TAIL_PIPELINED
    with Fake(8, script, connections=2) as f:
        r, a = probe(f, "--transcript")
        rt = run(*f.server("--transcript", "--color", "never"), json_out=False)
        check_rc(rt)
    # JSON: strict UTF-8, valid, and no control or bidi character anywhere,
    # neither raw nor as a \\u escape.
    raw = r.out
    raw.decode("utf-8", "strict")
    for byte in (0x00, 0x07, 0x1b, 0x7f):
        assert bytes([byte]) not in raw, "raw byte 0x%02x in the JSON" % byte
    for s in strings(r.json):
        bad = [hex(ord(c)) for c in s if ord(c) in FORBIDDEN_CHARS and c not in "\n\t"]
        assert not bad, "control/bidi characters %r in JSON string %r" % (bad, s[:200])
    b = step(a, "banner")["reply"]
    assert_eq(b["code"], 220, "banner still usable")
    assert_in("ctrl_bytes", b["flags"], "banner flags")
    text = b["lines"][0]
    for shown in ("\\x1b]8;;http://evil\\x07", "\\x1b[2J", "\\x00nul", "\\xff"):
        assert shown in text, "%r shown escaped in %r" % (shown, text)
    assert_eq(a["result"]["end"], "ok", "diagnostic tolerance: the session goes on")
    # Text: no terminal control byte at all in stdout.
    out = rt.out
    bad = sorted({hex(c) for c in out if c in (0x07, 0x1b, 0x7f) or 0x80 <= c <= 0x9f})
    assert not bad, "raw control bytes %r in text output" % bad
    dec = out.decode("utf-8", "strict")
    assert "\u202e" not in dec and "\u2066" not in dec, "bidi controls in text output"
    assert "x1b]8;;http://evil" in dec, "the banner is shown (escaped) in text mode"
    assert_eq(f.rc, 0, "fake scripts passed: %s" % f.stderr)


# ---- mixed codes in one reply ----

@test
def mixed_codes_are_a_protocol_error():
    # RFC 5321 §4.2.1: the lines of one reply MUST carry the same code; a
    # mix is a protocol error (issue 13), decided by no line's code.
    script = BANNER + "expect EHLO\nsend 250-a\\r\\n550 b\\r\\n\n"
    with Fake(9, script) as f:
        r, a = probe(f)
    e = step(a, "ehlo")
    assert_in("code_mismatch", e["reply"]["flags"], "EHLO reply flags")
    assert_eq(e["reply"]["code"], 0, "no code decides a broken reply")
    assert_eq(e["reply"]["line_codes"], [250, 550], "each line keeps its code")
    assert_eq(e["status"], "protocol_error", "EHLO step status")
    assert_eq(a["capabilities"], None, "a 250-/550 mix is not an EHLO success")
    assert_eq(a["capabilities_plaintext"], None, "no plaintext capabilities either")
    lines = f.lines()
    assert not any(x.startswith("HELO ") for x in lines), "HELO after a broken reply: %r" % lines


# ---- 554 greeting, 421 ----

@test
def greeting_554_only_quit():
    script = "send 554 5.3.2 fake.test go away\\r\\n\nexpect QUIT\nsend 221 2.0.0 bye\\r\\n\n"
    with Fake(10, script) as f:
        r, a = probe(f)
    assert_eq(f.lines(), ["QUIT"], "client lines after a 554 greeting")
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("rejected", "banner"), "result")
    assert_eq(stages(a), ["banner", "quit"], "steps")
    assert_eq(step(a, "banner")["reply"]["code"], 554, "banner code")


@test
def reply_421_after_ehlo_stops():
    script = BANNER + "expect EHLO\nsend 421 4.3.2 fake.test closing\\r\\n\n"
    with Fake(11, script) as f:
        r, a = probe(f, "--timeout-command", "3")
    lines = f.lines()
    assert_eq(len(lines), 1, "nothing after EHLO: %r" % lines)
    assert lines[0].startswith("EHLO "), lines
    assert_eq(stages(a)[-1], "ehlo", "no step after the 421")
    assert_eq(step(a, "ehlo")["reply"]["code"], 421, "EHLO reply")
    assert a["result"]["end"] != "ok", a["result"]
    assert_eq(a["result"]["stage"], "ehlo", "result stage")


# ---- HELO fallback ----

@test
def ehlo_502_falls_back_to_helo():
    script = (BANNER + "expect EHLO\nsend 502 5.5.1 no ESMTP here\\r\\n\n"
              "expect HELO\nsend 250 fake.test\\r\\n\n" + TAIL_SERIAL)
    with Fake(12, script) as f:
        r, a = probe(f)
    assert a["helo_fallback"] is True, "helo_fallback"
    h = step(a, "helo")
    assert h["command"].startswith("HELO "), h["command"]
    assert_eq(h["reply"]["code"], 250, "HELO reply")
    assert_eq(a["capabilities"], None, "no EHLO capabilities")
    assert_eq(a["result"]["end"], "ok", "result %r" % a["result"])
    assert_eq([x.split()[0] for x in f.lines()], ["EHLO", "HELO", "MAIL", "RCPT", "QUIT"],
              "commands")
    assert_eq(f.rc, 0, "fake script passed: %s" % f.stderr)


# ---- short and out-of-range reply lines as the greeting ----

def _a6_case(n, banner, name):
    def fn():
        with Fake(n, "send %s\n" % banner) as f:
            r, a = probe(f, "--timeout-banner", "2")
        b = step(a, "banner")
        assert_eq(b["status"], "protocol_error", "banner step for %r" % banner)
        assert b["reply"] is not None, "the broken reply is kept"
        assert_in("malformed", b["reply"]["flags"], "flags for %r" % banner)
        assert_eq((a["result"]["end"], a["result"]["stage"]), ("protocol_error", "banner"),
                  "result for %r" % banner)
    fn.__name__ = "malformed_banner_" + name
    return test(fn)


for _i, (_b, _name) in enumerate([("25\\r\\n", "25"), ("2500 x\\r\\n", "2500"),
                                  ("199 x\\r\\n", "199"), ("600 x\\r\\n", "600"),
                                  ("2x0 x\\r\\n", "2x0")]):
    _a6_case(40 + _i, _b, _name)


# ---- PIPELINING desynchronisation ----

@test
def pipelining_extra_reply_is_desync():
    # MAIL and RCPT come as one group; the server answers with three replies.
    # The third answers nothing mxtrace sent: it must not be taken as the
    # reply to the next command (QUIT).
    script = (BANNER + EHLO_PLAIN +
              "expect MAIL FROM:\nexpect RCPT TO:\n"
              "send 250 2.1.0 ok\\r\\n250 2.1.5 ok\\r\\n250 2.0.0 unsolicited extra\\r\\n\n"
              "expect QUIT\nsend 221 2.0.0 bye\\r\\n\n")
    with Fake(18, script) as f:
        r, a = probe(f, "--timeout-command", "2")
    for s in a["steps"]:
        if s["reply"] and s["stage"] not in ("mail", "rcpt"):
            assert "unsolicited extra" not in " ".join(s["reply"]["lines"]), \
                "the extra reply was matched to %s (%r)" % (s["command"], s["reply"])
    assert_eq(a["result"]["end"], "protocol_error", "result %r" % a["result"])


@test
def unsolicited_reply_after_greeting_not_used():
    # A complete extra reply right behind the greeting, in the same
    # segment, before mxtrace sent EHLO.  It answers nothing: it must never
    # be taken as the reply to EHLO (or to any later command).
    script = ("send 220 fake.test ESMTP fake\\r\\n250 2.0.0 unsolicited extra\\r\\n\n" +
              EHLO_PLAIN + TAIL_PIPELINED)
    with Fake(23, script) as f:
        r, a = probe(f, "--timeout-command", "2")
    for s in a["steps"]:
        if s["reply"] and s["stage"] != "banner":
            assert "unsolicited extra" not in " ".join(s["reply"]["lines"]), \
                "the unsolicited reply was matched to %s (%r)" % (s["command"], s["reply"])


# ---- broken TLS after STARTTLS ----

@test
def plaintext_instead_of_server_hello():
    script = (BANNER + EHLO_TLS + "send 220 2.0.0 go\\r\\n\nsleep 0.3\n"
              "send 220 fake.test this is not TLS\\r\\n\n")
    with Fake(19, script) as f:
        r, a = probe(f)
    t = a["tls"]
    assert t["attempted"], t
    assert t["ok"] is False, "tls.ok: %r" % t
    assert t["error"], "tls.error names the failure: %r" % t
    assert_eq(a["result"]["end"], "tls_failed", "result %r" % a["result"])
    assert a["duration_ms"] < 3000, "attempt took %d ms" % a["duration_ms"]
    assert_took(r, 3 + 1)
    assert not any(x.startswith(("MAIL", "RCPT", "AUTH")) for x in f.lines()), f.lines()


@test
def close_right_after_starttls_220():
    script = BANNER + EHLO_TLS + "send 220 2.0.0 go\\r\\n\nclose\n"
    with Fake(20, script) as f:
        r, a = probe(f, "--timeout-command", "3")
    t = a["tls"]
    assert t["attempted"] and t["ok"] is False, "tls %r" % t
    assert t["error"], "tls.error: %r" % t
    assert_eq(a["result"]["end"], "tls_failed", "result %r" % a["result"])
    assert_took(r, 5)


# ---- connection reset in the middle of a reply ----

@test
def reset_mid_reply():
    script = (BANNER + "expect EHLO\nsend 250-fake.test\\r\\n250-PIPEL\n"
              "sleep 0.2\nreset\n")
    with Fake(21, script) as f:
        r, a = probe(f, "--timeout-command", "3")
    e = step(a, "ehlo")
    assert_eq(e["status"], "closed", "EHLO step status")
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("closed", "ehlo"), "result")
    assert a["result"]["detail"], "result.detail says what happened: %r" % a["result"]


# ---- nothing sent before the server's turn (extra) ----

@test
def nothing_sent_before_final_greeting_line():
    script = ("send 220-fake.test wait for it\\r\\n\nsleep 1.5\n"
              "send 220 fake.test ready\\r\\n\n" + EHLO_PLAIN + TAIL_PIPELINED)
    with Fake(22, script) as f:
        r, a = probe(f)
    assert_eq(a["result"]["end"], "ok", "result %r" % a["result"])
    early = [e["data"] for e in f.log if e.get("early")]
    assert not early, "mxtrace spoke during the 220- pause: %r" % early
    assert_eq(step(a, "banner")["reply"]["lines"], ["fake.test wait for it", "fake.test ready"],
              "two-line greeting")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
