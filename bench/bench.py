#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""mxtrace benchmarks against the lab, side by side with swaks and
posttls-finger in one run, reporting ratios.  Loopback only, inside the lab
namespace (MXT_LAB_NS).  Usage: bench.py [ITERATIONS]

Cases (same lab servers, same work where the tools allow it):
  1. TLS probe of one server: connect, banner, EHLO, STARTTLS, EHLO, QUIT
     mxtrace --server 127.0.1.1 --quit-after tls | posttls-finger | swaks -tls --quit-after TLS
  2. One server through RCPT with STARTTLS (no DATA)
     mxtrace --server ... | swaks -tls --quit-after RCPT
  3. Whole domain, both MX through RCPT with STARTTLS
     mxtrace healthy.test (both MX concurrently) | swaks run once per MX, one after the other
  4. DNS stage concurrency: equal.test (1 MX query, then 3 exchangers x A+AAAA)
     through a forwarder that delays every answer by 50 ms.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NS = os.environ.get("MXT_LAB_NS", "mxtbench")
RUN = os.path.join(ROOT, "tests", "lab", "run", NS)
CA = os.path.join(RUN, "ca", "ca.pem")
MXTRACE = os.environ.get("MXTRACE", os.path.join(ROOT, "build", "src", "cli", "mxtrace"))
N = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def netns(cmd, env=None):
    return ["ip", "netns", "exec", NS] + cmd


def timed(cmd, env=None, ok=(0,)):
    e = dict(os.environ)
    if env:
        e.update(env)
    t0 = time.perf_counter()
    p = subprocess.run(netns(cmd), capture_output=True, env=e, timeout=120)
    dt = (time.perf_counter() - t0) * 1000
    if p.returncode not in ok:
        raise RuntimeError("%s exited %d: %s" % (cmd[0], p.returncode, p.stderr[-300:]))
    return dt, p


def series(cmds, env=None, ok=(0,)):
    """Median wall time (ms) of running the command list (in sequence) N times."""
    timed(cmds[0], env, ok)  # warm-up (caches, TLS session state)
    out = []
    for _ in range(N):
        t = 0.0
        for c in cmds:
            t += timed(c, env, ok)[0]
        out.append(t)
    return statistics.median(out), min(out), max(out)


def row(name, res):
    med, lo, hi = res
    print("  %-58s median %7.1f ms  (min %.1f, max %.1f)" % (name, med, lo, hi))
    return med


def main():
    pf_env = {"MAIL_CONFIG": os.path.join(RUN, "client")}
    swaks = shutil.which("swaks")
    ptf = shutil.which("posttls-finger")
    print("mxtrace benchmarks, %d iterations per case, lab namespace %s" % (N, NS))

    print("\n1. TLS probe of one server (connect, banner, EHLO, STARTTLS, EHLO, QUIT)")
    m = row("mxtrace --server 127.0.1.1 --quit-after tls",
            series([[MXTRACE, "--allow-loopback", "--ca-file", CA, "--server", "mx1.healthy.test", "--to",
                     "postmaster@healthy.test", "--quit-after", "tls"]]))
    p = row("posttls-finger -c -l verify -F CA [127.0.1.1]",
            series([[ptf, "-c", "-l", "verify", "-F", CA, "[127.0.1.1]"]], pf_env))
    s = row("swaks -tls --quit-after TLS (+EHLO)",
            series([[swaks, "--server", "127.0.1.1", "-tls", "--quit-after", "TLS", "--to",
                     "postmaster@healthy.test", "--tls-ca-path", CA]]))
    print("  ratio: posttls-finger/mxtrace %.2fx, swaks/mxtrace %.2fx" % (p / m, s / m))

    print("\n2. One server through RCPT with STARTTLS (MAIL, RCPT, then RSET/QUIT)")
    m = row("mxtrace --server 127.0.1.1",
            series([[MXTRACE, "--allow-loopback", "--ca-file", CA, "--server", "mx1.healthy.test", "--to",
                     "postmaster@healthy.test"]]))
    s = row("swaks -tls --quit-after RCPT",
            series([[swaks, "--server", "127.0.1.1", "-tls", "--quit-after", "RCPT", "--to",
                     "postmaster@healthy.test", "--tls-ca-path", CA]]))
    print("  ratio: swaks/mxtrace %.2fx" % (s / m))

    print("\n3. Whole domain healthy.test: both MX, STARTTLS, through RCPT")
    m = row("mxtrace healthy.test (DNS + both MX concurrently)",
            series([[MXTRACE, "--allow-loopback", "--ca-file", CA, "healthy.test"]]))
    s = row("swaks, once per MX (127.0.1.1 then 127.0.1.2)",
            series([[swaks, "--server", a, "-tls", "--quit-after", "RCPT", "--to",
                     "postmaster@healthy.test", "--tls-ca-path", CA] for a in ("127.0.1.1", "127.0.1.2")]))
    print("  ratio: swaks/mxtrace %.2fx (swaks does no MX lookup and no certificate report)" % (s / m))

    print("\n4. DNS stage concurrency (every answer delayed by 50 ms)")
    proxy = subprocess.Popen(netns(["/usr/bin/python3", os.path.join(ROOT, "bench", "delayproxy.py"),
                                    "127.0.0.54", "127.0.0.53", "50", "600"]))
    try:
        time.sleep(0.5)
        runs = []
        for _ in range(max(3, N // 2)):
            _, p = timed([MXTRACE, "--allow-loopback", "--json", "--resolver", "127.0.0.54", "--quit-after", "connect",
                          "--ca-file", CA, "equal.test"])
            d = json.loads(p.stdout)
            qs = [d["dns"]["mx_query"]] + [q for x in d["dns"]["exchangers"]
                                           for q in (x["a_query"], x["aaaa_query"])]
            runs.append((d["dns"]["duration_ms"], sum(q["duration_ms"] for q in qs),
                         max(q["duration_ms"] for q in qs), len(qs)))
        stage = statistics.median(r[0] for r in runs)
        total = statistics.median(r[1] for r in runs)
        slowest = statistics.median(r[2] for r in runs)
        print("  %d queries; DNS stage wall time median %.0f ms; sum of query times %.0f ms;"
              " slowest single query %.0f ms" % (runs[0][3], stage, total, slowest))
        print("  the stage has two dependent rounds (MX, then all A/AAAA at once): ideal ~%.0f ms;"
              " sequential would be %.0f ms (ratio sequential/actual %.2fx)"
              % (2 * slowest, total, total / stage))
    finally:
        proxy.terminate()
        proxy.wait()


if __name__ == "__main__":
    main()
