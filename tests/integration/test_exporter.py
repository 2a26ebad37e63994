#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The exporter mode (mxtrace --listen) against the lab.

A real Prometheus server (Debian's prometheus 2.42), run inside the lab
namespace with its own configuration and data directory in a temporary
folder, scrapes /probe for lab domains through the blackbox relabelling
(targets -> __param_target -> instance, __address__ -> the exporter); the
test asks Prometheus' HTTP API for mxtrace_probe_success and the failing
domains' diagnosis series.  Then the exporter is treated as hostile input
would treat it: malformed query strings, unknown modules, over-long and
control-byte targets, raw garbage, 200 concurrent scrapes (RSS before and
after), a client that hangs up mid-probe, the --max-probes cap, the scrape
timeout header, SIGTERM during a probe.  Every exporter must exit 0 after
SIGTERM with nothing from the sanitizers (the suite runs the ASan build),
and its stderr (-v) must hold no raw control byte.

Usage: test_exporter.py [TEST_NAME ...]   (the lab must be up)
"""
import concurrent.futures
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

from harness import CA, MXTRACE, NS, ROOT, assert_eq, assert_in, main, test, wait_for

PROMETHEUS = "/usr/bin/prometheus"
PASSWORD = "S3cr3t-Pa55-exporter"

CONFIG = """\
# exporter modules for the lab test
[module default]
allow-loopback
timeout-total = 20

[module short]
allow-loopback
timeout-connect = 1
timeout-total = 10

[module banner]
allow-loopback
quit-after = banner
timeout-total = 20

[module connect]
allow-loopback
quit-after = connect
timeout-total = 20

[module slow]
allow-loopback
timeout-connect = 4
timeout-total = 20

# firewalled.test with this module runs 30 s (25, then the 587 and 465
# canaries, 15 s each): far from the bounds of the tests that cut it short.
[module slower]
allow-loopback
timeout-connect = 15
timeout-total = 40

[module auth]
allow-loopback
server = submit.healthy.test
submission
user = test
password-file = {pwfile}
auth = PLAIN
from = test@healthy.test
to = someone@elsewhere.test
timeout-total = 20

[module rcpt]
allow-loopback
to = postmaster@healthy.test
timeout-total = 20
"""

_port = [19125]


def next_port():
    _port[0] += 1
    return _port[0]


class Exporter:
    """One mxtrace --listen in the lab namespace, with the lab's config."""

    def __init__(self, *extra, config=True, listen=None, env=None):
        self.dir = tempfile.TemporaryDirectory(prefix="mxt-exporter-")
        self.port = next_port()
        pwfile = os.path.join(self.dir.name, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pwfile, 0o600)
        self.conf = os.path.join(self.dir.name, "exporter.conf")
        with open(self.conf, "w") as f:
            f.write(CONFIG.format(pwfile=pwfile))
        self.errpath = os.path.join(self.dir.name, "stderr")
        cmd = ["ip", "netns", "exec", NS, MXTRACE, "--listen",
               listen if listen is not None else "127.0.0.1:%d" % self.port, "--ca-file", CA, "-v"]
        if config:
            cmd += ["--config", self.conf]
        cmd += list(extra)
        self.err = open(self.errpath, "wb")
        e = dict(os.environ)
        e.update(env or {})
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.err, env=e)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.p.poll() is not None:
                raise AssertionError("exporter exited %d: %s" % (self.p.returncode, self.stderr()))
            if "listening on" in self.stderr():
                return
            time.sleep(0.05)
        self.stop()
        raise AssertionError("exporter did not start: %s" % self.stderr())

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def raw_stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read()

    def rss_kb(self):
        with open("/proc/%d/status" % self.p.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self, timeout=30):
        """SIGTERM; returns (exit status, seconds to exit)."""
        t0 = time.monotonic()
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.err.close()
        return rc, time.monotonic() - t0

    def stop_clean(self):
        """Stop and assert a clean exit: status 0, no sanitizer report, and
        no raw control byte on stderr (client text is escaped)."""
        rc, secs = self.stop()
        err = self.stderr()
        raw = self.raw_stderr()
        assert_eq(rc, 0, "exit status after SIGTERM (stderr tail %r)" % err[-800:])
        for bad in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if bad in err:
                raise AssertionError("sanitizer report: %s" % err[-2000:])
        ctl = [b for b in raw if (b < 0x20 and b != 0x0a) or b == 0x7f]
        if ctl:
            raise AssertionError("raw control bytes %r on stderr" % sorted(set(ctl)))
        self.dir.cleanup()
        return secs


def in_ns(*cmd, timeout=60, input=None):
    return subprocess.run(["ip", "netns", "exec", NS] + list(cmd), capture_output=True,
                          timeout=timeout, input=input)


