#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Metrics against the lab: every lab scenario is rendered with
--format openmetrics and --format prometheus (text format 0.0.4) and each
exposition goes through `promtool check metrics` (Debian 12's Prometheus
2.42: it lints the text format), the OpenMetrics one also through the strict
OpenMetrics 1.0 parser of python3-prometheus-client, both through the
structural rules of docs/metrics.md (HELP and TYPE on every family,
contiguous families, no duplicate series, bounded label names, one # EOF).
Then healthy and broken domains are told apart by specific series.

Usage: test_metrics.py [TEST_NAME ...]   (the lab must be up)
"""
import concurrent.futures
import os
import re
import subprocess

from harness import CA, MXTRACE, NS, assert_eq, main, test

# Every scenario of tests/lab/README.md, as mxtrace arguments.
SCENARIOS = [
    ["healthy.test"],
    ["user@healthy.test"],
    ["someone@elsewhere.test", "--server", "mx1.healthy.test"],
    ["relay.test"],
    ["implicit.test"],
    ["nosuch.test"],
    ["equal.test"],
    ["nullmx.test"],
    ["nullmix.test"],
    ["cname.test"],
    ["noaddr.test"],
    ["badfqdn.test"],
    ["iplit.test"],
    ["servfail.test"],
    ["bücher.test"],
    ["v6only.test"],
    ["fallback.test"],
    ["--timeout-connect", "1", "firewalled.test"],
    ["greylist.test"],
    ["nobody@unknown.test"],
    ["badcert-expired.test"],
    ["badcert-name.test"],
    ["badcert-untrusted.test"],
    ["banner554.test"],
    ["banner421.test"],
    ["--ehlo", "nowhere.nosuch.test", "helo-strict.test"],
    ["tarpit.test"],
    ["--timeout-banner", "1", "tarpit.test"],
    ["exim.test"],
    ["opensmtpd.test"],
    ["--source", "127.0.2.2", "healthy.test"],
    ["--source", "127.0.5.1", "--timeout-connect", "1", "healthy.test"],
    ["--server", "submit.healthy.test", "--submission", "--user", "test", "--auth", "PLAIN",
     "--from", "test@healthy.test", "--to", "someone@elsewhere.test"],
]
ENV = {"MXTRACE_PASSWORD": "S3cr3t-Pa55"}

# Label names a series may carry (docs/metrics.md): all bounded.
LABELS = {"target", "status", "severity", "code", "exchanger", "address", "port", "role",
          "end", "stage", "mta", "version", "cipher", "result"}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9]+(\.[0-9]+)?)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')


def mxtrace(args, fmt="openmetrics"):
    cmd = ["ip", "netns", "exec", NS, MXTRACE, "--format", fmt, "--ca-file", CA,
           "--allow-loopback"] + list(args)
    p = subprocess.run(cmd, capture_output=True, timeout=120, env=dict(os.environ, **ENV))
    if p.returncode not in (0, 1, 2, 3):
        raise AssertionError("%s: exit %d: %s" % (args, p.returncode, p.stderr[-300:]))
    return p.stdout.decode("utf-8")


def promtool(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=60)
    if p.returncode != 0 or p.stdout or p.stderr:
        raise AssertionError("promtool check metrics: exit %d: %s%s" % (
            p.returncode, p.stdout.decode(), p.stderr.decode()))


def openmetrics_parse(text):
    """The reference OpenMetrics 1.0 parser (strict: # EOF, metadata order,
    label syntax, UNIT suffix); returns {family: type}."""
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
    return {f.name: f.type for f in text_string_to_metric_families(text)}


def lint(text, openmetrics=True):
    """docs/metrics.md's rules; returns the samples as {(name, labels): value}."""
    lines = text.split("\n")
    assert_eq(lines[-1], "", "exposition ends with a newline")
    lines = lines[:-1]
    if openmetrics:
        assert_eq(lines[-1], "# EOF", "OpenMetrics ends with # EOF")
        assert_eq(lines.count("# EOF"), 1, "# EOF once")
        lines = lines[:-1]
    else:
        assert "# EOF" not in lines, "no # EOF in the text format"
    help_, type_, done, samples = {}, {}, set(), {}
    current = None
    for ln in lines:
        if ln.startswith("# "):
            kw, name, rest = (ln[2:].split(" ", 2) + [""])[:3]
            assert kw in ("HELP", "TYPE", "UNIT"), ln
            if kw == "UNIT":
                assert openmetrics, "UNIT only in OpenMetrics: " + ln
                assert name.endswith("_" + rest), "unit is the name's suffix: " + ln
            if name != current:
                assert name not in done, "family %s split in two" % name
                if current:
                    done.add(current)
                current = name
            if kw == "HELP":
                assert rest.strip(), "empty HELP: " + ln
                help_[name] = rest
            if kw == "TYPE":
                assert_eq(rest, "gauge", "type of " + name)
                type_[name] = rest
            continue
        m = SAMPLE.match(ln)
        assert m, "not a sample line: %r" % ln
        name = m.group(1)
        assert name == current, "sample %s outside its family %s" % (name, current)
        assert name in help_ and name in type_, "HELP and TYPE before " + name
        labels = []
        body = m.group(3) or ""
        pos = 0
        while pos < len(body):
            lm = LABEL.match(body, pos)
            assert lm, "bad labels in %r" % ln
            assert lm.group(1) in LABELS, "unexpected label %s in %r" % (lm.group(1), ln)
            labels.append((lm.group(1), lm.group(2)))
            pos = lm.end()
        assert len({k for k, _ in labels}) == len(labels), "label twice: " + ln
        key = (name, tuple(sorted(labels)))
        assert key not in samples, "duplicate series: " + ln
        samples[key] = float(m.group(4))
        if name.endswith("_seconds") and "timestamp" not in name:
            assert 0 <= samples[key] < 600, "duration in seconds: " + ln
    for name in help_:
        assert name in type_, "TYPE for " + name
    return samples


def value(samples, name, **labels):
    """The one sample of name whose labels include labels."""
    got = [v for (n, ls), v in samples.items() if n == name and set(labels.items()) <= set(ls)]
    if len(got) != 1:
        raise AssertionError("%s%r: %d samples" % (name, labels, len(got)))
    return got[0]


def check_all(text, openmetrics=True):
    promtool(text)
    if openmetrics:
        types = openmetrics_parse(text)
        assert types and set(types.values()) == {"gauge"}, types
    return lint(text, openmetrics)


@test
def every_scenario_passes_promtool():
    failures = []

    def one(args):
        try:
            om = check_all(mxtrace(args))
            text = check_all(mxtrace(args, "prometheus"), openmetrics=False)
            assert_eq(sorted(k for k in text if "duration" not in k[0]),
                      sorted(k for k in om if "duration" not in k[0]),
                      "the same series in both formats")
        except Exception as e:  # noqa: BLE001 - collect every scenario's failure
            failures.append("%s: %s" % (" ".join(args), e))

    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        list(ex.map(one, SCENARIOS))
    assert not failures, "\n  ".join([""] + failures)


@test
def batch_is_one_exposition():
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("healthy.test\nfallback.test\nnosuch.test\nbadcert-expired.test\n")
        path = f.name
    try:
        s = check_all(mxtrace(["--batch", path]))
    finally:
        os.unlink(path)
    targets = {dict(ls)["target"] for (n, ls) in s if n == "mxtrace_probe_success"}
    assert_eq(targets, {"healthy.test", "fallback.test", "nosuch.test", "badcert-expired.test"},
              "one success series per target")


@test
def healthy_series():
    s = check_all(mxtrace(["healthy.test"]))
    assert_eq(value(s, "mxtrace_probe_success"), 1, "success")
    assert_eq(value(s, "mxtrace_verdict", status="ok"), 1, "verdict ok")
    for st in ("warning", "critical", "unknown"):
        assert_eq(value(s, "mxtrace_verdict", status=st), 0, "verdict not " + st)
    assert_eq(value(s, "mxtrace_finding", code="delivery.ok"), 1, "delivery.ok")
    assert_eq(value(s, "mxtrace_findings", severity="critical"), 0, "no critical finding")
    mx1 = dict(exchanger="mx1.healthy.test", address="127.0.1.1", port="25", role="probe")
    assert_eq(value(s, "mxtrace_attempt_success", **mx1), 1, "mx1 attempt")
    assert_eq(value(s, "mxtrace_attempt_end_info", end="ok", **mx1), 1, "mx1 ended ok")
    assert_eq(value(s, "mxtrace_mta_info", mta="postfix", **mx1), 1, "Postfix named")
    assert_eq(value(s, "mxtrace_tls_info", version="TLSv1.3", **mx1), 1, "TLS 1.3")
    assert_eq(value(s, "mxtrace_tls_certificate_verified", **mx1), 1, "verified")
    exp = value(s, "mxtrace_tls_certificate_expiry_timestamp_seconds", **mx1)
    import time
    assert time.time() < exp < time.time() + 10 * 366 * 86400, "expiry in the future: %r" % exp
    for stage in ("connect", "banner", "ehlo", "tls", "mail", "rcpt"):
        assert value(s, "mxtrace_stage_duration_seconds", stage=stage, **mx1) >= 0, stage
    assert 0 < value(s, "mxtrace_probe_duration_seconds") < 60, "duration"


@test
def broken_series():
    s = check_all(mxtrace(["nosuch.test"]))
    assert_eq(value(s, "mxtrace_probe_success"), 0, "nosuch: no success")
    assert_eq(value(s, "mxtrace_verdict", status="critical"), 1, "nosuch: critical")
    assert_eq(value(s, "mxtrace_finding", code="dns.domain_nxdomain"), 1, "NXDOMAIN code")
    assert not [k for k in s if k[0] == "mxtrace_attempt_success"], "no attempt series"

    s = check_all(mxtrace(["greylist.test"]))
    assert_eq(value(s, "mxtrace_probe_success"), 0, "greylist: no success")
    assert_eq(value(s, "mxtrace_verdict", status="unknown"), 1, "greylist: unknown")
    assert_eq(value(s, "mxtrace_finding", code="rcpt.greylisted", severity="warning"), 1,
              "greylisted code")

    s = check_all(mxtrace(["badcert-expired.test"]))
    assert_eq(value(s, "mxtrace_probe_success"), 1, "an expired cert still delivers")
    mx = dict(exchanger="mx.badcert-expired.test", role="probe")
    assert_eq(value(s, "mxtrace_tls_certificate_verified", **mx), 0, "not verified")
    import time
    exp = value(s, "mxtrace_tls_certificate_expiry_timestamp_seconds", **mx)
    assert exp < time.time() - 25 * 86400, "expired about 30 days ago: %r" % exp
    assert_eq(value(s, "mxtrace_tls_certificate_earliest_expiry_timestamp_seconds"), exp,
              "earliest expiry")

    s = check_all(mxtrace(["opensmtpd.test"]))
    mx = dict(exchanger="mx.opensmtpd.test", address="127.0.1.41", port="25")
    assert_eq(value(s, "mxtrace_attempt_end_info", role="probe", end="tls_failed", **mx), 1,
              "the TLS attempt failed")
    assert_eq(value(s, "mxtrace_attempt_success", role="plaintext_retry", **mx), 1,
              "the plaintext retry is its own series")
    assert_eq(value(s, "mxtrace_mta_info", role="probe", mta="opensmtpd", **mx), 1, "OpenSMTPD")

    s = check_all(mxtrace(["exim.test"]))
    assert_eq(value(s, "mxtrace_mta_info", mta="exim"), 1, "Exim named")


@test
def series_are_stable_across_runs():
    """equal.test's three exchangers are shuffled on every run: the series
    (names and labels) must not depend on the order."""
    a = check_all(mxtrace(["--seed", "1", "equal.test"]))
    b = check_all(mxtrace(["--seed", "2", "equal.test"]))
    assert_eq(sorted(k for k in a if "duration" not in k[0]),
              sorted(k for k in b if "duration" not in k[0]), "same series")


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))
