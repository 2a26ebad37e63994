#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Issue 11: every output format tells the same story, for every lab case.

For each case (every mail domain the lab's zones publish an MX for, plus the
scenarios that need options: a client identity, --starttls require, short
deadlines, --server), mxtrace runs once per format and the test asserts:

- the text report's verdict line, the JSON verdict, the Nagios state and the
  exit status of every run are the same verdict;
- the finding counts agree: the text "Findings (...)" line, JSON
  verdict.finding_counts (and the findings array), the Nagios perfdata
  critical=/warnings= and the OpenMetrics mxtrace_findings series;
- no finding is more severe than the verdict admits without the summary
  naming it (JSON verdict.names, with the finding's host or a certificate
  phrase in the summary) or counting it ("(and N more: C critical, ...)").

Usage: test_agreement.py [TEST_NAME ...]   (the lab must be up)
"""
import glob
import os
import re
import sys

from harness import ROOT, assert_eq, main, run, test

EXIT = {"ok": 0, "warning": 1, "critical": 2, "unknown": 3}
RANK = {"info": 0, "warning": 1, "critical": 2}
# The most severe finding a status admits unnamed (docs/diagnoses.md).
ADMITS = {"ok": 0, "warning": 1, "unknown": 1, "critical": 2}

ZONES = os.path.join(ROOT, "tests", "lab", "zones")


def lab_mail_domains():
    """Every owner name under test. with an MX record in the lab's zones."""
    names = set()
    for path in sorted(glob.glob(os.path.join(ZONES, "*.zone")) + glob.glob(os.path.join(ZONES, "*.inc"))):
        origin = "test."
        with open(path) as f:
            for line in f:
                line = line.split(";", 1)[0].rstrip()
                m = re.match(r"\$ORIGIN\s+(\S+)", line)
                if m:
                    origin = m.group(1)
                    continue
                m = re.match(r"^(\S+)\s+(?:\d+\s+)?(?:IN\s+)?(?:\d+\s+)?MX\s", line)
                if not m:
                    continue
                owner = m.group(1)
                name = owner if owner.endswith(".") else owner + "." + origin
                name = name.rstrip(".")
                if name.endswith(".test") and not name.startswith("_"):
                    names.add(name)
    return sorted(names)


# Cases that need more than the domain: (label, args).
EXTRA = [
    ("implicit MX", ["implicit.test"]),
    ("NXDOMAIN", ["nosuch.test"]),
    ("SERVFAIL", ["servfail.test"]),
    ("refused, --server", ["--server", "127.0.1.20", "--to", "postmaster@healthy.test"]),
    ("unknown user", ["nobody@unknown.test"]),
    ("relay denied", ["someone@elsewhere.test", "--server", "mx1.healthy.test"]),
    ("EHLO name refused", ["--ehlo", "nowhere.nosuch.test", "helo-strict.test"]),
    ("tarpit past the deadline", ["--timeout-banner", "1", "tarpit.test"]),
    ("client without PTR", ["--source", "127.0.2.2", "healthy.test"]),
    ("client PTR not confirmed", ["--source", "127.0.2.3", "healthy.test"]),
    ("egress port 25 blocked", ["--source", "127.0.5.1", "--timeout-connect", "1", "healthy.test"]),
    ("STARTTLS required, OpenSMTPD handshake fails", ["--starttls", "require", "opensmtpd.test"]),
    ("STARTTLS required, healthy", ["--starttls", "require", "healthy.test"]),
    ("450 without PTR (Postfix)", ["--source", "127.0.2.2", "persist450.test"]),
    ("454 under --starttls require (Postfix)", ["--starttls", "require", "tls454.test"]),
    ("submission without AUTH", ["--server", "submit.healthy.test", "--submission",
                                 "--to", "someone@elsewhere.test"]),
]
# Scenarios of the reputation lab (tests/lab/README.md), when it has them.
REPUTATION = [
    ("450 PTR required", "ptr-required.test", ["--source", "127.0.2.2", "ptr-required.test"]),
    ("454 under --starttls require", "tls-broken.test", ["--starttls", "require", "tls-broken.test"]),
    ("454, opportunistic", "tls-broken.test", ["tls-broken.test"]),
    ("554 Spamhaus", "rbl.test", ["--source", "127.0.6.1", "rbl.test"]),
    ("554 Barracuda", "barracuda.test", ["--source", "127.0.6.1", "barracuda.test"]),
    ("554 Spamhaus greeting", "rbl-banner.test", ["--source", "127.0.6.1", "rbl-banner.test"]),
]


