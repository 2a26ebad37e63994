#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Issue 11 on the lab's real MTAs: the first line names what matters, 4xx
replies are judged by what a retry meets, the words are true, and the
receiving software is fingerprinted (docs/diagnoses.md, "Severity model").

Usage: test_severity.py [TEST_NAME ...]   (the lab must be up)
"""
import re
import sys

from harness import assert_eq, assert_in, attempt, codes, main, run, test


def first_line(args):
    """The text report's verdict line (the line after "mxtrace VERSION: ...")."""
    r = run(*args, json_out=False)
    return r, r.out.decode("utf-8", "replace").splitlines()[1]


def finding(d, code):
    for f in d["findings"]:
        if f["code"] == code:
            return f
    raise AssertionError("no %s in %r" % (code, codes(d)))


@test
def expired_certificate_first_line_names_it():
    r, line = first_line(["badcert-expired.test"])
    assert_eq(r.rc, 1, "exit status")
    # The lab's certificate expired 30 days before `up` (minutes ago).
    assert re.match(r"^WARNING: mail to badcert-expired\.test is accepted by mx\.badcert-expired\.test "
                    r"\(127\.0\.1\.32\), but its certificate expired 30 days ago$", line), line
    assert "warning)" not in line, "no '(with 1 warning)' under a critical finding: " + line
    d = run("badcert-expired.test").json
    f = finding(d, "tls.cert_expired")
    assert_eq(f["severity"], "critical", "severity")
    assert "(30 days ago)" in f["evidence"], f["evidence"]
    assert_eq(d["findings"][d["verdict"]["names"][-1]]["code"], "tls.cert_expired", "verdict.names")
    assert_eq(d["verdict"]["finding_counts"], {"critical": 1, "warning": 0, "info": 1}, "counts")


@test
def expired_certificate_nagios_counts_agree():
    r = run("--format", "nagios", "badcert-expired.test", json_out=False)
    line = r.out.decode().splitlines()[0]
    assert line.startswith("MXTRACE WARNING - "), line
    assert "certificate expired 30" in line, line
    assert re.search(r"\bcritical=1\b", line) and re.search(r"\bwarnings=0\b", line), line


@test
def mismatched_certificate_first_line_names_it():
    r, line = first_line(["badcert-name.test"])
    assert_eq(r.rc, 1, "exit status")
    assert line.endswith("but its certificate does not name mx.badcert-name.test"), line


@test
def untrusted_certificate_first_line_names_it():
    r, line = first_line(["badcert-untrusted.test"])
    assert line.endswith("but its certificate is not trusted (self-signed certificate)"), line


@test
def greylisting_stays_unknown():
    r, line = first_line(["greylist.test"])
    assert_eq(r.rc, 3, "exit status")
    assert line.startswith("UNKNOWN: cannot tell yet whether mail to greylist.test will be delivered: "
                           "mx.greylist.test (127.0.1.30) defers RCPT TO: 450 4.7.1"), line
    assert line.endswith("; the sending server queues the message and retries"), line
    d = run("greylist.test").json
    assert_in("delivery.inconclusive", codes(d), "codes")


@test
def timeout_is_queued_not_bounced():
    r, line = first_line(["--timeout-connect", "1", "firewalled.test"])
    assert_eq(r.rc, 2, "exit status")
    assert line.endswith("every MX times out (a firewall drops the packets); the sending server "
                         "queues the message and retries; it bounces after its queue lifetime "
                         "(commonly 5 days)"), line
    d = run("--timeout-connect", "1", "firewalled.test").json
    assert_in("delivery.stalled", codes(d), "codes")
    assert "delivery.impossible" not in codes(d), codes(d)


@test
def five_hundred_bounces_now():
    r, line = first_line(["nobody@unknown.test"])
    assert_eq(r.rc, 2, "exit status")
    assert re.search(r"rejects RCPT TO: 550 5\.1\.1 .*; it bounces now$", line), line