# The HTTP client runs inside the namespace: a small Python program that
# performs the requests given as JSON and prints the results as JSON, so
# every byte of traffic stays on the namespace's loopback.
CLIENT = r'''
import concurrent.futures, http.client, json, socket, sys, time
reqs = json.load(sys.stdin)
def one(r):
    t0 = time.monotonic()
    try:
        if r.get("raw") is not None:
            s = socket.create_connection(("127.0.0.1", r["port"]), timeout=r.get("timeout", 30))
            s.sendall(r["raw"].encode("latin-1"))
            if r.get("hangup_after") is not None:
                time.sleep(r["hangup_after"])
                s.close()
                return {"status": -1, "elapsed": time.monotonic() - t0}
            data = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
            s.close()
            return {"status": 0, "body": data.decode("latin-1"), "elapsed": time.monotonic() - t0}
        c = http.client.HTTPConnection("127.0.0.1", r["port"], timeout=r.get("timeout", 60))
        c.request(r.get("method", "GET"), r["path"], headers=r.get("headers", {}))
        resp = c.getresponse()
        body = resp.read().decode("utf-8", "replace")
        c.close()
        return {"status": resp.status, "body": body, "headers": dict(resp.getheaders()),
                "elapsed": time.monotonic() - t0}
    except Exception as e:
        return {"status": -2, "error": repr(e), "elapsed": time.monotonic() - t0}
with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, min(len(reqs), 256))) as ex:
    out = list(ex.map(one, reqs))
json.dump(out, sys.stdout)
'''


def http(reqs, timeout=120):
    """Run the requests (dicts: port, path, headers, method, raw...) at once
    inside the namespace; returns their results in order."""
    p = in_ns("/usr/bin/python3", "-c", CLIENT, timeout=timeout,
              input=json.dumps(reqs).encode())
    if p.returncode != 0:
        raise AssertionError("client failed: %s" % p.stderr.decode()[-800:])
    return json.loads(p.stdout)


def get(x, path, **kw):
    r = dict(kw)
    r["port"] = x.port
    r["path"] = path
    return http([r])[0]


def sample(body, name):
    """The value of an unlabelled sample, or of the first with labels."""
    m = re.search(r"^%s(?:\{[^}]*\})? (\S+)$" % re.escape(name), body, re.M)
    return float(m.group(1)) if m else None


def own(x, name):
    r = get(x, "/metrics")
    assert_eq(r["status"], 200, "/metrics status")
    return r["body"], sample(r["body"], name)


def idle(x, timeout=30):
    """Wait until the exporter has no probe in flight (its own gauge)."""
    wait_for(lambda: own(x, "mxtrace_exporter_probes_in_flight")[1] == 0.0, timeout,
             0.2, "no probe left in flight")


def promtool(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text.encode(),
                       capture_output=True, timeout=30)
    if p.returncode != 0:
        raise AssertionError("promtool: %s" % (p.stdout + p.stderr).decode()[-800:])


# ---- a real Prometheus ----

