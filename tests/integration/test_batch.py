#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Concurrent --batch tests (issue 9): every target of a batch runs on one
event loop, resolver and TLS context; records come out whole, one per line,
as targets finish; bad lines are records of their own; connections are
capped overall and per MX address.

Usage: test_batch.py [TEST_NAME ...]   (the lab must be up: tests/lab/lab.sh up)

The 200-target test uses a generated zone served by the fake DNS server
(tests/fake/fakedns.py, 127.0.4.30) and the counting SMTP responder
(tests/fake/countsmtp.py: healthy on 127.0.6.1-6, a tarpit on 127.0.6.9,
counting the connections open at once per address at the server side), plus
the lab's refused (127.0.1.20) and firewalled (127.0.1.21: SYNs dropped by
nftables) addresses.
"""
import atexit
import json
import os
import random
import select
import shutil
import subprocess
import tempfile
import time

import harness
from harness import MXTRACE, NS, ROOT, assert_eq, assert_in, main, test, validate

PY = "/usr/bin/python3"
FAKEDNS = os.path.join(ROOT, "tests", "fake", "fakedns.py")
COUNTSMTP = os.path.join(ROOT, "tests", "fake", "countsmtp.py")
DNS_ADDR = "127.0.4.30"
OK_ADDRS = ["127.0.6.%d" % i for i in range(1, 7)]
TARPIT = "127.0.6.9"
REFUSED = "127.0.1.20"
FIREWALLED = "127.0.1.21"
PER_ADDRESS = 4         # MXT_PER_ADDRESS_DEFAULT in include/mxtrace/limits.h
CONNECT_S, BANNER_S = 1, 3

_tmp = tempfile.mkdtemp(prefix="mxt-batch-")
atexit.register(shutil.rmtree, _tmp, True)


def start(cmd, what):
    p = subprocess.Popen(["ip", "netns", "exec", NS] + cmd, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    ready, _, _ = select.select([p.stdout], [], [], 30)
    line = p.stdout.readline().decode() if ready else ""
    if not line.startswith("READY"):
        p.kill()
        raise AssertionError("%s did not start: %r %r" % (what, line, p.stderr.read()[-400:]))
    return p


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def mx(host):
    return [{"type": "MX", "pref": 10, "host": host}]


def a(addr):
    return [{"type": "A", "addr": addr}]


def batch(path, *opts, timeout=120, stdin=None):
    cmd = ["ip", "netns", "exec", NS, MXTRACE, "--allow-loopback", "--batch", path] + list(opts)
    t0 = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, timeout=timeout, input=stdin)
    elapsed = time.monotonic() - t0
    for bad in (b"AddressSanitizer", b"LeakSanitizer", b"runtime error:", b"Segmentation"):
        assert bad not in p.stderr, p.stderr[-800:]
    docs = []
    for line in p.stdout.decode().splitlines():
        d = json.loads(line)  # one whole document per line
        validate(d)
        docs.append(d)
    return p, docs, elapsed


@test
def two_hundred_targets_at_once():
    """200 lines: healthy, refused, firewalled (1 s connect deadline),
    tarpit (3 s banner deadline), invalid.  Every line gets exactly one
    schema-valid record; the wall time is bounded by the slowest target,
    not the sum; no address ever sees more than --per-address connections;
    the exit status is the worst verdict."""
    names = {
        "1.0.0.127.in-addr.arpa": {"PTR": [{"type": "PTR", "host": "localhost.test"}]},
        "localhost.test": {"A": a("127.0.0.1")},
    }
    lines = []  # (input, kind)
    for i in range(150):
        d = "h%d.batch.test" % i
        names[d] = {"MX": mx("mx." + d)}
        names["mx." + d] = {"A": a(OK_ADDRS[i % len(OK_ADDRS)])}
        lines.append((d, "ok"))
    for i in range(30):
        d = "r%d.batch.test" % i
        names[d] = {"MX": mx("mx." + d)}
        names["mx." + d] = {"A": a(REFUSED)}
        lines.append((d, "refused"))
    for i in range(4):
        d = "f%d.batch.test" % i
        names[d] = {"MX": mx("mx." + d)}
        names["mx." + d] = {"A": a(FIREWALLED)}
        lines.append((d, "firewalled"))
    for i in range(4):
        d = "t%d.batch.test" % i
        names[d] = {"MX": mx("mx." + d)}
        names["mx." + d] = {"A": a(TARPIT)}
        lines.append((d, "tarpit"))
    bad = ["bad..batch.test", "-x.batch.test", "a" * 1500, "b\x01\x02inary.test", "x@", "@y.test",
           "sp ace.test", "\x7f.test", "c" * 64 + ".test", "[300.1.1.1]", "x@@y.test", "u@bad..test"]
    lines += [(b, "invalid") for b in bad]
    assert_eq(len(lines), 200, "200 lines")
    random.Random(9).shuffle(lines)
    path = os.path.join(_tmp, "200.txt")
    with open(path, "w", encoding="latin-1") as f:
        f.write("".join(x + "\n" for x, _ in lines))
    table = os.path.join(_tmp, "zone.json")
    with open(table, "w") as f:
        json.dump({"default": "nxdomain", "names": names}, f)
    report = os.path.join(_tmp, "count.json")
    dns = start([PY, FAKEDNS, "--listen", DNS_ADDR + ":53", "--table", table, "--timeout", "120"],
                "fake DNS")
    smtp = start([PY, COUNTSMTP, "--report", report, "--timeout", "120", "--tarpit", TARPIT]
                 + sum((["--ok", x] for x in OK_ADDRS), []), "counting SMTP")
    try:
        p, docs, elapsed = batch(path, "--resolver", DNS_ADDR, "--timeout-connect", str(CONNECT_S),
                                 "--timeout-banner", str(BANNER_S), "--timeout-total", "20")
    finally:
        stop(smtp)
        stop(dns)
    with open(report) as f:
        count = json.load(f)
    got = sorted(d["target"]["line"] for d in docs)
    assert_eq(got, list(range(1, 201)), "every line has exactly one record")
    by_line = {d["target"]["line"]: d for d in docs}
    # The counting responder offers no STARTTLS: tls.not_offered (a warning).
    want = {"ok": "warning", "refused": "critical", "firewalled": "critical", "tarpit": "unknown",
            "invalid": "unknown"}
    for n, (inp, kind) in enumerate(lines, 1):
        d = by_line[n]
        if kind == "invalid":
            assert_eq([f["code"] for f in d["findings"]], ["target.invalid"], "line %d: %r" % (n, inp))
        else:
            assert_eq(d["target"]["input"], inp, "line %d input" % n)
        if kind == "ok":
            assert_eq(sorted(f["code"] for f in d["findings"]), ["delivery.ok", "tls.not_offered"],
                      "line %d: delivered" % n)
        assert_eq(d["verdict"]["status"], want[kind], "line %d (%s) verdict: %s" % (n, kind, [f["code"] for f in d["findings"]]))
    # The process's own start-up and exit (ASan's leak check: seconds on a
    # loaded machine) are not the batch's work: an empty batch measures them.
    empty = os.path.join(_tmp, "none.txt")
    open(empty, "w").close()
    _, _, idle = batch(empty, "--resolver", DNS_ADDR)
    total = sum(d["duration_ms"] for d in docs) / 1000
    print("  200 targets in %.2f s (an empty batch %.2f s, the targets' durations add up to "
          "%.1f s); per-address peaks %s" %
          (elapsed, idle, total, {k: v["max_open"] for k, v in count.items()}))
    # Concurrency, by the targets' own clocks: their durations add up to
    # many times the wall time (~20 x measured).  That ratio holds on a
    # loaded machine, where every duration stretches alike; the wall time
    # itself gets harness.PROCESS_SLACK (a load of 34 took 11.8 s).
    assert elapsed < total / 8, "200 targets took %.1f s, their durations add up to %.1f s" % (
        elapsed, total)
    longest = max(CONNECT_S, BANNER_S)
    assert elapsed - idle < 3 * longest + harness.PROCESS_SLACK, \
        "200 targets took %.1f s - %.1f s (> 3 x %d s + %.0f s)" % (
            elapsed, idle, longest, harness.PROCESS_SLACK)
    for addr, st in count.items():
        assert st["max_open"] <= PER_ADDRESS, "%s saw %d connections at once" % (addr, st["max_open"])
    assert_eq(sum(count[x]["connections"] for x in OK_ADDRS), 150, "one connection per healthy target")
    assert max(count[x]["max_open"] for x in OK_ADDRS) > 1, "targets ran concurrently: %r" % count
    assert_eq(p.returncode, 2, "exit status: the worst verdict (critical)")
    assert b"200 target(s)" in p.stderr and b"150 warning" in p.stderr, p.stderr[-600:]


@test
def empty_input_is_an_empty_run():
    path = os.path.join(_tmp, "empty.txt")
    open(path, "w").close()
    p, docs, _ = batch(path)
    assert_eq((p.returncode, docs), (0, []), "exit 0, no record")
    with open(path, "w") as f:
        f.write("# only a comment\n\n   \n")
    p, docs, _ = batch(path)
    assert_eq((p.returncode, docs), (0, []), "comments and blank lines: exit 0, no record")


@test
def stdin_with_dash():
    p, docs, _ = batch("-", stdin=b"nosuch.test\nbad..test\n")
    assert_eq(sorted((d["target"]["line"], d["verdict"]["status"]) for d in docs),
              [(1, "critical"), (2, "unknown")], "records from standard input")
    assert_eq(p.returncode, 2, "worst verdict")


def read_record(p, deadline):
    """One NDJSON line from p.stdout before the monotonic deadline, or None."""
    buf = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([p.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        ch = os.read(p.stdout.fileno(), 1)
        if not ch:
            break
        buf += ch
        if ch == b"\n":
            return json.loads(buf)
    return None


@test
def stdin_read_on_the_loop():
    """--batch - from a slow producer: the first line's record comes out
    while the producer has not written the rest (stdin is read from the
    event loop, not with a blocking read); a line split across two writes
    is one target; a bad line is its own record with its line number."""
    cmd = ["ip", "netns", "exec", NS, MXTRACE, "--allow-loopback", "--batch", "-"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        p.stdin.write(b"nosuch.test\n")
        p.stdin.flush()
        first = read_record(p, time.monotonic() + 60)
        assert first is not None, "no record for line 1 while stdin stays open"
        validate(first)
        assert_eq((first["target"]["line"], first["target"]["input"]), (1, "nosuch.test"),
                  "first record")
        assert p.poll() is None, "mxtrace ended before its input did"
        p.stdin.write(b"nosuch")  # half a line: kept until its newline comes
        p.stdin.flush()
        time.sleep(0.2)  # not a race: the record below is asserted either way
        out, err = p.communicate(b"2.test\nbad..test\n", timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    for bad in (b"AddressSanitizer", b"LeakSanitizer", b"runtime error:"):
        assert bad not in err, err[-800:]
    rest = [json.loads(x) for x in out.decode().splitlines()]
    for d in rest:
        validate(d)
    assert_eq(sorted((d["target"]["line"], d["target"]["input"]) for d in rest),
              [(2, "nosuch2.test"), (3, "bad..test")], "records after the first")
    bad = [d for d in rest if d["target"]["line"] == 3][0]
    assert_in("target.invalid", [f["code"] for f in bad["findings"]], "line 3 finding")
    assert_eq(p.returncode, 2, "worst verdict (critical: NXDOMAIN)")


@test
def empty_stdin_is_an_empty_run():
    p, docs, _ = batch("-", stdin=b"")
    assert_eq((p.returncode, docs), (0, []), "exit 0, no record")


@test
def directory_is_a_clear_error():
    p, docs, _ = batch(_tmp)
    assert_eq((p.returncode, docs), (64, []), "usage error, no record")
    assert b"Is a directory" in p.stderr, p.stderr


@test
def dev_zero_is_bounded():
    """No newline ever: memory stays bounded and reading stops with one
    target.invalid record."""
    r = harness.run_rusage("--batch", "/dev/zero", timeout=60)
    docs = [json.loads(x) for x in r.out.decode().splitlines()]
    assert_eq(len(docs), 1, "one record")
    assert_eq(docs[0]["findings"][0]["code"], "target.invalid", "finding")
    assert "no newline" in docs[0]["findings"][0]["evidence"], docs[0]["findings"][0]
    assert_eq(r.rc, 3, "verdict unknown")
    assert r.maxrss_kb < 64 * 1024, "peak RSS %d KiB" % r.maxrss_kb


if __name__ == "__main__":
    main()
