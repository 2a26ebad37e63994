#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Lab integration tests against MTAs other than Postfix: Exim 4.96 as a
submission server with AUTH (submit.healthy.test, 127.0.1.40:587 and :25,
also the MX of exim.test) and OpenSMTPD 6.8 (mx.opensmtpd.test,
127.0.1.41:25), both from Debian 12 and run by tests/lab/lab.sh.

Usage: test_mta.py [TEST_NAME ...]   (the lab must be up: tests/lab/lab.sh up)
Every JSON output is validated against docs/mxtrace.schema.json.
"""
import base64
import glob
import os
import sys
import time

from harness import RUN, assert_eq, assert_in, attempt, codes, main, run, step, test

SUBMIT = "submit.healthy.test"
SUBMIT_ADDR = "127.0.1.40"
OSMTPD_ADDR = "127.0.1.41"
USER = "test"
PASSWORD = "S3cr3t-Pa55"
GOOD = {"MXTRACE_PASSWORD": PASSWORD}
EXIM_LOG = os.path.join(RUN, "mta", "exim", "log", "mainlog")
EXIM_SINK = os.path.join(RUN, "mta", "exim", "mail", "new")
OSMTPD_SINK = os.path.join(RUN, "mta", "opensmtpd", "mail", "new")


def submission(*extra, env=GOOD, **kw):
    """mxtrace against the Exim submission port, authenticated relay."""
    args = ["--server", SUBMIT, "--submission", "--from", "test@healthy.test",
            "--to", "someone@elsewhere.test"] + list(extra)
    return run(*args, env=env, **kw)


def stages(att):
    return [s["stage"] for s in att["steps"]]


def auth_steps(att):
    return [s for s in att["steps"] if s["stage"] == "auth"]


def secrets(password, user=USER):
    """The password and the forms AUTH would put on the wire."""
    pw = password.encode()
    u = user.encode()
    forms = [pw,
             base64.b64encode(b"\0" + u + b"\0" + pw),   # PLAIN, no authzid
             base64.b64encode(u + b"\0" + u + b"\0" + pw),  # PLAIN, authzid
             base64.b64encode(pw)]                      # LOGIN password
    # Also without "=" padding, in case a form is cut or re-encoded.
    return forms + [f.rstrip(b"=") for f in forms[1:]]


def assert_no_secret(r, password, what):
    for name, data in (("stdout", r.out), ("stderr", r.err.encode())):
        for s in secrets(password):
            if s in data:
                i = data.index(s)
                raise AssertionError("%s: %r found in %s: ...%r..." % (
                    what, s, name, data[max(0, i - 60):i + len(s) + 20]))


def exim_log_size():
    try:
        return os.path.getsize(EXIM_LOG)
    except OSError:
        return 0


def exim_log_since(offset, want, timeout=30.0):
    """Lines Exim logged after OFFSET; waits until one contains WANT (a
    string, or a predicate on the line)."""
    match = want if callable(want) else (lambda line: want in line)
    deadline = time.monotonic() + timeout
    while True:
        with open(EXIM_LOG, "rb") as f:
            f.seek(offset)
            lines = f.read().decode("utf-8", "replace").splitlines()
        if any(match(line) for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def local_port(att):
    return att["local"].rsplit(":", 1)[1]


# ---- Exim: submission with AUTH (587) ----

@test
def submission_auth_plain():
    r = submission("--user", USER, "--auth", "PLAIN")
    d = r.json
    a = attempt(d, SUBMIT_ADDR, 587)
    assert_eq(a["mode"], "submission", "mode")
    assert a["tls"]["ok"] and a["tls"]["certificate"]["chain_ok"], "TLS verified: %r" % a["tls"]
    assert_eq(a["tls"]["certificate"]["name_checked"], SUBMIT, "cert name checked")
    assert a["tls"]["certificate"]["name_ok"], "cert name ok"
    au = auth_steps(a)
    assert_eq([s["command"] for s in au], ["AUTH PLAIN <redacted>"], "one redacted AUTH PLAIN")
    assert_eq(au[0]["reply"]["code"], 235, "235 authenticated")
    assert stages(a).index("auth") > stages(a).index("ehlo_tls"), "AUTH after STARTTLS: %r" % stages(a)
    assert_eq(step(a, "mail")["reply"]["code"], 250, "MAIL accepted")
    rc = step(a, "rcpt")
    assert_eq(rc["command"], "RCPT TO:<someone@elsewhere.test>", "outside recipient")
    assert_eq(rc["reply"]["code"], 250, "authenticated relay accepted")
    assert_eq(a["result"]["end"], "ok", "attempt ok")
    assert_eq(d["verdict"]["status"], "ok", "verdict (%s)" % d["verdict"]["summary"])
    assert_eq(r.rc, 0, "exit code")
    assert not [c for c in codes(d) if c.startswith("auth.")], "no auth finding: %r" % codes(d)


@test
def submission_auth_login():
    r = submission("--user", USER, "--auth", "LOGIN")
    d = r.json
    a = attempt(d, SUBMIT_ADDR, 587)
    au = auth_steps(a)
    assert_eq([s["command"] for s in au], ["AUTH LOGIN", "<redacted>", "<redacted>"],
              "AUTH LOGIN, user and password redacted")
    assert_eq([s["reply"]["code"] for s in au], [334, 334, 235], "334, 334, 235")
    assert_eq(step(a, "rcpt")["reply"]["code"], 250, "authenticated relay accepted")
    assert_eq(d["verdict"]["status"], "ok", "verdict (%s)" % d["verdict"]["summary"])
    assert_eq(r.rc, 0, "exit code")


@test
def submission_auth_cram_md5():
    r = submission("--user", USER, "--auth", "CRAM-MD5")
    d = r.json
    a = attempt(d, SUBMIT_ADDR, 587)
    au = auth_steps(a)
    assert_eq([s["command"] for s in au], ["AUTH CRAM-MD5", "<redacted>"], "CRAM-MD5 response redacted")
    assert_eq([s["reply"]["code"] for s in au], [334, 235], "challenge, then 235")
    assert_eq(step(a, "rcpt")["reply"]["code"], 250, "authenticated relay accepted")
    assert_eq(d["verdict"]["status"], "ok", "verdict (%s)" % d["verdict"]["summary"])


@test
def submission_wrong_password():
    r = submission("--user", USER, "--auth", "PLAIN", env={"MXTRACE_PASSWORD": "wrong-Pa55word"})
    d = r.json
    a = attempt(d, SUBMIT_ADDR, 587)
    au = auth_steps(a)
    assert_eq(au[-1]["reply"]["code"], 535, "535 from Exim")
    assert_in("auth.failed", codes(d), "finding")
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("rejected", "auth"), "rejected at auth")
    assert "mail" not in stages(a), "no MAIL after a failed AUTH: %r" % stages(a)
    assert_eq(d["verdict"]["status"], "critical", "verdict")
    assert_eq(r.rc, 2, "exit code")


@test
def password_never_in_any_output():
    runs = [
        ("PLAIN json+transcript", submission("--user", USER, "--auth", "PLAIN", "--transcript")),
        ("LOGIN json+transcript", submission("--user", USER, "--auth", "LOGIN", "--transcript")),
        ("CRAM-MD5 json+transcript", submission("--user", USER, "--auth", "CRAM-MD5", "--transcript")),
        ("PLAIN text --transcript", submission("--user", USER, "--auth", "PLAIN", "--transcript",
                                               json_out=False)),
        ("LOGIN text --transcript", submission("--user", USER, "--auth", "LOGIN", "--transcript",
                                               json_out=False)),
        ("PLAIN -vv (transcript on stderr)", submission("--user", USER, "--auth", "PLAIN", "-vv",
                                                        json_out=False)),
        ("LOGIN -vv --send", submission("--user", USER, "--auth", "LOGIN", "-vv", "--send",
                                        "--transcript", json_out=False)),
        ("PLAIN --send json", submission("--user", USER, "--auth", "PLAIN", "--send", "--transcript")),
    ]
    for what, r in runs:
        assert r.rc in (0, 1), "%s: exit %d: %r" % (what, r.rc, r.err[-300:])
        assert_no_secret(r, PASSWORD, what)
        if "transcript" in what or "-vv" in what:
            text = r.out + r.err.encode()
            assert b"<redacted>" in text, "%s: the transcript shows the redaction" % what
    # A wrong password must not leak either (it is echoed nowhere).
    bad = "wrong-Pa55word"
    for json_out in (True, False):
        r = submission("--user", USER, "--auth", "PLAIN", "--transcript", "-vv",
                       env={"MXTRACE_PASSWORD": bad}, json_out=json_out)
        assert_eq(r.rc, 2, "wrong password exit")
        assert_no_secret(r, bad, "wrong password, json=%s" % json_out)


@test
def submission_requires_auth():
    r = submission(env=None)
    d = r.json
    a = attempt(d, SUBMIT_ADDR, 587)
    m = step(a, "mail")["reply"]
    assert_eq(m["code"], 530, "MAIL without AUTH")
    assert_eq(m["lines"], ["5.7.0 Authentication required"], "Exim's ACL message")
    assert_in("auth.required", codes(d), "finding")
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("rejected", "mail"), "rejected at MAIL")
    assert_eq(d["verdict"]["status"], "critical", "verdict")
    assert_eq(r.rc, 2, "exit code")


@test
def submission_refused_mail_is_not_also_a_recipient_rejection():
    # With PIPELINING mxtrace sends MAIL and RCPT together; after the 530
    # to MAIL, Exim answers the RCPT with "503 sender not yet given".
    # That 503 is a consequence of the refused MAIL, not a verdict on the
    # recipient.
    d = submission(env=None).json
    a = attempt(d, SUBMIT_ADDR, 587)
    assert_eq(step(a, "mail")["reply"]["code"], 530, "MAIL refused")
    bogus = [f for f in d["findings"] if f["code"].startswith("rcpt.")]
    assert not bogus, "recipient findings from the 503 after a refused MAIL: %r" % [
        (f["code"], f.get("evidence")) for f in bogus]


@test
def starttls_never_keeps_credentials_off_plaintext():
    before = exim_log_size()
    r = submission("--starttls", "never", "--user", USER, "--auth", "PLAIN")
    d = r.json
    a = attempt(d, SUBMIT_ADDR, 587)
    assert not a["tls"]["attempted"], "no TLS"
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("local_policy", "auth"),
              "mxtrace stops before AUTH")
    assert not [s for s in a["steps"] if (s.get("command") or "").upper().startswith("AUTH")], \
        "no AUTH command: %r" % [s.get("command") for s in a["steps"]]
    assert_no_secret(r, PASSWORD, "--starttls never")
    port = local_port(a)
    # Exim logs the session's end when its process ends, maybe after
    # mxtrace exited: wait for that line, not the first one of the session.
    lines = exim_log_since(before, lambda ln: "]:%s " % port in ln and
                           "no MAIL in SMTP connection" in ln)
    lines = [ln for ln in lines if "]:%s " % port in ln]
    closing = [ln for ln in lines if "no MAIL in SMTP connection" in ln]
    assert closing, "Exim logged the session: %r" % lines
    assert "C=EHLO,QUIT" in closing[0], "commands Exim saw: %r" % closing[0]
    assert not [ln for ln in lines if "AUTH" in ln or "authenticator" in ln], \
        "no AUTH in the Exim log: %r" % lines


@test
def submission_send_with_auth():
    r = submission("--user", USER, "--auth", "PLAIN", "--send")
    d = r.json
    a = attempt(d, SUBMIT_ADDR, 587)
    assert_eq(step(a, "data")["reply"]["code"], 354, "354 to DATA")
    end = step(a, "data_end")["reply"]
    assert_eq(end["code"], 250, "message accepted")
    assert end["lines"][0].startswith("OK id="), "Exim's queue id: %r" % end["lines"]
    qid = end["lines"][0][len("OK id="):]
    assert_in("data.accepted", codes(d), "finding")
    assert_eq(d["verdict"]["status"], "ok", "verdict (%s)" % d["verdict"]["summary"])
    assert_eq(r.rc, 0, "exit code")
    # Exim relays it into the lab's sink maildir (Received: ... id QID).
    deadline = time.monotonic() + 30  # delivered asynchronously; polled
    found = None
    while found is None and time.monotonic() < deadline:
        for path in glob.glob(os.path.join(EXIM_SINK, "*")):
            text = open(path, "rb").read().decode("utf-8", "replace")
            if ("id " + qid) in text:
                found = text
                break
        else:
            time.sleep(0.05)
    assert found, "message %s in %s" % (qid, EXIM_SINK)
    assert "Envelope-to: someone@elsewhere.test" in found, found[:600]
    assert "Subject: mxtrace test message" in found, found[:600]


@test
def unauthenticated_relay_denied_on_port_25():
    r = run("--server", SUBMIT, "--to", "someone@elsewhere.test")
    d = r.json
    a = attempt(d, SUBMIT_ADDR, 25)
    rc = step(a, "rcpt")["reply"]
    assert_eq((rc["code"], rc["lines"]), (550, ["relay not permitted"]), "Exim's relay refusal")
    assert_in("rcpt.relay_denied", codes(d), "finding")
    assert_eq(r.rc, 2, "exit code")


# ---- Exim as the MX of exim.test (port 25) ----

@test
def exim_mx_probe():
    r = run("exim.test")
    d = r.json
    assert_eq([(x["name"], x["preference"]) for x in d["dns"]["exchangers"]], [(SUBMIT, 10)], "MX")
    a = attempt(d, SUBMIT_ADDR, 25)
    banner = step(a, "banner")["reply"]
    assert_eq(banner["code"], 220, "banner")
    assert banner["lines"][0].startswith("submit.healthy.test ESMTP Exim 4."), banner["lines"]
    plain = a["capabilities_plaintext"]
    assert plain is not None, "pre-TLS capabilities"
    assert_eq(plain["greeting"], "submit.healthy.test Hello localhost.test [127.0.0.1]", "greeting")
    for ext in ("SIZE", "8BITMIME", "PIPELINING", "CHUNKING", "STARTTLS", "SMTPUTF8"):
        assert_in(ext, plain["extensions"], "pre-TLS extensions")
    for kw in ("PIPECONNECT", "HELP"):
        assert_in(kw, plain["keywords"], "pre-TLS keywords")
    assert_eq(plain["size"], 10485760, "SIZE (message_size_limit = 10M)")
    assert_eq(plain["auth"], [], "no AUTH before TLS")
    caps = a["capabilities"]
    assert "STARTTLS" not in caps["extensions"], "no STARTTLS inside TLS"
    assert_eq(caps["auth"], ["PLAIN", "LOGIN", "CRAM-MD5"], "AUTH after TLS")
    assert not (plain["malformed"] or caps["malformed"] or plain["size_malformed"]), "well formed"
    t = a["tls"]
    assert t["ok"] and t["certificate"]["chain_ok"] and t["certificate"]["name_ok"], t
    assert_eq(step(a, "rcpt")["reply"]["code"], 250, "postmaster@exim.test accepted")
    # Exim echoes [127.0.0.1], the local address itself: no egress.
    c = d["client"]
    assert_eq(c["local_ipv4"], "127.0.0.1", "local address")
    assert_eq((c["egress"], c["egress_source"]), (None, None), "egress")
    assert_eq(d["verdict"]["status"], "ok", "verdict (%s)" % d["verdict"]["summary"])
    assert_eq(r.rc, 0, "exit code")


# ---- the end of a session: QUIT is sent, its reply not awaited ----

POSTFIX_LOGS = {m: os.path.join(RUN, "mta", m, "maillog") for m in ("mx1", "mx2")}


def file_size(path):
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def log_since(path, offset):
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace").splitlines()


@test
def postfix_logs_a_normal_quit_not_a_lost_connection():
    # mxtrace no longer waits for the 221 (RFC 5321 §4.1.1.10) but sends
    # QUIT before it closes: Postfix logs "disconnect from ... quit=1", never
    # "lost connection after RCPT".
    before = {m: file_size(p) for m, p in POSTFIX_LOGS.items()}
    d = run("healthy.test").json
    for a in d["attempts"]:
        assert_eq(a["result"]["end"], "ok", "attempt %s" % a["address"])
        assert_eq(a["steps"][-1]["stage"], "quit", "QUIT sent to %s" % a["address"])
    deadline = time.monotonic() + 15
    while True:
        logs = {m: log_since(p, before[m]) for m, p in POSTFIX_LOGS.items()}
        ends = {m: [ln for ln in lines if "disconnect from" in ln and " rcpt=1" in ln]
                for m, lines in logs.items()}
        if all(ends.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    for m, lines in logs.items():
        assert ends[m], "%s logged the session's end: %r" % (m, lines)
        assert " quit=1" in ends[m][0] and "rset" not in ends[m][0], \
            "%s saw QUIT, no RSET: %r" % (m, ends[m][0])
        lost = [ln for ln in lines if "lost connection" in ln]
        assert not lost, "%s lost the connection: %r" % (m, lost)


@test
def exim_sees_quit_not_an_unexpected_disconnection():
    before = exim_log_size()
    a = attempt(run("exim.test").json, SUBMIT_ADDR, 25)
    assert_eq((a["result"]["end"], a["steps"][-1]["stage"]), ("ok", "quit"), "result, last step")
    port = local_port(a)
    # Exim logs an abrupt end as "unexpected disconnection while reading
    # SMTP command ... C=...,RCPT"; a QUIT ends quietly.  Give it time.
    lines = [ln for ln in exim_log_since(before, "unexpected disconnection", timeout=2.0)
             if "]:%s " % port in ln or ln.endswith("]:%s" % port)]
    assert not [ln for ln in lines if "unexpected disconnection" in ln or "lost" in ln], \
        "Exim saw no QUIT: %r" % lines


# ---- OpenSMTPD 6.8 as the MX of opensmtpd.test ----
# Debian 12's OpenSMTPD offers STARTTLS but fails every handshake: its
# privilege-separated key engine does not work with OpenSSL 3 (OpenSMTPD
# issues #1171, #1239; see tests/lab/README.md).

OSMTPD_KEYWORDS = ["8BITMIME", "ENHANCEDSTATUSCODES", "SIZE 36700160", "DSN", "STARTTLS", "HELP"]


@test
def opensmtpd_probe_caps_and_starttls():
    d = run("opensmtpd.test").json
    assert_eq([(x["name"], x["preference"]) for x in d["dns"]["exchangers"]],
              [("mx.opensmtpd.test", 10)], "MX")
    a = attempt(d, OSMTPD_ADDR, 25)
    assert_eq(step(a, "banner")["reply"]["lines"], ["mx.opensmtpd.test ESMTP OpenSMTPD"], "banner")
    e = step(a, "ehlo")["reply"]
    assert_eq(e["lines"][0], "mx.opensmtpd.test Hello localhost.test [127.0.0.1], pleased to meet you",
              "greeting")
    caps = a["capabilities"]  # the last EHLO: the only one, as TLS failed
    assert_eq(caps["keywords"], OSMTPD_KEYWORDS, "EHLO keywords, in order")
    for ext in ("8BITMIME", "ENHANCEDSTATUSCODES", "SIZE", "DSN", "STARTTLS"):
        assert_in(ext, caps["extensions"], "extensions")
    assert_eq(caps["size"], 36700160, "SIZE (OpenSMTPD default 35 MiB)")
    assert_eq(caps["auth"], [], "no AUTH")
    st = step(a, "starttls")["reply"]
    assert_eq((st["code"], st["lines"]), (220, ["2.0.0 Ready to start TLS"]), "STARTTLS accepted")
    t = a["tls"]
    assert t["attempted"] and not t["ok"], "handshake fails: %r" % t
    assert "alert internal error" in (t["error"] or ""), "server's TLS alert: %r" % t["error"]
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("tls_failed", "tls"), "result")
    assert_in("tls.handshake_failed", codes(d), "finding")
    assert_eq(d["client"]["egress"], None, "OpenSMTPD echoes [127.0.0.1] too: no egress")


@test
def opensmtpd_plaintext_probe_ok():
    r = run("--starttls", "never", "opensmtpd.test")
    d = r.json
    a = attempt(d, OSMTPD_ADDR, 25)
    assert_eq(step(a, "mail")["reply"]["lines"], ["2.0.0 Ok"], "MAIL")
    assert_eq(step(a, "rcpt")["reply"]["code"], 250, "postmaster@opensmtpd.test")
    assert_eq(d["verdict"]["status"], "ok", "verdict (%s)" % d["verdict"]["summary"])
    assert_eq(r.rc, 0, "exit code")


@test
def opensmtpd_send_delivers_to_maildir():
    before = set(glob.glob(os.path.join(OSMTPD_SINK, "*")))
    d = run("--starttls", "never", "--send", "user@opensmtpd.test").json
    a = attempt(d, OSMTPD_ADDR, 25)
    end = step(a, "data_end")["reply"]
    assert_eq(end["code"], 250, "accepted")
    assert end["lines"][0].endswith("Message accepted for delivery"), end["lines"]
    assert_in("data.accepted", codes(d), "finding")
    deadline = time.monotonic() + 30  # delivered asynchronously; polled
    new = []
    while not new and time.monotonic() < deadline:
        new = sorted(set(glob.glob(os.path.join(OSMTPD_SINK, "*"))) - before)
        time.sleep(0.05)
    assert_eq(len(new), 1, "one message in %s" % OSMTPD_SINK)
    text = open(new[0], "rb").read().decode("utf-8", "replace")
    assert "To: user@opensmtpd.test" in text, text[:600]


@test
def opensmtpd_unknown_recipient():
    d = run("--starttls", "never", "nobody@opensmtpd.test").json
    rc = step(attempt(d, OSMTPD_ADDR, 25), "rcpt")["reply"]
    assert_eq((rc["code"], rc["lines"]), (550, ["Invalid recipient: <nobody@opensmtpd.test>"]), "RCPT")


@test
def opensmtpd_broken_starttls_is_not_a_bounce():
    # Opportunistic senders get the mail through despite the failed
    # handshake: Exim retries the same host in clear at once
    # (tls_tempfail_tryclear, default true), Postfix defers and retries
    # in plaintext. So this is a TLS problem, not "mail bounces".
    r = run("opensmtpd.test")
    d = r.json
    assert "delivery.impossible" not in codes(d), "delivery.impossible for a STARTTLS failure: %r / %s" % (
        codes(d), d["verdict"]["summary"])
    assert_eq(d["verdict"]["status"], "warning", "verdict (%s)" % d["verdict"]["summary"])
    assert_eq(r.rc, 1, "exit code")


@test
def scenario_helo_only():
    """A server that refuses EHLO (Exim ACL): HELO fallback, no extensions."""
    r = run("heloonly.test")
    d = r.json
    a = attempt(d, "127.0.1.42")
    assert_eq(step(a, "ehlo")["reply"]["code"], 502, "EHLO refused")
    assert_eq(step(a, "helo")["reply"]["code"], 250, "HELO accepted")
    assert a["helo_fallback"], "helo_fallback"
    assert_eq(a["capabilities"], None, "no capabilities without EHLO")
    assert_in("ehlo.helo_only", codes(d), "finding")
    assert_eq((d["verdict"]["status"], r.rc), ("warning", 1), "verdict and exit code")


@test
def implicit_tls_on_465():
    d = run("--server", "submit.healthy.test:465", "--to", "postmaster@exim.test").json
    a = attempt(d, "127.0.1.40", 465)
    assert_eq(a["mode"], "smtps", "implicit TLS mode")
    assert a["tls"]["ok"] and a["tls"]["certificate"]["chain_ok"] and a["tls"]["certificate"]["name_ok"], a["tls"]
    assert_eq([s["stage"] for s in a["steps"]][:2], ["banner", "ehlo"], "banner read inside TLS")
    assert all(t["tls"] for t in a["transcript"] if t["dir"] != "I"), "every line inside TLS"
    assert_eq(d["target"]["domain"], "exim.test", "--server: the recipient's domain")
    assert_eq(d["verdict"]["status"], "ok", "verdict")


@test
def scenario_egress_blocked():
    """Port 25 blocked at the client's side (nft drops SYNs from 127.0.5.1 to
    port 25), while the canary on 587 connects: the client's network is the
    problem, not the destination."""
    r = run("--source", "127.0.5.1", "--timeout-connect", "1", "exim.test")
    d = r.json
    a = attempt(d, "127.0.1.40", 25)
    assert_eq(a["connect"]["status"], "timeout", "port 25 filtered")
    canaries = [x for x in d["attempts"] if x["canary"]]
    assert_eq(sorted((x["port"], x["connect"]["status"]) for x in canaries),
              [(465, "connected"), (587, "connected")], "canaries on 587 and 465")
    assert_in("connect.egress_blocked", codes(d), "finding")
    assert " connected)" in d["verdict"]["summary"], d["verdict"]["summary"]
    assert "connect.timeout" not in codes(d), "no per-address timeout flood"
    assert_eq((d["verdict"]["status"], r.rc), ("unknown", 3), "the target is not judged")


@test
def egress_blocked_when_mx_refuse_587_465():
    """From 127.0.5.1 (port 25 dropped) to healthy.test, whose two Postfix
    MX listen on 25 only: the canaries on 587/465 are refused, and a RST
    proves the path is open, so port 25 alone is filtered on every MX."""
    r = run("--source", "127.0.5.1", "--timeout-connect", "1", "healthy.test")
    d = r.json
    canaries = [x for x in d["attempts"] if x["canary"]]
    assert canaries and all(x["connect"]["status"] == "refused" for x in canaries), canaries
    assert_in("connect.egress_blocked", codes(d), "finding")
    f = [x for x in d["findings"] if x["code"] == "connect.egress_blocked"][0]
    assert "refused" in f["evidence"], f["evidence"]
    # The first line says what the canary saw, as the evidence does.
    assert "refused (RST)" in d["verdict"]["summary"], d["verdict"]["summary"]
    assert " connected)" not in d["verdict"]["summary"], d["verdict"]["summary"]
    assert "connect.timeout" not in codes(d), "no per-address timeout flood"
    assert_eq((d["verdict"]["status"], r.rc), ("unknown", 3), "the target is not judged")


@test
def egress_not_blocked_when_one_mx_is_filtered():
    """halfwall.test: the primary drops every port, the backup works.  From
    the default source the backup delivers; from 127.0.5.1 (port 25
    dropped) the backup answers 587/465 by refusing but the primary is
    silent there too, so not every MX shows the evidence: never
    connect.egress_blocked."""
    d = run("--timeout-connect", "1", "halfwall.test").json
    assert "connect.egress_blocked" not in codes(d), codes(d)
    assert_eq(attempt(d, "127.0.1.2", 25)["connect"]["status"], "connected", "the backup answers")
    assert_eq([x for x in d["attempts"] if x["canary"]], [], "no canary: one MX connected")
    d = run("--source", "127.0.5.1", "--timeout-connect", "1", "halfwall.test").json
    by_mx = {}
    for x in d["attempts"]:
        if x["canary"]:
            by_mx.setdefault(x["address"], set()).add(x["connect"]["status"])
    assert_eq(by_mx, {"127.0.1.21": {"timeout"}, "127.0.1.2": {"refused"}}, "canaries per MX")
    assert "connect.egress_blocked" not in codes(d), codes(d)


@test
def no_credentials_to_an_unverified_certificate():
    """Without the lab CA the certificate does not verify: mxtrace keeps the
    password to itself (no AUTH on the wire) and says why."""
    r = run("--server", "submit.healthy.test", "--submission", "--user", "test",
            "--from", "test@healthy.test", "--to", "someone@elsewhere.test",
            ca=False, env={"MXTRACE_PASSWORD": PASSWORD})
    d = r.json
    a = attempt(d, SUBMIT_ADDR, 587)
    assert a["tls"]["ok"] and not a["tls"]["certificate"]["chain_ok"], "TLS up, chain not verified"
    assert "auth" not in [s["stage"] for s in a["steps"]], "no AUTH sent"
    assert_eq((a["result"]["end"], a["result"]["stage"]), ("local_policy", "auth"), "stopped by policy")
    assert "did not verify" in a["result"]["detail"], a["result"]["detail"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