@test
def prometheus_scrapes_probe_through_relabelling():
    x = Exporter()
    tmp = tempfile.TemporaryDirectory(prefix="mxt-prom-")
    prom_port = next_port()
    relabel = """    relabel_configs:
      - source_labels: [__address__]
        target_label: __param_target
      - source_labels: [__param_target]
        target_label: instance
      - target_label: __address__
        replacement: 127.0.0.1:%d
""" % x.port
    # A /probe scrape gets the timeout less 0.5 s (the exporter's margin);
    # 5 s leaves a healthy probe of the ASan build on a loaded machine
    # room to answer in time (a scrape that times out is "up 0" and makes
    # every series of its target stale).
    cfg = """global:
  scrape_interval: 5s
  scrape_timeout: 5s
scrape_configs:
  - job_name: mxtrace
    metrics_path: /probe
    static_configs:
      - targets: [healthy.test, banner554.test]
%s
  - job_name: mxtrace_short
    metrics_path: /probe
    params:
      module: [short]
    static_configs:
      - targets: [firewalled.test]
%s
  - job_name: mxtrace_exporter
    static_configs:
      - targets: ['127.0.0.1:%d']
""" % (relabel, relabel, x.port)
    conf = os.path.join(tmp.name, "prometheus.yml")
    with open(conf, "w") as f:
        f.write(cfg)
    chk = subprocess.run(["promtool", "check", "config", conf], capture_output=True, timeout=30)
    assert_eq(chk.returncode, 0, "promtool check config: %s" % chk.stdout.decode()[-400:])
    plog = open(os.path.join(tmp.name, "prometheus.log"), "wb")
    prom = subprocess.Popen(
        ["ip", "netns", "exec", NS, PROMETHEUS, "--config.file=" + conf,
         "--storage.tsdb.path=" + os.path.join(tmp.name, "data"),
         "--web.listen-address=127.0.0.1:%d" % prom_port,
         "--web.console.templates=" + tmp.name, "--web.console.libraries=" + tmp.name],
        stdout=plog, stderr=plog)

    try:
        def api(q):
            r = http([{"port": prom_port, "path": "/api/v1/query?query=" + urllib.parse.quote(q),
                       "timeout": 10}])[0]
            if r["status"] != 200:
                return None
            return json.loads(r["body"])["data"]["result"]

        want = {"healthy.test": 1.0, "banner554.test": 0.0, "firewalled.test": 0.0}
        got = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            res = api("mxtrace_probe_success") or []
            got = {s["metric"].get("instance"): float(s["value"][1]) for s in res}
            if all(k in got for k in want):
                break
            time.sleep(1)
        assert_eq(got, want, "mxtrace_probe_success by instance in Prometheus")
        for inst, code in (("banner554.test", "banner.rejected"),
                           ("firewalled.test", "connect.timeout")):
            res = api('mxtrace_finding{instance="%s",code="%s"}' % (inst, code)) or []
            assert_eq(len(res), 1, "%s's %s series in Prometheus" % (inst, code))
            assert_eq(res[0]["metric"].get("severity"), "critical", "%s severity" % code)
        res = api('mxtrace_finding{instance="healthy.test",severity="critical"}')
        assert_eq(res, [], "no critical finding for healthy.test")
        # The exporter's own job may not have been scraped yet: wait for
        # its series, then every target's latest scrape must be up.
        ups = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            res = api("up") or []
            ups = {(s["metric"]["job"], s["metric"]["instance"]): s["value"][1] for s in res}
            if len(ups) >= 4:
                break
            time.sleep(1)
        assert_eq(sorted(v for v in ups.values()), ["1"] * 4, "every scrape is up: %r" % ups)
        # The exporter's /metrics is scraped on its own schedule, which may
        # fall before the slowest probe (firewalled.test) ends: wait for a
        # later scrape instead of reading the first one.
        res = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            res = api("sum(mxtrace_exporter_probes_total)") or []
            if res and float(res[0]["value"][1]) >= 3:
                break
            time.sleep(1)
        else:
            raise AssertionError("exporter's own probes_total in Prometheus: %r" % res)
    finally:
        prom.send_signal(signal.SIGTERM)
        try:
            prom.wait(20)
        except subprocess.TimeoutExpired:
            prom.kill()
            prom.wait()
        plog.close()
        x.stop_clean()
        tmp.cleanup()


# ---- formats, modules, errors ----

@test
def probe_formats_by_accept_and_promtool():
    x = Exporter()
    try:
        om, txt = http([
            {"port": x.port, "path": "/probe?target=healthy.test",
             "headers": {"Accept": "application/openmetrics-text;version=1.0.0,"
                                   "text/plain;version=0.0.4;q=0.5"}},
            {"port": x.port, "path": "/probe?target=healthy.test"}])
        assert_eq(om["status"], 200, "OpenMetrics status")
        assert_eq(om["headers"]["Content-Type"],
                  "application/openmetrics-text; version=1.0.0; charset=utf-8", "OM type")
        assert_eq(om["body"].count("# EOF\n"), 1, "one # EOF")
        assert_eq(txt["headers"]["Content-Type"], "text/plain; version=0.0.4; charset=utf-8",
                  "text format type")
        assert_eq("# EOF" in txt["body"], False, "no # EOF in the text format")
        for r in (om, txt):
            assert_eq(sample(r["body"], "mxtrace_probe_success"), 1.0, "healthy succeeds")
            assert_eq('target="' in r["body"], False, "no target label on /probe")
        promtool(txt["body"])
        from prometheus_client.openmetrics.parser import text_string_to_metric_families
        list(text_string_to_metric_families(om["body"]))
        m = get(x, "/metrics")
        promtool(m["body"])
        mo = get(x, "/metrics", headers={"Accept": "application/openmetrics-text"})
        list(text_string_to_metric_families(mo["body"]))
        idx = get(x, "/")
        assert_eq(idx["status"], 200, "/ status")
        assert_in('href="metrics"', idx["body"], "/ links /metrics")
        assert_in("probe?target=", idx["body"], "/ links /probe")
    finally:
        x.stop_clean()


