# SPDX-License-Identifier: MIT
"""Tiny test harness for the lab integration tests.

Runs mxtrace inside the lab's network namespace, parses and validates its
JSON against docs/mxtrace.schema.json, and counts results.  No test is ever
skipped: a missing prerequisite is a failure with its reason.
"""
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NS = os.environ.get("MXT_LAB_NS", "mxtlab")
RUN = os.path.join(ROOT, "tests", "lab", "run", NS)
CA = os.path.join(RUN, "ca", "ca.pem")
MXTRACE = os.environ.get("MXTRACE", os.path.join(ROOT, "build", "src", "cli", "mxtrace"))
SCHEMA_PATH = os.path.join(ROOT, "docs", "mxtrace.schema.json")

_tests = []
_schema = None


def test(fn):
    _tests.append(fn)
    return fn


class Result:
    def __init__(self, rc, out, err, elapsed):
        self.rc = rc
        self.out = out
        self.err = err
        self.elapsed = elapsed
        self.json = None

    def __repr__(self):
        return "rc=%d stderr=%r" % (self.rc, self.err[-400:])


def validate(doc):
    global _schema
    import jsonschema

    if _schema is None:
        with open(SCHEMA_PATH) as f:
            _schema = json.load(f)
    jsonschema.validate(doc, _schema)


def run(*args, json_out=True, ca=True, timeout=120, netns=True, env=None):
    """Run mxtrace in the lab namespace; parse and schema-check its JSON."""
    cmd = []
    if netns:
        cmd += ["ip", "netns", "exec", NS]
    cmd += [MXTRACE]
    if json_out:
        cmd += ["--json"]
    if ca:
        cmd += ["--ca-file", CA]
    if netns:
        # The lab lives on loopback; real MX hosts on 127/8 are refused.
        cmd += ["--allow-loopback"]
    cmd += list(args)
    e = dict(os.environ)
    if env:
        e.update(env)
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, env=e)
    r = Result(p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)
    if json_out and p.returncode in (0, 1, 2, 3):
        r.json = json.loads(p.stdout.decode("utf-8"))
        validate(r.json)
    return r


def assert_eq(a, b, what):
    if a != b:
        raise AssertionError("%s: expected %r, got %r" % (what, b, a))


def assert_in(x, coll, what):
    if x not in coll:
        raise AssertionError("%s: %r not in %r" % (what, x, coll))


def run_rusage(*args, timeout=60):
    """run(), also measuring mxtrace's own peak RSS (wait4 on the child: ip
    netns exec execs mxtrace in place).  Returns the Result with .maxrss_kb;
    .json is parsed and validated when the exit status is 0-3."""
    cmd = ["ip", "netns", "exec", NS, MXTRACE, "--json", "--ca-file", CA, "--allow-loopback"]
    cmd += list(args)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=out, stderr=err)
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.monotonic() - t0 > timeout:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.01)
        elapsed = time.monotonic() - t0
        out.seek(0)
        err.seek(0)
        r = Result(os.waitstatus_to_exitcode(status), out.read(),
                   err.read().decode("utf-8", "replace"), elapsed)
    r.maxrss_kb = ru.ru_maxrss
    if r.rc in (0, 1, 2, 3):
        r.json = json.loads(r.out.decode("utf-8"))
        validate(r.json)
    return r


# Wall-clock slack for one whole mxtrace process: the ASan build's start-up
# and its leak check at exit take seconds on a loaded 2-core machine
# (measured at load 28-37: --version 2.5 s, 3.4 s around a 2.0 s run).
PROCESS_SLACK = float(os.environ.get("MXT_TEST_PROCESS_SLACK", "10"))


def assert_took(r, bound, what="mxtrace ran"):
    """R's run ended within BOUND seconds: exactly by the run's own clock
    (duration_ms: DNS, probes, report) and by the wall clock with
    PROCESS_SLACK for the process's start-up and exit."""
    if r.json is not None:
        ms = r.json["duration_ms"]
        if not ms <= bound * 1000:
            raise AssertionError("%s %d ms by its own clock (bound %.1f s)" % (what, ms, bound))
    if not r.elapsed < bound + PROCESS_SLACK:
        raise AssertionError("%s %.1f s (bound %.1f s + %.1f s for start-up and exit)" % (
            what, r.elapsed, bound, PROCESS_SLACK))


def wait_for(pred, timeout=30, interval=0.05, what="condition"):
    """Poll PRED until it returns something truthy; return that value.
    Raises AssertionError after TIMEOUT seconds.  For state that another
    process updates asynchronously: never read it once, never sleep a
    fixed time and hope (the suite runs on loaded 2-core machines)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("%s: not true after %.0f s (last %r)" % (what, timeout, v))
        time.sleep(interval)


def start_ready(cmd, what, timeout=30, **kw):
    """Popen CMD (stdout a pipe) and wait, with a deadline, for its first
    line to start with READY: the process is listening only then."""
    import select
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, **kw)
    ready, _, _ = select.select([p.stdout], [], [], timeout)
    line = p.stdout.readline() if ready else b""
    if not line.startswith(b"READY"):
        p.kill()
        p.wait()
        raise AssertionError("%s did not start within %d s: %r" % (what, timeout, line))
    return p


def udp_sink(addr, port=53):
    """A process in the lab namespace that binds ADDR:PORT/udp and never
    answers (a dead resolver); returned once the socket is bound."""
    return start_ready(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c",
                        "import socket,sys,time\n"
                        "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                        "s.bind((sys.argv[1],int(sys.argv[2])))\n"
                        "print('READY',flush=True)\n"
                        "time.sleep(120)", addr, str(port)], "UDP sink on %s:%d" % (addr, port))


def codes(doc):
    return sorted({f["code"] for f in doc["findings"]})


def attempt(doc, address, port=25):
    for a in doc["attempts"]:
        if a["address"] == address and a["port"] == port and not a["canary"]:
            return a
    raise AssertionError("no attempt for %s:%d in %s" % (
        address, port, [(a["address"], a["port"]) for a in doc["attempts"]]))


def step(att, stage):
    found = [s for s in att["steps"] if s["stage"] == stage]
    if not found:
        raise AssertionError("no %s step in %s" % (stage, [s["stage"] for s in att["steps"]]))
    return found[-1]


def main(selected=None):
    passed = failed = 0
    for fn in _tests:
        if selected and fn.__name__ not in selected:
            continue
        t0 = time.monotonic()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - report every failure
            failed += 1
            print("FAIL %s (%.1fs): %s" % (fn.__name__, time.monotonic() - t0, e))
            if os.environ.get("MXT_TEST_VERBOSE"):
                traceback.print_exc()
        else:
            passed += 1
            print("PASS %s (%.1fs)" % (fn.__name__, time.monotonic() - t0))
        sys.stdout.flush()
    print("lab: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0