def cases():
    out = []
    domains = lab_mail_domains()
    for d in domains:
        args = [d]
        if d == "firewalled.test":
            args = ["--timeout-connect", "1", d]
        out.append((d, args))
    out += EXTRA
    for label, dom, args in REPUTATION:
        if dom in domains:
            out.append((label, args))
    return out


def text_verdict(out):
    """(status, summary, counts) from the text report."""
    lines = out.decode("utf-8", "replace").splitlines()
    status = summary = None
    counts = {"critical": 0, "warning": 0, "info": 0}
    for l in lines[1:]:
        m = re.match(r"^(OK|WARNING|CRITICAL|UNKNOWN): (.*)$", l)
        if m and status is None:
            status, summary = m.group(1).lower(), m.group(2)
        m = re.match(r"^Findings \((\d+) critical, (\d+) warning, (\d+) info\):$", l)
        if m:
            counts = {"critical": int(m.group(1)), "warning": int(m.group(2)), "info": int(m.group(3))}
    # The verdict line is the second line: "mxtrace VERSION: TARGET" comes first.
    assert lines and lines[0].startswith("mxtrace "), lines[:2]
    assert len(lines) > 1 and re.match(r"^(OK|WARNING|CRITICAL|UNKNOWN): ", lines[1]), lines[:2]
    return status, summary, counts


def nagios_verdict(out):
    line = out.decode("utf-8", "replace").splitlines()[0]
    m = re.match(r"^MXTRACE (OK|WARNING|CRITICAL|UNKNOWN) - ", line)
    assert m, line
    perf = line.split("|", 1)[1] if "|" in line else ""
    crit = re.search(r"(?:^|\s)critical=(\d+)", perf)
    warn = re.search(r"(?:^|\s)warnings=(\d+)", perf)
    assert crit and warn, "perfdata counts in %r" % line
    return m.group(1).lower(), int(crit.group(1)), int(warn.group(1))


def metrics_counts(out):
    counts = {}
    for l in out.decode("utf-8", "replace").splitlines():
        m = re.match(r'^mxtrace_findings\{[^}]*severity="(\w+)"[^}]*\} (\S+)$', l)
        if m:
            counts[m.group(1)] = counts.get(m.group(1), 0) + int(float(m.group(2)))
    return counts