@test
def bad_requests_get_400_with_one_line():
    x = Exporter()
    try:
        long_target = "a" * 64 + ".test"
        cases = [
            ("/probe", 400, "missing target"),
            ("/probe?target=", 400, "missing target"),
            ("/probe?target", 400, "missing target"),
            ("/probe?module=short", 400, "missing target"),
            ("/probe?target=healthy.test&module=nosuch", 400, "unknown module 'nosuch'"),
            ("/probe?target=healthy.test&module=%1b%5b2J", 400, "unknown module '\\x1b[2J'"),
            ("/probe?target=a%1b%5d8;;x%07b.test", 400, "bad target 'a\\x1b]8;;x\\x07b.test'"),
            ("/probe?target=a%0d%0aX-Evil:%201", 400, "bad target"),
            ("/probe?target=127.0.1.1:x", 400, "bad target '127.0.1.1:x'"),
            ("/probe?target=%5b::1", 400, "bad target '[::1'"),
            ("/probe?target=http://healthy.test/", 400, "bad target"),
            ("/probe?target=-bad-.test", 400, "bad target"),
            ("/probe?target=" + long_target, 400, "bad target"),
            ("/probe?target=" + "x" * 5000, 400, "too long"),
            ("/probe?target=%zz%%", 400, "bad target"),
            ("/probe?&&&=&target=%", 400, "bad target"),
            ("/probe?target=%00healthy.test", 400, ""),
            ("/probe?target=@healthy.test", 400, "not a mail address"),
            ("/nope", 404, "not found"),
        ]
        res = http([{"port": x.port, "path": p} for p, _, _ in cases])
        for (path, code, reason), r in zip(cases, res):
            assert_eq(r["status"], code, "status for %r (%r)" % (path[:80], r.get("body", "")))
            body = r["body"]
            assert_eq(body.count("\n"), 1, "one line for %r: %r" % (path[:60], body[:200]))
            assert_in(reason, body, "reason for %r" % path[:60])
            assert_eq(re.search(r"[\x00-\x09\x0b-\x1f\x7f]", body), None,
                      "no raw control byte in the reply to %r" % path[:60])
        post = get(x, "/probe?target=healthy.test", method="POST")
        assert_eq(post["status"], 405, "POST")
        hdr = get(x, "/probe?target=healthy.test",
                  headers={"X-Prometheus-Scrape-Timeout-Seconds": "1e9"})
        assert_eq(hdr["status"], 400, "bad scrape timeout header")
        # A user@domain target is a recipient, as on the command line.
        ok = get(x, "/probe?target=postmaster%40healthy.test&module=banner")
        assert_eq(ok["status"], 200, "user@domain target")
        assert_eq(sample(ok["body"], "mxtrace_probe_success"), 1.0, "user@domain succeeds")
        body, v = own(x, 'mxtrace_exporter_http_responses_total{code="400"}')
        if v is None or v < len([c for c in cases if c[1] == 400]) + 1:
            raise AssertionError("400 responses counted: %r" % v)
    finally:
        x.stop_clean()


def attempt_series(body, family):
    """The (address, port, labels) of every series of a per-attempt family."""
    out = []
    for m in re.finditer(r"^%s\{([^}]*)\} (\S+)$" % re.escape(family), body, re.M):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
        out.append((labels.get("address"), labels.get("port"), labels, float(m.group(2))))
    return out


