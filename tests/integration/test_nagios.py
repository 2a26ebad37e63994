#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""--format nagios against the lab, as Nagios and Icinga run it: the state
and exit status, -w/-c and certificate-days thresholds tripping at the
right values on real measurements, -t 5 against a tarpit ending in at most
5.5 s with UNKNOWN, usage errors as UNKNOWN, the default deadline below
60 s, the status line naming the worst finding, one long-output line per
finding, and every line of performance data checked against the grammar of
the Monitoring Plugins Development Guidelines ("Performance data").

Usage: test_nagios.py [TEST_NAME ...]   (the lab must be up)
"""
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

import harness
from harness import MXTRACE, NS, ROOT, assert_eq, assert_in, main, run, test

# 'label'=value[UOM];[warn];[crit];[min];[max]: label without ' and = (quoted
# when it has spaces, '' for a quote), value/min/max in [-0-9.] or U, warn
# and crit in the range format, UOM one of the guidelines' list; trailing
# fields may be left out.
RANGE = r"@?(?:~|-?[0-9.]+)?(?::(?:-?[0-9.]+)?)?"
NUM = r"-?[0-9.]+"
PERF_ITEM = re.compile(
    r"^(?:'(?:[^'=]|'')+'|[^'= ]+)=(?:-?[0-9.]+|U)(?:s|ms|us|%|B|KB|MB|TB|c)?"
    r"(?:;(?:" + RANGE + r")?(?:;(?:" + RANGE + r")?(?:;(?:" + NUM + r")?(?:;(?:" + NUM +
    r")?)?)?)?)?$")
STATUS = re.compile(r"^MXTRACE (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]*) \|(( [^ ]+)+)$")
LONG = re.compile(r"^\[(CRITICAL|WARNING|INFO)\] ([a-z0-9_.]+)( [^ \[]+)?( \[[^\]]+\])?: [^|]*$")
EXIT = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}
LABELS = ["time", "dns", "connect", "tls", "banner", "ehlo", "starttls", "ehlo_tls", "auth",
          "mail", "rcpt", "data", "cert_days", "attempts", "critical", "warnings"]


class Check:
    """One --format nagios run, parsed as Nagios would: the status line,
    the perfdata items, the long output."""

    def __init__(self, r):
        self.rc, self.elapsed, self.err = r.rc, r.elapsed, r.err
        text = r.out.decode("utf-8")
        assert text.endswith("\n"), "output ends with a newline: %r" % text[-80:]
        lines = text[:-1].split("\n")
        m = STATUS.match(lines[0])
        assert m, "status line: %r" % lines[0]
        self.state, self.status = m.group(1), m.group(2)
        self.items = m.group(3).split()
        for it in self.items:
            assert PERF_ITEM.match(it), "perfdata item %r breaks the guidelines' grammar" % it
        self.perf = {}
        for it in self.items:
            label, rest = it.split("=", 1)
            self.perf[label] = rest.split(";")
        self.long = lines[1:]
        for ln in self.long:
            assert LONG.match(ln), "long output line: %r" % ln
        assert_eq(self.rc, EXIT[self.state], "exit status of %s" % self.state)

    def value(self, label):
        v = self.perf[label][0]
        return None if v == "U" else float(v.rstrip("s"))


def nagios(*args, **kw):
    return Check(run("--format", "nagios", *args, json_out=False, **kw))


# ---- every scenario parses ----

SCENARIOS = [
    ["healthy.test"], ["fallback.test"], ["nosuch.test"], ["nullmx.test"], ["servfail.test"],
    ["greylist.test"], ["nobody@unknown.test"], ["badcert-expired.test"], ["banner554.test"],
    ["banner421.test"], ["opensmtpd.test"], ["exim.test"], ["v6only.test"],
    ["--timeout-connect", "1", "firewalled.test"], ["--source", "127.0.2.2", "healthy.test"],
]


@test
def every_scenario_parses():
    """Status line, perfdata grammar, the same labels every run, one long
    line per finding, and the status line naming a worst finding."""
    failures = []
    for args in SCENARIOS:
        try:
            c = nagios(*args)
            d = run(*args).json
            assert_eq([it.split("=")[0] for it in c.items], LABELS, "perfdata labels")
            assert_eq(len(c.long), len(d["findings"]), "one long-output line per finding")
            assert_eq(sorted(re.match(r"^\[\w+\] ([^ :]+)", ln).group(1) for ln in c.long),
                      sorted(f["code"] for f in d["findings"]), "long output codes")
            rank = {"info": 0, "warning": 1, "critical": 2}
            worst = max(rank[f["severity"]] for f in d["findings"])
            first = c.status.split(":")[0]
            assert_in(first, [f["code"] for f in d["findings"] if rank[f["severity"]] == worst],
                      "the status line names a worst finding")
        except Exception as e:  # noqa: BLE001 - collect every scenario
            failures.append("%s: %s" % (" ".join(args), e))
    assert not failures, "\n  ".join([""] + failures)


# ---- thresholds ----

@test
def time_thresholds_trip():
    c = nagios("healthy.test")
    assert_eq(c.state, "OK", "no threshold")
    assert_eq(c.perf["time"][1:3], ["", ""], "no warn/crit fields")
    c = nagios("-w", "~:0", "healthy.test")
    assert_eq(c.state, "WARNING", "-w ~:0: any time above 0 s warns")
    assert "(warning: -w ~:0)" in c.status, c.status
    assert_eq(c.perf["time"][1:3], ["~:0", ""], "the range in the warn field")
    c = nagios("-w", "~:0", "-c", "@0:3600", "healthy.test")
    assert_eq(c.state, "CRITICAL", "-c @0:3600: inside the range is critical")
    assert_eq(c.perf["time"][1:3], ["~:0", "@0:3600"], "both ranges")
    c = nagios("-w", "3600", "-c", "0:3600", "healthy.test")
    assert_eq(c.state, "OK", "within 0..3600 s neither trips")
    t = c.value("time")
    assert 0 < t < 60, "time %r s" % t


@test
def certificate_days_trip_at_the_boundary():
    c = nagios("healthy.test")
    days = int(c.perf["cert_days"][0])
    assert 100 < days < 4000, "lab certificate days left: %d" % days
    assert_eq(c.perf["cert_days"][1:], ["14:", ""], "default thresholds as ranges")
    # "fewer than N days": N = days holds, N = days + 1 trips.
    assert_eq(nagios("-D", "%d" % days, "healthy.test").state, "OK", "-D days")
    c = nagios("-D", "%d" % (days + 1), "healthy.test")
    assert_eq(c.state, "WARNING", "-D days+1")
    assert "a certificate expires in %d day(s) (warning below %d)" % (days, days + 1) in c.status
    assert_eq(nagios("-D", "%d,%d" % (days + 5, days), "healthy.test").state, "WARNING",
              "warn trips, crit holds")
    c = nagios("-D", "%d,%d" % (days + 5, days + 1), "healthy.test")
    assert_eq(c.state, "CRITICAL", "crit days+1")
    assert_eq(c.perf["cert_days"][1:], ["%d:" % (days + 5), "%d:" % (days + 1)], "ranges")
    assert_eq(nagios("--cert-crit-days", "%d" % (days + 1), "healthy.test").state, "CRITICAL",
              "--cert-crit-days")
    # An expired certificate: WARNING by the verdict, CRITICAL once asked.
    assert_eq(nagios("badcert-expired.test").state, "WARNING", "expired, no crit threshold")
    c = nagios("--cert-crit-days", "0", "badcert-expired.test")
    assert_eq(c.state, "CRITICAL", "expired with --cert-crit-days 0")
    assert int(c.perf["cert_days"][0]) < -25, c.perf["cert_days"]


# ---- deadlines ----

FAKE = os.path.join(ROOT, "tests", "fake", "fakesmtp.py")


def timing_binary():
    """The binary a wall-clock assertion runs: the same tree built without
    sanitizers when the suite runs the ASan build (build-ci beside
    build-asan), since ASan's start-up and leak check at exit add up to a
    second on a loaded machine and are not mxtrace's time."""
    plain = harness.MXTRACE.replace(os.sep + "build-asan" + os.sep, os.sep + "build-ci" + os.sep)
    return plain if plain != harness.MXTRACE and os.access(plain, os.X_OK) else harness.MXTRACE