@test
def helo_450_host_not_found_is_persistent():
    # Postfix's reject_unknown_helo_hostname answers 450 4.7.1 "Host not
    # found": the EHLO name will not resolve on retry either.
    r, line = first_line(["--ehlo", "nowhere.nosuch.test", "helo-strict.test"])
    assert_eq(r.rc, 2, "exit status")
    assert "defers EHLO: 450 4.7.1" in line and "it bounces after its queue lifetime" in line, line
    d = run("--ehlo", "nowhere.nosuch.test", "helo-strict.test").json
    assert_in("delivery.stalled", codes(d), "codes")


@test
def ptr_450_is_persistent():
    # Real Postfix: reject_unknown_reverse_client_hostname with its default
    # 450; the client 127.0.2.2 has no PTR, so a retry meets the same 450.
    args = ["--source", "127.0.2.2", "persist450.test"]
    r, line = first_line(args)
    assert_eq(r.rc, 2, "exit status")
    assert line.startswith("CRITICAL: mail to persist450.test cannot be delivered: mx.persist450.test "
                           "(127.0.1.80) defers RCPT TO: 450 4.7.1 Client host rejected: cannot find "
                           "your reverse hostname, [127.0.2.2] (the server refuses you because your "
                           "IP has no valid reverse DNS); "), line
    assert line.endswith("the sending server queues the message and retries; it bounces after its "
                         "queue lifetime (commonly 5 days)"), line
    d = run(*args).json
    for c in ("rcpt.ptr_required", "client.ptr_missing", "delivery.stalled"):
        assert_in(c, codes(d), "codes")
    # The same MX takes mail from a client with a PTR.
    d = run("persist450.test").json
    assert_eq(d["verdict"]["status"], "ok", "from 127.0.0.1 (PTR localhost.test)")


@test
def starttls_454_local_problem_under_require_is_persistent():
    args = ["--starttls", "require", "tls454.test"]
    r, line = first_line(args)
    assert_eq(r.rc, 2, "exit status")
    assert ("defers STARTTLS: 454 4.7.0 TLS not available due to local problem" in line
            and "it bounces after its queue lifetime" in line), line
    d = run(*args).json
    assert_in("delivery.stalled", codes(d), "codes")
    f = finding(d, "tls.starttls_refused")
    assert "smtpd_tls_cert_file" in f["hint"], "the hint speaks Postfix: " + f["hint"]
    # Without --starttls require the session goes on in plaintext, as an
    # opportunistic sender's does: accepted, and the first line says why
    # it is a warning.
    r, line = first_line(["tls454.test"])
    assert_eq(r.rc, 1, "exit status (opportunistic)")
    assert line.endswith("but mx.tls454.test (127.0.1.81): the server advertised STARTTLS but "
                         "refused the command"), line


@test
def fingerprints_of_the_three_lab_mtas():
    for args, addr, name, source, match in (
            (["healthy.test"], "127.0.1.1", "postfix", "banner", "Postfix"),
            (["exim.test"], "127.0.1.40", "exim", "banner", "Exim"),
            (["opensmtpd.test"], "127.0.1.41", "opensmtpd", "banner", "OpenSMTPD")):
        d = run(*args).json
        sw = attempt(d, addr)["server_software"]
        assert_eq((sw["name"], sw["source"], sw["match"]), (name, source, match), "software of " + addr)
        assert sw["product"], sw
    # The metrics' MTA label is the same fingerprint.
    m = run("--format", "openmetrics", "exim.test", json_out=False).out.decode()
    assert re.search(r'^mxtrace_mta_info\{[^}]*mta="exim"[^}]*\} 1$', m, re.M), m


@test
def hints_speak_the_receiving_software():
    d = run("badcert-expired.test").json
    assert "smtpd_tls_cert_file" in finding(d, "tls.cert_expired")["hint"], "Postfix hint"
    d = run("--source", "127.0.2.2", "healthy.test").json
    f = finding(d, "client.ptr_missing")
    assert "smtpd_" not in f["hint"], "no software words where the fix does not differ: " + f["hint"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