@test
def address_targets_probe_one_server():
    x = Exporter()
    try:
        # An address (bare, an RFC 5321 address literal, with a port) is the
        # one server to probe, as --server ADDR: the lab MX 127.0.1.1, mx6 on
        # ::1, and Exim's submission port 587 on 127.0.1.40.  The default
        # module has no recipient: the session ends after STARTTLS.
        cases = [
            ("127.0.1.1", "127.0.1.1", "25"),
            ("%5b127.0.1.1%5d", "127.0.1.1", "25"),
            ("127.0.1.2:25", "127.0.1.2", "25"),
            ("%5b127.0.1.40%5d:587", "127.0.1.40", "587"),
            ("127.0.1.40:587", "127.0.1.40", "587"),
            ("::1", "::1", "25"),
            ("%5bIPv6:0:0::1%5d:25", "::1", "25"),
        ]
        res = http([{"port": x.port, "path": "/probe?target=" + t} for t, _, _ in cases])
        for (target, addr, port), r in zip(cases, res):
            what = "target=%s (%r)" % (target, r.get("body", r)[-600:])
            assert_eq(r["status"], 200, "status for " + what)
            body = r["body"]
            promtool(body)
            assert_eq(sample(body, "mxtrace_probe_success"), 1.0, "success for " + what)
            ok = attempt_series(body, "mxtrace_attempt_success")
            assert_eq([(a, p, v) for a, p, _, v in ok], [(addr, port, 1.0)],
                      "one attempt, to the address and port, for " + what)
            ends = attempt_series(body, "mxtrace_attempt_end_info")
            assert_eq([(l["end"], l["stage"]) for _, _, l, _ in ends], [("ok", "ehlo_tls")],
                      "ended after TLS (no recipient) for " + what)
            assert_eq(re.search(r'stage="(mail|rcpt)"', body), None,
                      "no MAIL or RCPT without a recipient for " + what)
            assert_eq(sample(body, 'mxtrace_tls_info'), 1.0, "TLS for " + what)
        # With the module's recipient the session runs to RCPT, as --server
        # ADDR --to does (module rcpt: to = postmaster@healthy.test).
        r = get(x, "/probe?target=127.0.1.1&module=rcpt")
        assert_eq(r["status"], 200, "module rcpt status (%r)" % r.get("body", r)[-300:])
        assert_eq(sample(r["body"], "mxtrace_probe_success"), 1.0, "module rcpt succeeds")
        assert_in('stage="rcpt"', r["body"], "RCPT asked with the module's recipient")
        assert_eq([(l["end"], l["stage"]) for _, _, l, _ in
                   attempt_series(r["body"], "mxtrace_attempt_end_info")],
                  [("ok", "rcpt")], "module rcpt ends after RCPT")
        # A module's quit-after still applies.
        r = get(x, "/probe?target=127.0.1.1&module=banner")
        assert_eq([(l["end"], l["stage"]) for _, _, l, _ in
                   attempt_series(r["body"], "mxtrace_attempt_end_info")],
                  [("ok", "banner")], "module banner ends at the greeting")
        # Garbage and addresses no probe should reach: one-line 400s.
        bad = [
            ("999.1.1.1", "not a valid IP address"),
            ("1.2.3", "not a valid IP address"),
            ("%5b127.0.1.1", "write [ADDRESS]"),
            ("%5b127.0.1.1%5dx", "write [ADDRESS]"),
            ("%5bhealthy.test%5d", "not a valid IP address"),
            ("%5bIPv6:127.0.1.1%5d", "not a valid IP address"),
            ("127.0.1.1:0", "the port is not a number"),
            ("127.0.1.1:65536", "the port is not a number"),
            ("127.0.1.1:%2b25", "the port is not a number"),
            ("127.0.1.1:", "the port is not a number"),
            ("%5b::1%5d:x", "the port is not a number"),
            ("0.0.0.0", "not an address mail is sent to"),
            ("224.0.0.1", "not an address mail is sent to"),
            ("::", "not an address mail is sent to"),
            ("::ffff:127.0.1.1", "not an address mail is sent to"),
            ("healthy.test:25", "not a domain name"),
            ("postmaster@127.0.1.1", "a recipient at an address"),
            ("postmaster@%5b127.0.1.1%5d", "a recipient at an address"),
        ]
        res = http([{"port": x.port, "path": "/probe?target=" + t} for t, _ in bad])
        for (target, reason), r in zip(bad, res):
            assert_eq(r["status"], 400, "status for %r (%r)" % (target, r.get("body")))
            assert_eq(r["body"].count("\n"), 1, "one line for %r" % target)
            assert_in(reason, r["body"], "reason for %r" % target)
    finally:
        x.stop_clean()
    # Loopback needs the module's allow-loopback: a scraper picks targets.
    y = Exporter(config=False)
    try:
        r = get(y, "/probe?target=127.0.1.1")
        assert_eq(r["status"], 400, "loopback without allow-loopback (%r)" % r.get("body"))
        assert_in("a loopback address", r["body"], "reason")
        r = get(y, "/probe?target=%5b::1%5d")
        assert_eq(r["status"], 400, "::1 without allow-loopback")
    finally:
        y.stop_clean()


@test
def raw_garbage_and_oversized_requests():
    x = Exporter()
    try:
        big_header = "GET /probe?target=healthy.test HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n" % (
            "y" * 40000)
        reqs = [
            # MHD waits for the rest of these until its idle timeout: the
            # client gives up after 3 s (the answer, if any, is not checked).
            {"port": x.port, "raw": "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + "\x00" * 64,
             "timeout": 3},
            {"port": x.port, "raw": "GARBAGE\x1b[2J\x00\r\n\r\n", "timeout": 3},
            {"port": x.port, "raw": "GET /" + "a" * 30000 + " HTTP/1.1\r\nHost: x\r\n\r\n"},
            {"port": x.port, "raw": big_header},
            {"port": x.port, "raw": "GET /probe?target=healthy.test HTTP/1.1\r\n",
             "hangup_after": 0.2},
        ]
        res = http(reqs)
        for r in res[2:4]:
            m = re.match(r"HTTP/1\.[01] (\d+)", r.get("body", ""))
            if m is None or m.group(1) not in ("400", "413", "414", "431"):
                raise AssertionError("oversized request answered %r" % r.get("body", "")[:200])
        ok = get(x, "/probe?target=healthy.test&module=banner")
        assert_eq(ok["status"], 200, "still serving after garbage")
    finally:
        x.stop_clean()