def check_named(d, label):
    """No finding is more severe than the verdict admits without the summary
    naming it (verdict.names) or counting it (verdict.more)."""
    v = d["verdict"]
    findings = d["findings"]
    summary = v["summary"] or ""
    admits = ADMITS[v["status"]]
    for i in v["names"]:
        assert 0 <= i < len(findings), "%s: names index %d" % (label, i)
    named = set(v["names"])
    if len(v["names"]) > 1:
        # The worst finding named after "but": its host, or its certificate.
        w = findings[v["names"][1]]
        assert ", but " in summary or ", and " in summary, "%s: %s" % (label, summary)
        where = [x for x in (w.get("host"), w.get("address")) if x]
        assert (any(x in summary for x in where) or "its certificate" in summary
                or w["stage"] == "client"), "%s: the summary names %s: %s" % (label, w["code"], summary)
    unnamed_over = [f for i, f in enumerate(findings)
                    if i not in named and f["stage"] != "verdict" and RANK[f["severity"]] > admits]
    unnamed_warn = [f for i, f in enumerate(findings)
                    if i not in named and f["stage"] != "verdict" and RANK[f["severity"]] >= 1]
    if unnamed_over:
        m = re.search(r"\(and (\d+) more:((?: \d+ critical,?)?)((?: \d+ warnings?)?)\)", summary)
        assert m, "%s: %s unnamed but above %s, and no count in %r" % (
            label, [f["code"] for f in unnamed_over], v["status"], summary)
        ncrit = int(m.group(2).split()[0]) if m.group(2) else 0
        assert_eq(int(m.group(1)), len(unnamed_warn), "%s: 'and N more' count" % label)
        assert_eq(ncrit, sum(1 for f in unnamed_warn if f["severity"] == "critical"),
                  "%s: critical count in the summary" % label)
        assert_eq(v["more"], len(unnamed_warn), "%s: verdict.more" % label)
    # The worst finding overall is either admitted or named.
    if findings:
        worst = max(RANK[f["severity"]] for f in findings if f["stage"] != "verdict") \
            if any(f["stage"] != "verdict" for f in findings) else 0
        if worst > admits:
            assert any(RANK[findings[i]["severity"]] == worst for i in named), \
                "%s: the worst finding (%d) is above %s and not named: %s" % (
                    label, worst, v["status"], summary)


@test
def every_lab_case_agrees_across_formats():
    cs = cases()
    assert len(cs) >= 40, "lab cases found: %d" % len(cs)
    failures = []
    for label, args in cs:
        try:
            j = run(*args)
            d = j.json
            assert d is not None, "%s: no JSON (rc %d)" % (label, j.rc)
            v = d["verdict"]
            st = v["status"]
            counts = {k: sum(1 for f in d["findings"] if f["severity"] == k)
                      for k in ("critical", "warning", "info")}
            assert_eq(v["finding_counts"], counts, "%s: JSON finding_counts" % label)
            assert_eq(j.rc, EXIT[st], "%s: exit status of --json" % label)

            t = run(*args, json_out=False)
            tst, tsum, tcounts = text_verdict(t.out)
            assert_eq(tst, st, "%s: text verdict line" % label)
            assert_eq(t.rc, EXIT[st], "%s: exit status of text" % label)
            if d["findings"]:
                assert_eq(tcounts, counts, "%s: text Findings line" % label)

            n = run("--format", "nagios", *args, json_out=False)
            nst, ncrit, nwarn = nagios_verdict(n.out)
            assert_eq(nst, st, "%s: Nagios state" % label)
            assert_eq(n.rc, EXIT[st], "%s: exit status of Nagios" % label)
            assert_eq((ncrit, nwarn), (counts["critical"], counts["warning"]),
                      "%s: Nagios perfdata counts" % label)

            m = run("--format", "openmetrics", *args, json_out=False)
            assert_eq(m.rc, EXIT[st], "%s: exit status of OpenMetrics" % label)
            mc = metrics_counts(m.out)
            for k in ("critical", "warning", "info"):
                assert_eq(mc.get(k, 0), counts[k], "%s: mxtrace_findings{severity=%s}" % (label, k))

            check_named(d, label)
        except AssertionError as e:
            failures.append(str(e))
    assert not failures, "%d of %d cases disagree:\n  %s" % (len(failures), len(cs), "\n  ".join(failures))


@test
def lab_cases_cover_every_verdict():
    """The agreement test is not hollow: the lab cases reach all four
    statuses and both critical delivery codes."""
    seen, codes = set(), set()
    for label, args in cases():
        d = run(*args).json
        seen.add(d["verdict"]["status"])
        codes.update(f["code"] for f in d["findings"] if f["stage"] == "verdict")
    assert_eq(sorted(seen), ["critical", "ok", "unknown", "warning"], "statuses reached")
    for c in ("delivery.ok", "delivery.fallback", "delivery.impossible", "delivery.stalled",
              "delivery.inconclusive"):
        assert c in codes, "%s reached by some lab case: %s" % (c, sorted(codes))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
