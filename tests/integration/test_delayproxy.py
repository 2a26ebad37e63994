# SPDX-License-Identifier: MIT
"""bench/delayproxy, the latency lab's delaying proxy, against the lab: it
must add at least the configured delay to every round trip (TCP and DNS
over UDP), fold the connect round trip into the banner, keep the bytes
intact, and its tarpit must accept and never answer.  About 2 s."""
import json
import os
import subprocess
import sys
import time

from harness import MXTRACE, NS, ROOT, assert_eq, main, test

# The proxy is built next to the mxtrace under test (build*/bench/).
PROXY = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(MXTRACE))), "bench", "delayproxy")
DELAY_MS = 60  # one way
TCP = "127.0.8.1"
UDP = "127.0.8.2"
TARPIT = "127.0.8.3"

# Runs inside the namespace: time a session through the proxy and a DNS
# query through its UDP side; print the measurements as JSON.
CLIENT = r'''
import json, socket, struct, sys, time
tcp, udp, tarpit = sys.argv[1:4]
out = {}

def reply(s):
    buf = b""
    while True:
        buf += s.recv(4096)
        lines = buf.split(b"\r\n")
        if len(lines) > 1 and len(lines[-2]) >= 4 and lines[-2][3:4] == b" ":
            return buf

t0 = time.monotonic()
s = socket.create_connection((tcp, 25), timeout=5)
t1 = time.monotonic()
banner = reply(s)
t2 = time.monotonic()
s.sendall(b"EHLO client.test\r\n")
ehlo = reply(s)
t3 = time.monotonic()
s.sendall(b"QUIT\r\n")
quit_ = reply(s)
s.close()
out.update(connect=(t1 - t0) * 1e3, banner=(t2 - t0) * 1e3, ehlo=(t3 - t2) * 1e3,
           banner_text=banner.decode(), ehlo_text=ehlo.decode(), quit_text=quit_.decode())

q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(p)]) + p for p in b"mx1.healthy.test".split(b".")) + b"\0"
q += struct.pack(">HH", 1, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
t0 = time.monotonic()
u.sendto(q, (udp, 53))
ans = u.recv(4096)
out.update(dns=(time.monotonic() - t0) * 1e3, dns_id=struct.unpack(">H", ans[:2])[0],
           dns_answers=struct.unpack(">H", ans[6:8])[0], dns_addr=list(ans[-4:]))

s = socket.create_connection((tarpit, 25), timeout=5)
s.settimeout(0.5)
try:
    got = s.recv(100)
    out["tarpit"] = "closed" if got == b"" else got.decode()
except socket.timeout:
    out["tarpit"] = "silent"
s.close()
print(json.dumps(out))
'''


def measure():
    if not os.access(PROXY, os.X_OK):
        raise AssertionError("no proxy binary at %s (build it with ninja)" % PROXY)
    proxy = subprocess.Popen(
        ["ip", "netns", "exec", NS, PROXY, "-d", str(DELAY_MS), "-t", "60",
         "tcp,%s:25,127.0.1.1:25" % TCP, "udp,%s:53,127.0.0.53:53" % UDP, "tarpit,%s:25" % TARPIT],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        line = proxy.stdout.readline()
        assert_eq(line, b"ready\n", "proxy start-up line")
        p = subprocess.run(["ip", "netns", "exec", NS, sys.executable, "-c", CLIENT, TCP, UDP, TARPIT],
                           capture_output=True, timeout=30)
        if p.returncode != 0:
            raise AssertionError("client failed: %s" % p.stderr.decode()[-500:])
        return json.loads(p.stdout)
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)


_m = {}


def m():
    if not _m:
        _m.update(measure())
    return _m


@test
def delayproxy_delays_each_round_trip():
    """EHLO and its reply cross the proxy once each way: >= 2 x the delay."""
    r = m()
    assert r["ehlo"] >= 2 * DELAY_MS, "EHLO round trip %.1f ms < %d ms" % (r["ehlo"], 2 * DELAY_MS)
    assert r["ehlo"] < 2 * DELAY_MS + 1000, "EHLO round trip %.1f ms: far too slow" % r["ehlo"]


@test
def delayproxy_folds_connect_into_banner():
    """Connect + banner take two round trips, as on a real path."""
    r = m()
    assert r["banner"] >= 4 * DELAY_MS, "banner after %.1f ms < %d ms" % (r["banner"], 4 * DELAY_MS)


@test
def delayproxy_passes_bytes_unchanged():
    """The lab's mx1 speaks through the proxy: banner, EHLO, QUIT intact."""
    r = m()
    assert r["banner_text"].startswith("220 mx1.healthy.test ESMTP"), r["banner_text"]
    assert "250-STARTTLS" in r["ehlo_text"] or "250 STARTTLS" in r["ehlo_text"], r["ehlo_text"]
    assert r["quit_text"].startswith("221 "), r["quit_text"]


@test
def delayproxy_delays_dns_and_keeps_the_id():
    """A DNS query through the UDP side: answered (mx1.healthy.test A
    127.0.1.1), same id, after >= 2 x the delay."""
    r = m()
    assert_eq((r["dns_id"], r["dns_answers"], r["dns_addr"]), (0x1234, 1, [127, 0, 1, 1]), "DNS answer")
    assert r["dns"] >= 2 * DELAY_MS, "DNS round trip %.1f ms < %d ms" % (r["dns"], 2 * DELAY_MS)


@test
def delayproxy_tarpit_accepts_and_stays_silent():
    assert_eq(m()["tarpit"], "silent", "tarpit")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