@test
def password_never_in_a_response():
    x = Exporter()
    try:
        import base64
        r = get(x, "/probe?target=healthy.test&module=auth")
        assert_eq(r["status"], 200, "auth module probe")
        b64 = base64.b64encode(b"\0test\0" + PASSWORD.encode()).decode()
        for secret in (PASSWORD, b64, b64[:16]):
            assert_eq(secret in r["body"], False, "password (%s) in the /probe reply" % secret[:6])
        m = get(x, "/metrics")
        assert_eq(PASSWORD in m["body"], False, "password in /metrics")
        assert_eq(PASSWORD in x.stderr(), False, "password in the log")
    finally:
        x.stop_clean()


@test
def config_file_errors_are_refused():
    d = tempfile.TemporaryDirectory(prefix="mxt-exporter-conf-")
    cases = [
        ("[module a]\npassword = hunter2\n", ":2: no password in the configuration file"),
        ("[module a]\nsend\nto = x@healthy.test\n", "a scrape never sends a message"),
        ("[module a]\nformat = json\n", "is not a module option"),
        ("[module a]\nresolver = 127.0.0.53\n", "on the command line"),
        ("[module a]\nnosuch = 1\n", "unknown or ambiguous option"),
        ("[module a]\n[module a]\n", "defined twice"),
        ("timeout-total = 5\n", "before the first [module NAME]"),
        ("[module b\x1b[2J]\n", "write [module NAME]"),
        ("[module a]\nuser = test\n", "user needs password-file"),
        ("[module a]\nport = 99999\n", "--port"),
        ("# nothing\n", "defines no [module NAME]"),
    ]
    try:
        for text, want in cases:
            path = os.path.join(d.name, "c.conf")
            with open(path, "w") as f:
                f.write(text)
            p = in_ns(MXTRACE, "--listen", "127.0.0.1:%d" % next_port(), "--config", path,
                      timeout=30)
            err = p.stderr.decode("utf-8", "replace")
            assert_eq(p.returncode, 64, "exit status for %r (%s)" % (text, err))
            assert_in(want, err, "message for %r" % text)
            assert_eq(b"\x1b" in p.stderr, False, "escaped config text in %r" % err)
        for args, want in ((["--listen", "1.2.3.4.5"], "not an IP address"),
                           (["--listen", "9125", "healthy.test"], "do not give TARGET"),
                           (["--config", "x", "healthy.test"], "only used with --listen"),
                           (["--max-probes", "4", "healthy.test"],
                            "--max-probes is only used with --listen"),
                           (["--listen", "[::1", ], "write [IPV6]:PORT"),
                           (["--listen", "127.0.0.1:0"], "--listen")):
            p = in_ns(MXTRACE, *args, timeout=30)
            assert_eq(p.returncode, 64, "exit status for %r" % args)
            assert_in(want, p.stderr.decode(), "message for %r" % args)
    finally:
        d.cleanup()


@test
def default_listen_address_is_localhost():
    port = next_port()
    x = Exporter("--allow-loopback", config=False, listen=str(port))
    x.port = port
    try:
        ss = in_ns("ss", "-Hltn", "sport = :%d" % x.port).stdout.decode()
        assert_eq(ss.split()[3:4], ["127.0.0.1:%d" % x.port], "listens on 127.0.0.1 only")
        assert_in("listening on 127.0.0.1:%d" % x.port, x.stderr(), "startup note")
        # Without --config, a scrape uses the command line's options.
        r = get(x, "/probe?target=healthy.test")
        assert_eq(sample(r["body"], "mxtrace_probe_success"), 1.0, "command-line module")
    finally:
        x.stop_clean()


# ---- concurrency, cap, timeouts, hang-ups ----

@test
def two_hundred_concurrent_scrapes_and_rss():
    # Under ASan, freed memory sits in the quarantine and RSS would only
    # grow: with no quarantine it is reused as by the plain allocator.
    # Set whether or not the caller exported ASAN_OPTIONS (a plain build
    # ignores it).
    asan = os.environ.get("ASAN_OPTIONS", "")
    env = {"ASAN_OPTIONS": asan + ":quarantine_size_mb=0:thread_local_quarantine_size_kb=0"}
    x = Exporter("--max-probes", "256", env=env)
    try:
        # TCP connect only: 200 probes make 400 connections to the lab's two
        # Postfix MX hosts, whose smtpd (anvil) refuses more than 50 sessions
        # from one client; the load under test is the exporter's.
        path = "/probe?target=healthy.test&module=connect"
        warm = http([{"port": x.port, "path": path} for _ in range(200)], timeout=300)
        assert_eq([r["status"] for r in warm], [200] * 200, "warm-up burst statuses")
        idle(x)
        time.sleep(1)
        before = x.rss_kb()
        t0 = time.monotonic()
        res = http([{"port": x.port, "path": path} for _ in range(200)], timeout=300)
        elapsed = time.monotonic() - t0
        assert_eq([r["status"] for r in res], [200] * 200, "200 concurrent scrapes")
        assert_eq([sample(r["body"], "mxtrace_probe_success") for r in res], [1.0] * 200,
                  "every scrape's probe succeeded")
        idle(x)
        time.sleep(1)
        after = x.rss_kb()
        print("  200 concurrent scrapes: %.2f s; RSS %d KiB before, %d KiB after" % (
            elapsed, before, after))
        if after > before * 1.10 + 4096:
            raise AssertionError("RSS grew from %d to %d KiB" % (before, after))
        ok = get(x, path)
        assert_eq(ok["status"], 200, "serving after the burst")
    finally:
        x.stop_clean()