@test
def t5_against_a_tarpit_is_unknown_within_5_5s():
    """The lab's tarpit greets after only ~3 s, so a scripted tarpit that
    greets after 30 s (tests/fake/fakesmtp.py) stands in for a long one."""
    tmp = tempfile.mkdtemp(prefix="mxt-nagios-")
    script, log = os.path.join(tmp, "tarpit.smtp"), os.path.join(tmp, "tarpit.log")
    with open(script, "w") as f:
        f.write("sleep 30\nsend 220 tarpit.test ESMTP\\r\\n\n")
    p = subprocess.Popen(["ip", "netns", "exec", NS, "/usr/bin/python3", FAKE, "--listen",
                          "127.0.3.100:25", "--script", script, "--log", log,
                          "--timeout", "40", "--linger", "1", "--connections", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        ready, _, _ = select.select([p.stdout], [], [], 30)
        assert ready and p.stdout.readline().startswith(b"READY"), "fake tarpit started"
        args = ("-t", "5", "--server", "127.0.3.100", "--to", "postmaster@tarpit.test")
        for binary in dict.fromkeys([harness.MXTRACE, timing_binary()]):
            saved, harness.MXTRACE = harness.MXTRACE, binary
            try:
                c = nagios(*args)
            finally:
                harness.MXTRACE = saved
            assert_eq(c.state, "UNKNOWN", "state after -t 5 (%s)" % binary)
            assert c.status.startswith("timed out after 5 s (-t)"), c.status
            assert_eq(c.perf["time"][4], "5.000", "the deadline is the time's max")
        took = float(c.perf["time"][0].rstrip("s"))
        print("  %s -t 5 against the tarpit: %.2f s (its run %.3f s)" % (binary, c.elapsed, took))
        # The 5.5 s hold on the run's own clock.  The process's start-up and
        # exit come on top: 0.6-1.0 s wall time for the plain build at load
        # 16 (20-30 ms of CPU), hence the slack; without the deadline the
        # tarpit would hold it 30 s.
        assert took <= 5.5, "mxtrace -t 5: its run took %.3f s" % took
        assert c.elapsed <= 5.5 + harness.PROCESS_SLACK, "mxtrace -t 5 ran %.2f s" % c.elapsed
    finally:
        p.kill()
        p.wait()
        shutil.rmtree(tmp, True)


@test
def lab_tarpit_cut_by_t2_is_unknown():
    c = nagios("-t", "2", "tarpit.test")
    assert_eq(c.state, "UNKNOWN", "the ~3 s tarpit with -t 2")
    assert c.status.startswith("timed out after 2 s (-t)"), c.status
    assert_eq(nagios("-t", "20", "tarpit.test").state, "OK", "with time to wait it is OK")


@test
def dns_cut_by_t_is_unknown():
    """A resolver that never answers: the deadline ends the DNS stage, and
    the check says it timed out (not a verdict on the domain)."""
    # Bound before mxtrace runs (else its queries get "port unreachable").
    sink = harness.udp_sink("127.0.4.251")
    try:
        c = nagios("-t", "2", "--resolver", "127.0.4.251", "--dns-timeout", "10", "healthy.test")
        assert_eq(c.state, "UNKNOWN", "DNS cut by -t 2")
        assert c.status.startswith("timed out after 2 s (-t)"), c.status
    finally:
        sink.kill()
        sink.wait()


@test
def default_deadline_below_60s():
    assert_eq(nagios("healthy.test").perf["time"][4], "50.000", "default -t in Nagios mode")
    assert_eq(nagios("--timeout-total", "7", "healthy.test").perf["time"][4], "7.000",
              "--timeout-total overrides it")


# ---- errors ----

@test
def usage_and_internal_errors_are_unknown():
    for args, why in ((["--format", "nagios", "--bogus", "x.test"], "unknown or ambiguous option"),
                      (["--bogus", "--format=nagios", "x.test"], "unknown or ambiguous option"),
                      (["--format", "nagios", "-w", "20:10", "x.test"], "start is greater"),
                      (["--format", "nagios", "-c", "1e3", "x.test"], "range '1e3'"),
                      (["--format", "nagios", "-t", "0", "x.test"], "--timeout-total"),
                      (["--format", "nagios"], "missing TARGET"),
                      (["--format", "nagios", "--ca-file", "/nonexistent", "x.test"],
                       "--ca-file")):
        p = subprocess.run([MXTRACE] + args, capture_output=True, timeout=30)
        out = p.stdout.decode()
        assert_eq(p.returncode, 3, "exit of %s" % args)
        assert out.startswith("MXTRACE UNKNOWN - ") and why in out, "%s: %r" % (args, out)
        assert_eq(out.count("\n"), 1, "one line")
    p = subprocess.run([MXTRACE, "-w", "10", "x.test"], capture_output=True, timeout=30)
    assert_eq(p.returncode, 64, "-w without --format nagios is a usage error")
    assert b"only used with --format nagios" in p.stderr, p.stderr
    p = subprocess.run([MXTRACE, "--format", "json", "--bogus", "x.test"], capture_output=True,
                       timeout=30)
    assert_eq((p.returncode, p.stdout), (64, b""), "other formats keep 64")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
