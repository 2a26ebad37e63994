#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile-DNS integration tests: mxtrace against the scripted fake DNS
server (tests/fake/fakedns.py), for answers no real DNS server can be set up
to give: control bytes in names, overlong names and labels, 2000 MX
records (TC=1, then TCP), compression-pointer loops, 0-byte datagrams,
spoofed IDs, garbage, a black hole, unusable addresses, too many addresses.  Ordinary DNS behaviour is tested against the
lab's nsd + unbound in test_lab.py instead.

Usage: test_fakedns.py [TEST_NAME ...]   (the lab must be up: tests/lab/lab.sh up)

Each test starts its own fake DNS server inside the lab namespace on its own
address 127.0.4.N:53 (UDP and TCP, loopback only), runs mxtrace with
--resolver 127.0.4.N, and checks mxtrace's JSON (validated against
docs/mxtrace.schema.json by the harness), its exit status and run time, and
the fake server's log of the queries mxtrace made.  MX targets resolve
(through the fake server too) to lab addresses: 127.0.1.1 (Postfix,
mx1.healthy.test) when a connection is wanted, 127.0.1.20 (connection
refused at once) when it is not.
"""
import atexit
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile

import harness
from harness import NS, ROOT, assert_eq, assert_in, assert_took, attempt, codes, main, run, step, test

FAKE = os.path.join(ROOT, "tests", "fake", "fakedns.py")
PY = "/usr/bin/python3"
RSS_MAX_KB = 64 * 1024  # max RSS < 64 MiB on any hostile test
MX_MAX = 16             # MXT_MX_MAX in include/mxtrace/limits.h
REFUSED = "127.0.1.20"  # nothing listens: connect is refused (RST) at once
MX1 = "127.0.1.1"       # Postfix mx1.healthy.test
DNS_OUTSTANDING_MAX = 128  # MXT_DNS_OUTSTANDING_MAX in include/mxtrace/limits.h

_tmp = tempfile.mkdtemp(prefix="mxt-fakedns-")
atexit.register(shutil.rmtree, _tmp, True)

# Client identity, as in the lab: 127.0.0.1 has PTR localhost.test, which
# has A 127.0.0.1 (so the identity findings stay out of the way).
BASE = {
    "1.0.0.127.in-addr.arpa": {"PTR": [{"type": "PTR", "host": "localhost.test"}]},
    "localhost.test": {"A": [{"type": "A", "addr": "127.0.0.1"}]},
}


def A(addr):
    return [{"type": "A", "addr": addr}]


def MX(*pairs):
    return [{"type": "MX", "pref": p, "host": h} for p, h in pairs]


class FakeDNS:
    """The fake DNS server as a process in the lab namespace, on 127.0.4.n:53."""

    def __init__(self, n, names, default="nxdomain", timeout=60, delay_ms=0):
        self.addr = "127.0.4.%d" % n
        self.table_path = os.path.join(_tmp, "dns%d.json" % n)
        self.log_path = os.path.join(_tmp, "dns%d.log" % n)
        table = {"default": default, "names": dict(BASE, **names)}
        with open(self.table_path, "w") as f:
            json.dump(table, f)
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", NS, PY, FAKE, "--listen", self.addr + ":53",
             "--table", self.table_path, "--log", self.log_path, "--timeout", str(timeout),
             "--delay", str(delay_ms)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.rc = None
        self.stderr = ""
        self.log = []
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("READY"):
            self.stop()
            raise AssertionError("fake DNS on %s did not start: %r %s" % (self.addr, line, self.stderr))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        """End the server (it serves until its --timeout otherwise) and load its log."""
        if self.rc is None:
            if self.proc.poll() is None:
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

    def queries(self, qtype=None, qname=None):
        """Logged queries so far (the log is flushed per query)."""
        if self.rc is None and os.path.exists(self.log_path):
            with open(self.log_path) as f:
                self.log = [json.loads(x) for x in f if x.strip()]
        return [e for e in self.log if "qname" in e and (qtype is None or e["qtype"] == qtype)
                and (qname is None or e["qname"].lower() == qname.lower())]

    def args(self, *opts, total=20):
        return ("--resolver", self.addr, "--timeout-connect", "1", "--timeout-total", str(total)) + opts


def check_rc(r, allowed=(0, 1, 2, 3)):
    if r.rc not in allowed:
        raise AssertionError("exit code %d (expected %s): %s" % (r.rc, allowed, r.err[-600:]))
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "Segmentation"):
        if bad in r.err:
            raise AssertionError("sanitizer/crash report on stderr: %s" % r.err[-600:])


def mxtrace(fake, *opts, json_out=True, timeout=60, total=20):
    r = run(*fake.args(*opts, total=total), json_out=json_out, timeout=timeout)
    check_rc(r)
    return r


def mxtrace_rusage(fake, *opts, timeout=60):
    """mxtrace --json, also measuring its own peak RSS."""
    r = harness.run_rusage(*fake.args(*opts), timeout=timeout)
    check_rc(r)
    return r


def exchanger(d, name):
    for x in d["dns"]["exchangers"]:
        if x["name"] == name:
            return x
    raise AssertionError("no exchanger %r in %r" % (name, [x["name"] for x in d["dns"]["exchangers"]]))


def addresses_tried(d):
    return sorted({a["address"] for a in d["attempts"]})


CTRL = set(range(0x00, 0x20)) | {0x7f} | set(range(0x80, 0xa0))


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


# ---- control bytes and ';' in an MX target ----

EVIL = ["mx\x1b[31;1m", "evil", "test"]  # raw label bytes: ESC [ 3 1 ; 1 m
EVIL_KEY = "mx\x1b[31;1m.evil.test"


@test
def mx_target_with_control_bytes():
    names = {
        "evil.test": {"MX": [{"type": "MX", "pref": 10, "host": EVIL},
                             {"type": "MX", "pref": 20, "host": "ok.evil.test"}]},
        # If mxtrace ever looked the evil name up, it would get an address
        # (Postfix) and the fake log would show the query.
        EVIL_KEY: {"A": A(MX1), "AAAA": [{"type": "AAAA", "addr": "::1"}]},
        "ok.evil.test": {"A": A(REFUSED)},
    }
    with FakeDNS(1, names) as f:
        # The policy lookups (TLSA, MTA-STS, TLS-RPT) are test_policy.py's:
        # this test counts the MX stage's queries.
        r = mxtrace(f, "--no-dane", "--no-mta-sts", "evil.test")
        rt = mxtrace(f, "--no-dane", "--no-mta-sts", "--color", "never", "evil.test",
                     json_out=False)
        f.stop()
    d = r.json
    assert_eq(d["dns"]["mx_query"]["status"], "ok", "MX status")
    evil = [x for x in d["dns"]["exchangers"] if x["preference"] == 10]
    assert_eq(len(evil), 1, "one pref-10 exchanger: %r" % d["dns"]["exchangers"])
    x = evil[0]
    assert_in("invalid_name", x["flags"], "flags of %r" % x["name"])
    assert_eq(x["addresses"], [], "no address looked up for the invalid name")
    assert_eq(x["a_query"]["status"], "not_run", "A query of the invalid name")
    assert_eq(x["aaaa_query"]["status"], "not_run", "AAAA query of the invalid name")
    assert_in("dns.mx_invalid_name", codes(d), "finding")
    assert_eq(addresses_tried(d), [REFUSED], "only the valid exchanger is tried")
    asked = sorted({(q["qname"], q["qtype"]) for q in f.queries() if "evil.test" in q["qname"]})
    assert_eq(asked, [("evil.test", "MX"), ("ok.evil.test", "A"), ("ok.evil.test", "AAAA")],
              "queries about evil.test (the invalid name never asked)")
    # The name is shown, escaped: no raw control byte in the JSON, nor as a \\u escape.
    for byte in [b for b in range(0x20) if b not in (0x09, 0x0a, 0x0d)] + [0x7f]:
        assert bytes([byte]) not in r.out, "raw byte 0x%02x in the JSON" % byte
    for s in strings(d):
        bad = [hex(ord(c)) for c in s if ord(c) in CTRL and c not in "\n"]
        assert not bad, "control characters %r in JSON string %r" % (bad, s[:200])
    assert "evil.test" in x["name"] and "31" in x["name"], "name still recognisable: %r" % x["name"]
    assert b"\x1b" not in rt.out, "raw ESC in the text output"
    text = rt.out.decode("utf-8", "strict")
    bad = sorted({hex(ord(c)) for c in text if ord(c) in CTRL and c != "\n"})
    assert not bad, "raw control characters %r in the text output" % bad
    assert "evil.test" in text and "dns.mx_invalid_name" in text, "text shows the finding"


# ---- names over 255 octets, labels over 63 ----

@test
def mx_target_overlong_name_and_label():
    long_name = ["a" * 59] * 5 + ["long", "test"]      # 5 x 60 + 5 + 5 + 1 = 311 octets
    names = {
        "long.test": {"MX": [{"type": "MX", "pref": 10, "host": long_name},
                             {"type": "MX", "pref": 20, "host": "ok.long.test"}]},
        ".".join(long_name): {"A": A(MX1)},
        "ok.long.test": {"A": A(REFUSED)},
        # A 64-byte label: its length byte 0x40 is a reserved label type.
        "label64.test": {"MX": [{"type": "MX", "pref": 10, "host": ["b" * 64, "label64", "test"]},
                                {"type": "MX", "pref": 20, "host": "ok.long.test"}]},
    }
    with FakeDNS(2, names) as f:
        r1 = mxtrace(f, "long.test")
        r2 = mxtrace(f, "label64.test")
        f.stop()
    d = r1.json
    assert_eq(d["dns"]["mx_query"]["status"], "ok", "MX status (300-char target)")
    x = [x for x in d["dns"]["exchangers"] if x["preference"] == 10]
    assert_eq(len(x), 1, "the long exchanger is listed")
    assert_in("invalid_name", x[0]["flags"], "flags of the 300-char name")
    assert_in("dns.mx_invalid_name", codes(d), "finding")
    assert_eq(addresses_tried(d), [REFUSED], "the long name is never connected to")
    long_asked = [q for q in f.queries() if q["qname"].startswith("aaaa")]
    assert_eq(long_asked, [], "the long name is never looked up")
    d = r2.json
    st = d["dns"]["mx_query"]["status"]
    if st == "ok":
        bad = [x for x in d["dns"]["exchangers"] if x["name"].startswith("bbbb")]
        assert bad and "invalid_name" in bad[0]["flags"], "64-byte label flagged: %r" % bad
        assert_in("dns.mx_invalid_name", codes(d), "finding")
        assert MX1 not in addresses_tried(d), "the 64-byte label name is never connected to"
    else:
        assert_in(st, ("badresp", "error"), "MX status (64-byte label)")
        assert_in("dns.error", codes(d), "finding")
        assert_eq(d["attempts"], [], "nothing probed")
        assert_eq(r2.rc, 3, "exit status: inconclusive")


# ---- 2000 MX records over TCP ----

@test
def two_thousand_mx_over_tcp():
    n = 2000
    names = {
        "big.test": {"MX": {"do": "tc", "answer": MX(*[(10, "mx%04d.big.test" % i) for i in range(n)])}},
        "*.big.test": {"A": A(REFUSED)},
    }
    with FakeDNS(3, names) as f:
        # Policy lookups off: this test counts the MX stage's A queries.
        r = mxtrace_rusage(f, "--no-mta-sts", "big.test")
        f.stop()
    d = r.json
    mxq = f.queries("MX", "big.test")
    assert_eq([q["proto"] for q in mxq][:2], ["udp", "tcp"], "TC=1 over UDP, then TCP")
    assert mxq[1]["sizes"][0] > 40000, "the TCP answer holds all %d records: %r" % (n, mxq[1])
    assert_eq(d["dns"]["mx_query"]["status"], "ok", "MX status")
    x = d["dns"]["exchangers"]
    probed = [e for e in x if "over_limit" not in e["flags"]]
    assert_eq(len(probed), MX_MAX, "exchangers within the limit")
    assert len(x) <= n, "%d exchangers listed" % len(x)
    assert_eq(len(x) - len(probed), len([e for e in x if "over_limit" in e["flags"]]), "the rest over_limit")
    assert len(x) == n or len(x) == MX_MAX, "all or only the probed exchangers listed: %d" % len(x)
    assert_in("dns.mx_over_limit", codes(d), "finding")
    over = [e for e in d["findings"] if e["code"] == "dns.mx_over_limit"][0]
    assert len(over["evidence"].encode()) <= 1024, "evidence capped (MXT_FIELD_TEXT_MAX): %d B" % len(over["evidence"])
    # Only the probed ones are looked up and connected to.
    looked_up = {q["qname"] for q in f.queries("A")} - {"localhost.test"}
    assert_eq(looked_up, {e["name"] for e in probed}, "A queries only for the probed exchangers")
    for e in x:
        if "over_limit" in e["flags"]:
            assert_eq(e["a_query"]["status"], "not_run", "no A query for %s" % e["name"])
    att = [a for a in d["attempts"] if not a["canary"]]
    assert_eq(len(att), MX_MAX, "one attempt per probed exchanger")
    assert_eq(addresses_tried(d), [REFUSED], "attempt addresses")
    assert_took(r, 10)
    assert d["dns"]["duration_ms"] < 3000, "DNS stage %d ms" % d["dns"]["duration_ms"]
    # Under ASan the freed blocks sit in its quarantine (256 MiB by default),
    # so this also bounds the bytes allocated along the way, not only the peak.
    assert r.maxrss_kb < RSS_MAX_KB, "max RSS %d KiB (< %d KiB)" % (r.maxrss_kb, RSS_MAX_KB)
    assert len(r.out) < 8 * 1024 * 1024, "JSON document %d B (<= 8 MiB)" % len(r.out)


# ---- compression-pointer loop ----

@test
def compression_pointer_loop():
    names = {"loop.test": {"MX": {"do": "loop"}}}
    with FakeDNS(4, names) as f:
        r = mxtrace(f, "loop.test", timeout=30)
        f.stop()
    d = r.json
    assert_in(d["dns"]["mx_query"]["status"], ("badresp", "error"), "MX status")
    assert_in("dns.error", codes(d), "finding")
    assert_eq(d["dns"]["exchangers"], [], "no exchanger from a looping name")
    assert_eq(d["attempts"], [], "nothing probed")
    assert_eq(d["verdict"]["status"], "unknown", "verdict")
    assert_eq(r.rc, 3, "exit status")
    assert_took(r, 5)
    assert_eq([q["actions"] for q in f.queries("MX")], [["loop"]], "one MX query, answered once")


# ---- 0-byte UDP datagram (CVE-2023-32067 class) ----

@test
def empty_datagram_then_answer():
    names = {
        "healthy.test": {"MX": {"do": ["empty", "answer"], "answer": MX((10, "mx1.healthy.test"))}},
        "mx1.healthy.test": {"A": A(MX1)},
        "only-empty.test": {"MX": {"do": "empty"}},
    }
    with FakeDNS(5, names) as f:
        r = mxtrace(f, "healthy.test")
        r2 = mxtrace(f, "--dns-timeout", "1", "--dns-tries", "1", "only-empty.test")
        f.stop()
    d = r.json
    assert_eq(d["dns"]["mx_query"]["status"], "ok", "the answer after the empty datagram is used")
    assert_eq([(x["name"], [a["address"] for a in x["addresses"]]) for x in d["dns"]["exchangers"]],
              [("mx1.healthy.test", [MX1])], "exchangers")
    a = attempt(d, MX1)
    assert_eq(a["connect"]["status"], "connected", "connect")
    assert_eq(step(a, "rcpt")["reply"]["code"], 250, "RCPT accepted by mx1")
    mxq = f.queries("MX", "healthy.test")
    assert 1 <= len(mxq) <= 2, "MX queries %r" % mxq
    # Only empty datagrams: a clean timeout, not a failure or a hang.
    d2 = r2.json
    assert_eq(d2["dns"]["mx_query"]["status"], "timeout", "only 0-byte replies")
    assert_in("dns.timeout", codes(d2), "finding")
    assert_eq(r2.rc, 3, "exit status")
    assert_took(r2, 1 + 2)


# ---- a spoofed answer (wrong ID) ----

@test
def wrong_id_answer_ignored():
    names = {
        "spoof.test": {"MX": {"do": "wrong_id", "answer": MX((10, "mx1.healthy.test"))}},
        "mx1.healthy.test": {"A": A(MX1)},
    }
    with FakeDNS(6, names) as f:
        r = mxtrace(f, "--dns-timeout", "1", "--dns-tries", "1", "spoof.test")
        f.stop()
    d = r.json
    assert_eq(d["dns"]["mx_query"]["status"], "timeout", "MX status")
    assert_in("dns.timeout", codes(d), "finding")
    assert_eq(d["dns"]["exchangers"], [], "the spoofed exchanger is not used")
    assert_eq(d["attempts"], [], "nothing probed")
    assert_eq(r.rc, 3, "exit status")
    assert_took(r, 1 + 2)
    assert 900 <= d["dns"]["mx_query"]["duration_ms"] <= 2000, "MX query %d ms" % d["dns"]["mx_query"]["duration_ms"]
    assert_eq([q["actions"] for q in f.queries("MX")], [["wrong_id"]], "one MX query")
    assert_eq(f.queries("A", "mx1.healthy.test"), [], "the spoofed target is never looked up")


# ---- a resolver that drops everything ----

@test
def black_hole_resolver():
    timeout, tries = 1, 2
    with FakeDNS(7, {}, default="drop") as f:
        r = mxtrace(f, "--dns-timeout", str(timeout), "--dns-tries", str(tries), "blackhole.test")
        f.stop()
    d = r.json
    assert_eq(d["dns"]["mx_query"]["status"], "timeout", "MX status")
    assert_in("dns.timeout", codes(d), "finding")
    assert_eq(d["verdict"]["status"], "unknown", "verdict")
    assert_eq(r.rc, 3, "exit status")
    assert_eq(d["attempts"], [], "nothing probed")
    assert_took(r, timeout * tries + 2)
    assert_eq(len(f.queries("MX", "blackhole.test")), tries, "one MX query per try")


@test
def black_hole_total_time_three_tries():
    # Documented (--help, mxtrace(1)): --dns-timeout is the first try's
    # timeout and c-ares 1.18.1 doubles it every round: 1 s x 3 tries wait
    # 1 + 2 + 4 = 7 s.  The queries must go out at +0, +1, +3 s and the run
    # end within that (+2 s slack).
    timeout, tries = 1, 3
    with FakeDNS(12, {}, default="drop") as f:
        r = mxtrace(f, "--dns-timeout", str(timeout), "--dns-tries", str(tries), "blackhole.test")
        f.stop()
    d = r.json
    assert_eq(d["dns"]["mx_query"]["status"], "timeout", "MX status")
    assert_eq(r.rc, 3, "exit status")
    sent = [q["t"] - f.queries("MX")[0]["t"] for q in f.queries("MX")]
    assert_eq(len(sent), tries, "one MX query per try")
    bound = timeout * (2 ** tries - 1) + 2
    assert_took(r, bound, "MX queries at +%s s; mxtrace ran" % ", +".join("%.1f" % x for x in sent))


@test
def black_hole_stage_deadline():
    # 3 s x 5 tries: c-ares doubles the timeout every round (3+6+12+24+48 s),
    # so only the DNS stage deadline (MXT_DNS_DEADLINE_MS, 20 s) can end it; the whole run's
    # deadline (--timeout-total 60) is further away.
    with FakeDNS(8, {}, default="drop") as f:
        r = mxtrace(f, "--dns-timeout", "3", "--dns-tries", "5", "blackhole.test", timeout=90, total=60)
        f.stop()
    d = r.json
    assert_eq(d["dns"]["mx_query"]["status"], "timeout", "MX status")
    assert_in("dns.timeout", codes(d), "finding")
    assert_eq(r.rc, 3, "exit status")
    assert 19000 <= d["dns"]["duration_ms"] <= 21000, "DNS stage %d ms, want 20 s +- 1" % d["dns"]["duration_ms"]
    assert_took(r, 22)


# ---- an IP literal written as an MX name ----

@test
def mx_target_ip_literal():
    names = {
        "iplit.test": {"MX": MX((10, "127.0.1.1"))},
        "127.0.1.1": {"A": A(MX1)},  # what a sender would get if it looked the "name" up
    }
    with FakeDNS(9, names) as f:
        r = mxtrace(f, "iplit.test")
        f.stop()
    d = r.json
    x = exchanger(d, "127.0.1.1")
    assert_in("ip_literal", x["flags"], "flags")
    assert_in("dns.mx_ip_literal", codes(d), "finding")
    assert_eq(x["addresses"], [], "no address for an IP literal")
    assert_eq(d["attempts"], [], "no connection to an IP-literal MX")
    assert_eq(f.queries("A", "127.0.1.1") + f.queries("AAAA", "127.0.1.1"), [],
              "the IP literal is not looked up as a name")


# ---- unusable addresses are never connected to ----

UNUSABLE = {
    "zero.weird.test": ("A", "0.0.0.0"),
    "bcast.weird.test": ("A", "255.255.255.255"),
    "mcast.weird.test": ("A", "224.0.0.1"),
    "zero6.weird.test": ("AAAA", "::"),
    "mcast6.weird.test": ("AAAA", "ff02::1"),
    "mapped.weird.test": ("AAAA", "::ffff:127.0.1.1"),  # would reach Postfix mx1
}


# ---- MXT_ADDRS_PER_MX_MAX: at most 8 addresses per exchanger ----

@test
def addresses_over_limit_flagged():
    names = {
        "many.test": {"MX": MX((10, "mx8.many.test"), (20, "mx12.many.test"))},
        "mx8.many.test": {"A": [r for i in range(1, 9) for r in A("127.0.8.%d" % i)]},
        "mx12.many.test": {"A": [r for i in range(1, 13) for r in A("127.0.9.%d" % i)]},
    }
    with FakeDNS(14, names) as f:
        r = mxtrace(f, "many.test")
        f.stop()
    d = r.json
    x8 = exchanger(d, "mx8.many.test")
    assert_eq(len(x8["addresses"]), 8, "mx8: all 8 addresses kept")
    assert "address_over_limit" not in x8["flags"], "mx8 at the limit is not flagged: %r" % x8["flags"]
    x12 = exchanger(d, "mx12.many.test")
    assert_eq(len(x12["addresses"]), 8, "mx12: 8 of 12 addresses kept")
    assert_in("address_over_limit", x12["flags"], "mx12 flags")
    tried = {a["address"] for a in d["attempts"]}
    assert not tried - {a["address"] for a in x8["addresses"] + x12["addresses"]}, \
        "only listed addresses are tried: %r" % sorted(tried)


@test
def unusable_addresses_never_connected():
    names = {"weird.test": {"MX": MX(*[(10 * (i + 1), h) for i, h in enumerate(sorted(UNUSABLE))]
                                      + [(90, "mixed.weird.test")])}}
    for h, (t, addr) in UNUSABLE.items():
        names[h] = {t: [{"type": t, "addr": addr}]}
    names["mixed.weird.test"] = {"A": A("0.0.0.0") + A(REFUSED)}
    with FakeDNS(10, names) as f:
        r = mxtrace(f, "weird.test")
        f.stop()
    d = r.json
    tried = addresses_tried(d)
    bad = [a for a in tried if a != REFUSED]
    assert not bad, ("mxtrace connected to unusable addresses %r (never); attempts %r"
                     % (bad, [(a["address"], a["connect"]["status"]) for a in d["attempts"]]))
    assert_eq(tried, [REFUSED], "only the usable address of mixed.weird.test is tried")
    for h in UNUSABLE:
        x = exchanger(d, h)
        assert_eq(x["addresses"], [], "%s: no usable address listed" % h)
        assert_in("unusable_address", x["flags"], "%s flags" % h)
    m = exchanger(d, "mixed.weird.test")
    assert_eq([a["address"] for a in m["addresses"]], [REFUSED], "mixed: only the usable address")
    assert_in("unusable_address", m["flags"], "mixed flags")
    assert_in("dns.mx_unusable_address", codes(d), "finding")


# ---- garbage answers ----

@test
def garbage_answer():
    names = {"garbage.test": {"MX": {"do": "garbage"}},
             "noise.test": {"MX": {"do": "noise"}}}
    with FakeDNS(11, names) as f:
        r = mxtrace(f, "garbage.test", timeout=30)
        r2 = mxtrace(f, "--dns-timeout", "1", "--dns-tries", "1", "noise.test", timeout=30)
        f.stop()
    d = r.json
    assert_in(d["dns"]["mx_query"]["status"], ("badresp", "error"), "MX status")
    assert_in("dns.error", codes(d), "finding")
    assert_eq(d["attempts"], [], "nothing probed")
    assert_eq(r.rc, 3, "exit status")
    assert_took(r, 5)
    # Random bytes with a wrong ID and no question: dropped, then a timeout.
    d2 = r2.json
    assert_eq(d2["dns"]["mx_query"]["status"], "timeout", "noise only")
    assert_in("dns.timeout", codes(d2), "finding")
    assert_eq(r2.rc, 3, "exit status")
    assert_took(r2, 1 + 2)


@test
def ptr_with_control_bytes():
    """A PTR name with an ESC byte is refused by c-ares;
    mxtrace reports client.ptr_invalid and never prints or uses the name."""
    names = {
        "1.0.0.127.in-addr.arpa": {"PTR": [{"type": "PTR", "host": "evil\x1b[2J.test"}]},
        "ptrtest.test": {"MX": MX((10, "mx1.healthy.test"))},
        "mx1.healthy.test": {"A": A(MX1)},
    }
    with FakeDNS(13, names) as f:
        r = mxtrace(f, "ptrtest.test")
        f.stop()
    d = r.json
    assert_eq(d["client"]["ptr_query"]["status"], "badresp", "PTR refused")
    assert_eq(d["client"]["ptr"], None, "no PTR name kept")
    assert_in("client.ptr_invalid", codes(d), "finding")
    assert b"\x1b" not in r.out, "no raw ESC in the output"


@test
def identity_lookups_overlap_the_probe():
    """Issue 9 item 6: the client identity lookups run alongside the probe.
    The PTR of 127.0.0.1 answers 3 s late: the connection to the MX starts
    before it answers (the -v connect line comes before the client identity
    line), EHLO is not sent before the PTR answered, and EHLO carries the
    forward-confirmed PTR name chosen once it did."""
    delay_ms = 3000  # the fake server's actions are 50 ms apart
    names = {
        "1.0.0.127.in-addr.arpa": {"PTR": {
            "answer": [{"type": "PTR", "host": "localhost.test"}],
            "do": ["drop"] * (delay_ms // 50) + ["answer"]}},
        "healthy.test": {"MX": MX((10, "mx1.healthy.test"))},
        "mx1.healthy.test": {"A": A(MX1)},
    }
    with FakeDNS(15, names) as f:
        # One DNS try that outlasts the delay: the late answer is the one used.
        r = mxtrace(f, "-v", "--dns-timeout", "8", "--dns-tries", "1", "healthy.test", total=30)
        f.stop()
    d = r.json
    c = d["client"]
    assert_eq(c["ptr_query"]["status"], "ok", "PTR answered (late)")
    assert c["ptr_query"]["duration_ms"] >= delay_ms - 100, \
        "the PTR took the delay: %r" % c["ptr_query"]
    assert_eq((c["ehlo_name"], c["ehlo_source"], c["fcrdns"]), ("localhost.test", "ptr", True),
              "EHLO name from the forward-confirmed PTR")
    att = attempt(d, MX1)
    assert_eq(att["result"]["end"], "ok", "the probe succeeded")
    ehlo = step(att, "ehlo")
    assert_eq(ehlo["command"], "EHLO localhost.test", "EHLO carries the chosen name")
    # The attempt started right after the DNS stage, as the PTR query did:
    # EHLO waited for the PTR answer (1 s of slack for a loaded machine).
    assert ehlo["started_ms"] >= c["ptr_query"]["duration_ms"] - 1000, \
        "EHLO sent at %s ms, before the PTR answered (%s ms)" % (
            ehlo["started_ms"], c["ptr_query"]["duration_ms"])
    lines = r.err.splitlines()
    connect = [i for i, x in enumerate(lines) if "%s port 25: connecting" % MX1 in x]
    client = [i for i, x in enumerate(lines) if ": client: local " in x]
    assert connect and client, "-v shows the connect and client identity lines:\n%s" % r.err
    assert connect[0] < client[0], "connected before the identity lookups ended:\n%s" % r.err
    banner = step(att, "banner")
    if banner["started_ms"] + banner["duration_ms"] < c["ptr_query"]["duration_ms"] - 1000:
        assert "port 25: EHLO waits for the client identity lookups" in r.err, \
            "the session parked after an early banner:\n%s" % r.err


@test
def burst_of_queries_is_paced():
    # A batch of 400 domains starts every target's DNS stage at once: about
    # 2,000 queries.  mxtrace keeps at most MXT_DNS_OUTSTANDING_MAX of them
    # at the resolver; the rest wait their turn.  The fake server holds each
    # answer 200 ms and logs how many queries it holds when one arrives:
    # that count is the client's outstanding queries, seen from the server.
    # The long c-ares timeout keeps retransmissions out of the count.
    n = 400
    names = {"*.burst.test": {"MX": MX((10, "mx.burst.test"))},
             "mx.burst.test": {"A": A(REFUSED)}}
    lst = os.path.join(_tmp, "burst.txt")
    with open(lst, "w") as f:
        f.write("".join("d%d.burst.test\n" % i for i in range(n)))
    with FakeDNS(14, names, delay_ms=200, timeout=120) as f:
        r = run(*f.args("--dns-timeout", "30", "--dns-tries", "1", "-4", "--no-mta-sts", "-v",
                        "--concurrency", "256", "--batch", lst, total=60),
                json_out=False, timeout=120)
        check_rc(r)
        f.stop()
    docs = [json.loads(x) for x in r.out.decode().splitlines() if x.strip()]
    assert_eq(len(docs), n, "one record per target")
    for d in docs:
        harness.validate(d)
        assert_eq(d["dns"]["mx_query"]["status"], "ok", "MX answer of %s" % d["target"]["input"])
        assert_eq([x["a_query"]["status"] for x in d["dns"]["exchangers"]], ["ok"],
                  "A answer of %s" % d["target"]["input"])
        if "dns.timeout" in codes(d):
            raise AssertionError("%s: dns.timeout" % d["target"]["input"])
    udp = [e for e in f.log if "qname" in e and e["proto"] == "udp"]
    if len(udp) < 2 * n:
        raise AssertionError("only %d queries reached the server" % len(udp))
    # Each MX and A query once (a lost answer would show as a retry).
    for qtype in ("MX", "A"):
        seen = {}
        for e in udp:
            if e["qtype"] == qtype and e["qname"].endswith("burst.test"):
                seen[e["qname"]] = seen.get(e["qname"], 0) + 1
        if qtype == "MX" and (len(seen) != n or max(seen.values()) != 1):
            raise AssertionError("MX queries: %d names, at most %d times each"
                                 % (len(seen), max(seen.values())))
    peak = max(e["pending"] for e in udp)
    if peak > DNS_OUTSTANDING_MAX:
        raise AssertionError("%d queries outstanding at the server at once (limit %d)"
                             % (peak, DNS_OUTSTANDING_MAX))
    # The burst really filled the window (or the test proves nothing).
    if peak < DNS_OUTSTANDING_MAX // 2:
        raise AssertionError("only %d queries outstanding at once: no burst" % peak)
    m = re.search(r"resolver: (\d+) queries, (\d+) waited for a slot \(at most (\d+) at once, "
                  r"limit (\d+)\)", r.err)
    if m is None:
        raise AssertionError("no pacing summary on stderr: %s" % r.err[-600:])
    asked, waited, most, limit = map(int, m.groups())
    assert_eq(limit, DNS_OUTSTANDING_MAX, "limit")
    if most > limit or waited == 0 or asked < len(udp):
        raise AssertionError("client side: %s" % m.group(0))


@test
def identity_looked_up_once_per_batch():
    """Issue 9: the client identity is cached per engine run.  Four targets
    of one --batch run at once with the same local address while its PTR
    answers 500 ms late: one PTR query and one forward confirmation in all
    (the others wait for the lookup in flight), and every record carries
    the same client section and sends EHLO with the PTR name."""
    domains = ["c%d.cache.test" % i for i in range(1, 5)]
    names = {
        "1.0.0.127.in-addr.arpa": {"PTR": {
            "answer": [{"type": "PTR", "host": "localhost.test"}],
            "do": ["drop"] * 10 + ["answer"]}},
        "mx1.healthy.test": {"A": A(MX1)},
    }
    for d in domains:
        names[d] = {"MX": MX((10, "mx1.healthy.test"))}
    path = os.path.join(_tmp, "cache-batch.txt")
    with open(path, "w") as f:
        f.write("".join(d + "\n" for d in domains))
    with FakeDNS(16, names) as f:
        cmd = ["ip", "netns", "exec", NS, harness.MXTRACE, "--allow-loopback", "--ca-file",
               harness.CA, "--batch", path] + list(f.args("--dns-timeout", "5", "--dns-tries", "1"))
        p = subprocess.run(cmd, capture_output=True, timeout=120)
        f.stop()
    err = p.stderr.decode("utf-8", "replace")
    for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:", "Segmentation"):
        assert bad not in err, err[-800:]
    docs = [json.loads(x) for x in p.stdout.decode().splitlines() if x.strip()]
    for d in docs:
        harness.validate(d)
    assert_eq(sorted(d["target"]["input"] for d in docs), domains, "one record per target")
    for d in docs:
        c = d["client"]
        assert_eq((c["ptr"], c["fcrdns"], c["ehlo_name"], c["ehlo_source"]),
                  ("localhost.test", True, "localhost.test", "ptr"),
                  "client section of %s" % d["target"]["input"])
        assert_eq(c["ptr_query"]["status"], "ok", "PTR status of %s" % d["target"]["input"])
        assert_eq(step(attempt(d, MX1), "ehlo")["command"], "EHLO localhost.test",
                  "EHLO of %s" % d["target"]["input"])
    assert_eq(len(f.queries("PTR", "1.0.0.127.in-addr.arpa")), 1, "PTR queries in the batch")
    assert_eq(len(f.queries("A", "localhost.test")), 1, "forward confirmations in the batch")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or None))