@test
def over_the_cap_gets_503_retry_after():
    x = Exporter("--max-probes", "2")
    try:
        slow = {"port": x.port, "path": "/probe?target=firewalled.test&module=slow"}
        res = http([slow, slow, slow, slow])
        codes = sorted(r["status"] for r in res)
        assert_eq(codes, [200, 200, 503, 503], "two run, two refused")
        for r in res:
            if r["status"] == 503:
                assert_eq(r["headers"].get("Retry-After"), "1", "Retry-After")
                # A 503 that waited for a slot would take the slow probe's
                # 4 s connect deadline; the rest is a loaded machine's
                # client start-up and scheduling.
                if r["elapsed"] > 2.5:
                    raise AssertionError("503 took %.2f s: it must not wait" % r["elapsed"])
        body, rej = own(x, "mxtrace_exporter_probes_rejected_total")
        assert_eq(rej, 2.0, "rejections counted")
    finally:
        x.stop_clean()


@test
def scrape_timeout_header_is_honoured():
    x = Exporter()
    try:
        r = get(x, "/probe?target=tarpit.test",
                headers={"X-Prometheus-Scrape-Timeout-Seconds": "2.5"})
        assert_eq(r["status"], 200, "status")
        # The run's own clock shows the budget (2.5 s less the 0.5 s margin)
        # closely; the client's wall time adds start-up and scheduling on a
        # loaded machine, hence its extra second.  Unbounded, the probe
        # would wait for the tarpit's greeting (3 s) and succeed.
        took = sample(r["body"], "mxtrace_probe_duration_seconds")
        if took is None or not 1.9 <= took < 2.4:
            raise AssertionError("the run took %r s: the budget is 2.0 s" % took)
        if not r["elapsed"] < 2.5 + 1.0:
            raise AssertionError("answered in %.2f s, scrape timeout 2.5 s" % r["elapsed"])
        if not r["elapsed"] > 1.5:
            raise AssertionError("answered in %.2f s: the budget is 2.0 s" % r["elapsed"])
        assert_eq(sample(r["body"], "mxtrace_probe_success"), 0.0, "tarpit is not a success")
        assert_in('code="banner.timeout"', r["body"], "the tarpit's finding")
    finally:
        x.stop_clean()


@test
def client_hangup_cancels_the_probe():
    x = Exporter()
    try:
        raw = "GET /probe?target=firewalled.test&module=slower HTTP/1.1\r\nHost: x\r\n\r\n"
        http([{"port": x.port, "raw": raw, "hangup_after": 0.5}])
        deadline = time.monotonic() + 30
        cancelled = inflight = None
        while time.monotonic() < deadline:
            body, cancelled = own(x, "mxtrace_exporter_probes_cancelled_total")
            inflight = sample(body, "mxtrace_exporter_probes_in_flight")
            if cancelled == 1.0 and inflight == 0.0:
                break
            time.sleep(0.2)
        assert_eq((cancelled, inflight), (1.0, 0.0), "cancelled, in flight")
        # How long the probe ran, by the exporter's own clock (-v log): the
        # client hung up 0.5 s after asking; uncancelled it would run 30 s.
        m = re.search(r"probe firewalled\.test: \w+ in ([0-9.]+) s", x.stderr())
        if m is None or float(m.group(1)) > 5:
            raise AssertionError("the hang-up was noticed late: %s" % (
                m.group(0) if m else "no probe line in the log"))
        ok = get(x, "/probe?target=healthy.test&module=banner")
        assert_eq(ok["status"], 200, "serving after a hang-up")
    finally:
        x.stop_clean()


@test
def sigterm_during_probes_exits_cleanly():
    x = Exporter()
    slow = "GET /probe?target=firewalled.test&module=slower HTTP/1.1\r\nHost: x\r\n\r\n"
    p = subprocess.Popen(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c", CLIENT],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p.stdin.write(json.dumps([{"port": x.port, "raw": slow}] * 3).encode())
    p.stdin.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        body, inflight = own(x, "mxtrace_exporter_probes_in_flight")
        if inflight == 3.0:
            break
        time.sleep(0.1)
    assert_eq(inflight, 3.0, "probes in flight before SIGTERM")
    secs = x.stop_clean()
    out = json.loads(p.stdout.read())
    p.wait(10)
    # Waiting for the probes would take about 30 s (module slower); the
    # slack is ASan's leak check at exit on a loaded machine.
    if secs > 10:
        raise AssertionError("exit took %.2f s after SIGTERM" % secs)
    for r in out:
        assert_eq(r["status"], 0, "client read to the close: %r" % r)
        assert_eq(r["body"][:15], "HTTP/1.1 200 OK", "a cancelled probe is still answered")
        assert_in("mxtrace_probe_success 0", r["body"], "the partial record")



# A resolver that never answers, on its own loopback address in the lab
# namespace: the DNS stage of every probe waits on it.
SILENT_DNS = r'''
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
print("READY", flush=True)
time.sleep(float(sys.argv[2]))
'''


class SilentDNS:
    def __init__(self, addr):
        self.addr = addr
        self.p = subprocess.Popen(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c", SILENT_DNS,
                                   addr, "120"], stdout=subprocess.PIPE)
        if not self.p.stdout.readline().startswith(b"READY"):
            raise AssertionError("silent DNS on %s did not start" % addr)

    def stop(self):
        self.p.kill()
        self.p.wait()
        self.p.stdout.close()


# Long c-ares timeouts: without cancellation a probe would wait for the DNS
# stage's deadline (the module's timeout-total, 20 s).
SILENT_ARGS = ("--dns-timeout", "15", "--dns-tries", "2")


@test
def client_hangup_during_dns_ends_the_probe():
    dns = SilentDNS("127.0.4.240")
    x = None
    try:
        x = Exporter("--resolver", dns.addr, *SILENT_ARGS)
        raw = "GET /probe?target=silent.test&module=default HTTP/1.1\r\nHost: x\r\n\r\n"
        http([{"port": x.port, "raw": raw, "hangup_after": 0.5}])
        t0 = time.monotonic()  # the client has hung up
        # Uncancelled, the probe would wait 20 s (SILENT_ARGS); 10 s leaves
        # room for a loaded machine's scheduling and the /metrics round trips.
        deadline = t0 + 10
        cancelled = inflight = None
        while time.monotonic() < deadline:
            body, cancelled = own(x, "mxtrace_exporter_probes_cancelled_total")
            inflight = sample(body, "mxtrace_exporter_probes_in_flight")
            if cancelled == 1.0 and inflight == 0.0:
                break
            time.sleep(0.05)
        took = time.monotonic() - t0
        assert_eq((cancelled, inflight), (1.0, 0.0), "cancelled, in flight %.1f s after the hang-up"
                  % took)
        assert_in("probe silent.test: unknown", x.stderr(), "the cancelled probe's report")
    finally:
        if x is not None:
            x.stop_clean()
        dns.stop()


@test
def sigterm_during_dns_exits_cleanly():
    dns = SilentDNS("127.0.4.241")
    x = None
    try:
        x = Exporter("--resolver", dns.addr, *SILENT_ARGS)
        slow = "GET /probe?target=silent.test&module=default HTTP/1.1\r\nHost: x\r\n\r\n"
        p = subprocess.Popen(["ip", "netns", "exec", NS, "/usr/bin/python3", "-c", CLIENT],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        p.stdin.write(json.dumps([{"port": x.port, "raw": slow}] * 3).encode())
        p.stdin.close()
        deadline = time.monotonic() + 15
        inflight = None
        while time.monotonic() < deadline:
            body, inflight = own(x, "mxtrace_exporter_probes_in_flight")
            if inflight == 3.0:
                break
            time.sleep(0.1)
        assert_eq(inflight, 3.0, "probes in flight before SIGTERM")
        secs = x.stop_clean()
        x = None
        out = json.loads(p.stdout.read())
        p.wait(10)
        # Waiting for the DNS stage would take 20 s (SILENT_ARGS); the slack
        # is ASan's leak check at exit on a loaded machine, as above.
        if secs > 10:
            raise AssertionError("exit took %.2f s after SIGTERM" % secs)
        for r in out:
            assert_eq(r["status"], 0, "client read to the close: %r" % r)
            assert_eq(r["body"][:15], "HTTP/1.1 200 OK", "a cancelled probe is still answered")
            assert_in("mxtrace_probe_success 0", r["body"], "the partial record")
    finally:
        if x is not None:
            x.stop_clean()
        dns.stop()


if __name__ == "__main__":
    import sys
    sys.exit(main(sys.argv[1:]))

