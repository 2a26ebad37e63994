#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The latency lab and benchmarks B1-B4 (issue 9), run by bench/latency.sh.

  latency.py gen DIR RTT_MS      write the lab additions (zone of 1,000
                                 domains, bench Postfix instances, nftables
                                 rule, proxy config, resolv.conf) into DIR
  latency.py run DIR B1 B2 ...   run benchmarks; must run inside the lab
                                 namespace (latency.sh does that)

Loopback only: every address is in 127.0.0.0/8 inside the lab namespace.
Each benchmark prints medians of repeated runs and ratios against the
peers measured in the same run.  Environment knobs (defaults in brackets):
  BENCH_RUNS [10]      runs per tool in B1, B2, B4
  B2_TIMEOUT [3]       connect deadline given to every tool in B2
  B3_TIMEOUT [2]       connect and banner deadline in B3
  B3_BUDGET [90]       seconds per B3 configuration: 10 runs, or fewer (at
                       least 3) when the budget is spent
  B3_PLAN              which configurations run against which server, e.g.
                       [postfix:batch,xargs-mxtrace;sink:batch,xargs-mxtrace,xargs-swaks]:
                       the healthy MX proxies forward to the bench Postfix
                       instances or to bench/smtpsink
  B3_CONCURRENCY [256] mxtrace --concurrency in B3 --batch
  B3_DOMAINS           domains per B3 run (a stratified sample when fewer
                       than all), instead of calibrating against the budget
"""
import json
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NS = os.environ.get("MXT_LAB_NS", "mxtlat")
RUN = os.path.join(ROOT, "tests", "lab", "run", NS)
CA = os.path.join(RUN, "ca", "ca.pem")
MXTRACE = os.environ.get("MXTRACE", os.path.join(ROOT, "build", "src", "cli", "mxtrace"))
SWAKS_MX = os.path.join(ROOT, "bench", "swaks-mx.sh")
ZONE = "bench.test"
N_DOMAINS = 1000
# Bench Postfix instances: the healthy MX hosts are proxies in front of them.
BMX = [("bmx1", "127.0.3.1"), ("bmx2", "127.0.3.2")]
DNS_PROXY = "127.0.0.54"
RESOLVER = "127.0.0.53"
# Address blocks per behaviour (see the nftables rule for "firewalled").
NET = {"healthy": 10, "firewalled": 20, "refused": 30, "tarpit": 40}
# The round trips nothing can avoid for one healthy domain (issue 9, B4):
# MX query, A/AAAA (in parallel), connect, banner, EHLO, STARTTLS,
# TLS 1.3 handshake, EHLO, MAIL+RCPT pipelined.  No wait for QUIT's reply.
FLOOR_RTTS = 9


# ---------------------------------------------------------------- gen

def gen(outdir, rtt_ms):
    """Write the additions for tests/lab/lab.sh (MXT_LAB_EXTRA) and the
    proxy configuration."""
    rng = random.Random(9)
    counters = {k: 0 for k in NET}

    def addr(kind):
        counters[kind] += 1
        i = counters[kind]
        return "127.%d.%d.%d" % (NET[kind], i // 250, i % 250 + 1)

    # Mix of the B3 domains: most healthy (1-3 MX), some refused, some
    # firewalled (primary only or all), a few tarpits.
    mix = [("healthy", 860), ("refused-primary", 30), ("refused-all", 20),
           ("firewalled-primary", 30), ("firewalled-all", 30), ("tarpit", 10),
           ("tarpit-primary", 20)]
    kinds = [k for k, n in mix for _ in range(n)]
    assert len(kinds) == N_DOMAINS
    rng.shuffle(kinds)
    domains = []
    for i, kind in enumerate(kinds, 1):
        if kind == "healthy":
            classes = ["healthy"] * rng.choices([1, 2, 3], [40, 45, 15])[0]
        elif kind.endswith("-primary"):
            classes = [kind.split("-")[0], "healthy"]
        elif kind == "refused-all":
            classes = ["refused"]
        elif kind == "firewalled-all":
            classes = ["firewalled"] * rng.choice([1, 2])
        else:
            classes = ["tarpit"]
        domains.append(("d%04d" % i, kind, classes))
    # B2: primary drops SYNs, secondary healthy.  B4: three healthy MX.
    domains.append(("b2", "b2", ["firewalled", "healthy"]))
    domains.append(("b4", "b4", ["healthy", "healthy", "healthy"]))

    zone = ["$ORIGIN %s." % ZONE, "$TTL 300",
            "@ IN SOA ns.nic.test. hostmaster.nic.test. ( 2026120501 3600 600 86400 60 )",
            "@ IN NS ns.nic.test."]
    for name, addr_ in BMX:
        zone.append("%s IN A %s" % (name, addr_))
    proxy = ["# delayproxy config made by bench/latency.py gen (one-way delay %g ms)"
             % (rtt_ms / 2.0),
             "udp %s:53 %s:53" % (DNS_PROXY, RESOLVER)]
    table = []
    upstream = 0
    for name, kind, classes in domains:
        mxs = []
        for j, cls in enumerate(classes, 1):
            host = "%s-mx%d" % (name, j)
            a = addr(cls)
            zone.append("%s IN MX %d %s" % (name, 10 * j, host))
            zone.append("%s IN A %s" % (host, a))
            if cls == "healthy":
                proxy.append("tcp %s:25 %s:25" % (a, BMX[upstream % len(BMX)][1]))
                upstream += 1
            elif cls == "tarpit":
                proxy.append("tarpit %s:25" % a)
            mxs.append({"host": "%s.%s" % (host, ZONE), "address": a, "class": cls})
        table.append({"domain": "%s.%s" % (name, ZONE), "kind": kind, "mx": mxs})

    os.makedirs(os.path.join(outdir, "postfix"), exist_ok=True)
    with open(os.path.join(outdir, "bench.test.zone"), "w") as f:
        f.write("; generated by bench/latency.py gen\n" + "\n".join(zone) + "\n")
    with open(os.path.join(outdir, "nsd.conf"), "w") as f:
        f.write("\n# bench/latency.py: the latency lab's zone\nzone:\n\tname: \"%s.\"\n"
                "\tzonefile: \"%s\"\n" % (ZONE, os.path.join(outdir, "bench.test.zone")))
    names = " ".join(d["domain"] for d in table)
    with open(os.path.join(outdir, "mtas"), "w") as f:
        for name, a in BMX:
            f.write("%s|%s|ipv4|%s.%s|%s|good|DNS:*.%s,IP:%s\n" % (name, a, name, ZONE, names, ZONE, a))
    for name, _ in BMX:
        with open(os.path.join(outdir, "postfix", name + ".cf"), "w") as f:
            # Hundreds of sessions at once, all from the proxy's address.
            f.write("default_process_limit = 600\n"
                    "smtpd_client_connection_count_limit = 0\n"
                    "smtpd_client_connection_rate_limit = 0\n"
                    "smtpd_client_new_tls_session_rate_limit = 0\n"
                    "smtpd_peername_lookup = no\n")
    with open(os.path.join(outdir, "lab.nft"), "w") as f:
        f.write("# bench/latency.py: the latency lab's firewalled MX hosts drop SYNs.\n"
                "table inet mxtbench {\n\tchain output {\n"
                "\t\ttype filter hook output priority 0; policy accept;\n"
                "\t\tip daddr 127.%d.0.0/16 tcp dport 25 tcp flags & (syn | ack) == syn drop\n"
                "\t}\n}\n" % NET["firewalled"])
    with open(os.path.join(outdir, "proxy.conf"), "w") as f:
        f.write("\n".join(proxy) + "\n")
    with open(os.path.join(outdir, "resolv.conf"), "w") as f:
        f.write("nameserver %s\noptions timeout:2 attempts:2\n" % DNS_PROXY)
    with open(os.path.join(outdir, "domains.json"), "w") as f:
        json.dump(table, f, indent=0)
    with open(os.path.join(outdir, "domains.txt"), "w") as f:
        f.write("".join(d["domain"] + "\n" for d in table if d["kind"] not in ("b2", "b4")))
    with open(os.path.join(outdir, "warm.txt"), "w") as f:
        for d in table:
            f.write("%s MX\n" % d["domain"])
            for m in d["mx"]:
                f.write("%s A\n%s AAAA\n" % (m["host"], m["host"]))
    print("latency lab: %d domains, %d proxied MX, %d tarpits, %d firewalled, %d refused"
          % (len(table), counters["healthy"], counters["tarpit"], counters["firewalled"],
             counters["refused"]))


# ---------------------------------------------------------------- measuring

class Res:
    def __init__(self, wall, rc, out, err, ru):
        self.wall = wall
        self.rc = rc
        self.out = out
        self.err = err
        self.cpu = ru.ru_utime + ru.ru_stime
        self.maxrss_kb = -1


def run1(cmd, env=None, timeout=900, stdin=None):
    """Run cmd, return wall time, status, output, CPU time of the process
    tree and its peak RSS.  The RSS comes from /usr/bin/time: wait4() here
    would report at least this Python process's own RSS, because the child
    is (v)forked from it and exec() folds the old image's high-water mark
    into ru_maxrss."""
    e = dict(os.environ)
    if env:
        e.update(env)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r") as rss:
        cmd = ["/usr/bin/time", "-f", "%M", "-o", rss.name] + list(cmd)
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=e,
                             stdin=stdin if stdin is not None else subprocess.DEVNULL)
        deadline = t0 + timeout
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            if time.perf_counter() > deadline:
                p.kill()
                pid, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.002)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        r = Res(wall, p.returncode, out.read().decode("utf-8", "replace"),
                err.read().decode("utf-8", "replace"), ru)
        words = rss.read().split()
        r.maxrss_kb = int(words[-1]) if words and words[-1].isdigit() else -1
        return r


def series(name, cmd, runs, ok, env=None, check=None):
    """Warm up once, then time `runs` runs.  ok: accepted exit statuses;
    check(res) raises if the output shows the tool did not do the work."""
    w = run1(cmd, env)
    if w.rc not in ok:
        raise SystemExit("%s: exit %d (want %s)\n%s\n%s" % (name, w.rc, ok, w.out[-800:], w.err[-800:]))
    if check:
        check(w)
    rs = []
    for _ in range(runs):
        r = run1(cmd, env)
        if r.rc not in ok:
            raise SystemExit("%s: exit %d\n%s" % (name, r.rc, r.err[-800:]))
        rs.append(r)
    walls = [r.wall * 1000 for r in rs]
    med = statistics.median(walls)
    cpu = statistics.median(r.cpu * 1000 for r in rs)
    rss = max(r.maxrss_kb for r in rs) / 1024.0
    print("  %-44s median %8.1f ms  (min %.1f, max %.1f; CPU %.1f ms, peak RSS %.1f MB; n=%d)"
          % (name, med, min(walls), max(walls), cpu, rss, len(rs)))
    print("      $ %s" % " ".join(cmd))
    sys.stdout.flush()
    return med, rs


def delayed_resolver(on, outdir):
    """Point this process (and its children) at the delaying DNS proxy, or
    back at the lab's resolver.  We run in the private mount namespace that
    ip netns exec made, so the bind mount is ours alone."""
    target = os.path.realpath("/etc/resolv.conf")
    if on:
        subprocess.run(["mount", "--bind", os.path.join(outdir, "resolv.conf"), target], check=True)
    else:
        subprocess.run(["umount", target], check=True)


def ns_cpu_seconds(exclude):
    """utime+stime (with reaped children) of every process in this network
    namespace except `exclude`: the servers' side (Postfix, unbound, nsd,
    the proxy).  Sampled before and after a run."""
    tck = os.sysconf("SC_CLK_TCK")
    mine = os.readlink("/proc/self/ns/net")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in exclude:
            continue
        try:
            if os.readlink("/proc/%s/ns/net" % pid) != mine:
                continue
            with open("/proc/%s/stat" % pid) as f:
                st = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in st[11:15])
    return total / tck


def net_drops():
    """Counters of this namespace that reveal lab artifacts: UDP datagrams
    dropped for lack of buffer, connections dropped at a full listen queue."""
    out = {}
    for path, prefix, keys in (("/proc/net/snmp", "Udp:", ("RcvbufErrors", "SndbufErrors")),
                               ("/proc/net/netstat", "TcpExt:", ("ListenOverflows", "ListenDrops"))):
        with open(path) as f:
            rows = [line.split() for line in f if line.startswith(prefix)]
        names, values = rows[0], rows[1]
        for k in keys:
            if k in names:
                out[k] = int(values[names.index(k)])
    return out


def proc_cpu_seconds(pid):
    tck = os.sysconf("SC_CLK_TCK")
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(st[11]) + int(st[12])) / tck


def header(title):
    print("\n" + title)
    sys.stdout.flush()


def machine():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = 0
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) // 1024
    rev = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                         capture_output=True, text=True).stdout.strip()
    pf = subprocess.run(["postconf", "-dh", "mail_version"], capture_output=True, text=True).stdout.strip()
    sw = subprocess.run(["swaks", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    print("machine: %s, %d CPUs (%s), %d MB RAM; load average %s"
          % (platform.platform(), os.cpu_count(), model, mem,
             " ".join(open("/proc/loadavg").read().split()[:3])))
    print("date: %s UTC; mxtrace %s (%s); Postfix %s (posttls-finger); %s"
          % (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), rev, MXTRACE, pf, sw))


# ---------------------------------------------------------------- B1-B4

def mx(*args):
    return [MXTRACE, "--allow-loopback"] + list(args)


def b1(outdir, runs):
    header("B1  one healthy domain (healthy.test: 2 MX), default trust store, zero latency")
    pf_env = {"MAIL_CONFIG": os.path.join(RUN, "client")}

    def chk_mx(r):
        d = json.loads(r.out)
        n = sum(1 for a in d["attempts"] if not a.get("canary"))
        if n != 2:
            raise SystemExit("B1: mxtrace probed %d MX, want 2" % n)

    def chk_pf(r):
        if "TLS connection established" not in r.out + r.err:
            raise SystemExit("B1: posttls-finger did no TLS:\n" + r.out[-600:])

    m, mr = series("mxtrace healthy.test (both MX, to RCPT)",
                   mx("--json", "healthy.test"), runs, (0, 1, 2), check=chk_mx)
    c, cr = series("  same with --ca-file (lab CA only)",
                   mx("--json", "--ca-file", CA, "healthy.test"), runs, (0, 1, 2), check=chk_mx)
    p, pr = series("posttls-finger healthy.test (first MX)",
                  ["posttls-finger", "-c", "-l", "secure", "-P", "/etc/ssl/certs", "healthy.test"],
                  runs, (0, 1), env=pf_env, check=chk_pf)
    s, sr = series("swaks-mx.sh all healthy.test (dig+2 swaks)",
                   ["sh", SWAKS_MX, "all", "healthy.test", "30"], runs, (0,))
    print("  ratio (wall): posttls-finger/mxtrace %.2fx (goal > 1), swaks/mxtrace %.2fx (goal >= 10)"
          % (p / m, s / m))

    def cpu(rs):
        return statistics.median(r.cpu for r in rs)
    print("  ratio (CPU, less sensitive to other load): posttls-finger/mxtrace %.2fx, swaks/mxtrace"
          " %.2fx; the default trust store costs mxtrace %.1f ms wall, %.1f ms CPU"
          % (cpu(pr) / cpu(mr), cpu(sr) / cpu(mr), m - c, (cpu(mr) - cpu(cr)) * 1000))


def b2(outdir, runs, rtt):
    t = float(os.environ.get("B2_TIMEOUT", "3"))
    header("B2  b2.bench.test: MX 10 drops SYNs, MX 20 healthy; RTT %d ms; connect deadline %g s"
           " for every tool" % (rtt, t))
    delayed_resolver(True, outdir)
    try:
        def chk_mx(r):
            d = json.loads(r.out)
            st = sorted((a["address"], a["connect"]["status"]) for a in d["attempts"])
            if [s for _, s in st] != ["connected", "timeout"]:
                raise SystemExit("B2: unexpected attempts %s" % st)

        def chk_pf(r):
            if "TLS connection established" not in r.out + r.err:
                raise SystemExit("B2: posttls-finger did not reach the secondary:\n" + r.out[-600:])

        m, rs = series("mxtrace b2.bench.test", mx("--json", "--timeout-connect", "%g" % t,
                       "--ca-file", CA, "b2.bench.test"), runs, (0, 1, 2, 3), check=chk_mx)
        p, _ = series("posttls-finger b2.bench.test",
                      ["posttls-finger", "-c", "-t", "%g" % t, "-l", "may", "b2.bench.test"], runs, (0, 1),
                      env={"MAIL_CONFIG": os.path.join(RUN, "client")}, check=chk_pf)
        s, _ = series("swaks-mx.sh walk b2.bench.test", ["sh", SWAKS_MX, "walk", "b2.bench.test",
                      "%g" % t], runs, (0,))
        verdict = json.loads(rs[-1].out)["verdict"]["status"]
        print("  mxtrace verdict '%s' after %.0f ms = %.2fx the connect deadline (goal <= 1.10x)"
              % (verdict, m, m / (t * 1000)))
        print("  ratio: posttls-finger/mxtrace %.2fx, swaks/mxtrace %.2fx" % (p / m, s / m))
    finally:
        delayed_resolver(False, outdir)


def b4(outdir, runs, rtt):
    header("B4  b4.bench.test: 3 healthy MX, RTT %d ms, STARTTLS, to RCPT" % rtt)
    delayed_resolver(True, outdir)
    try:
        m, rs = series("mxtrace b4.bench.test", mx("--json", "--ca-file", CA, "b4.bench.test"),
                       runs, (0, 1))
        floor = FLOOR_RTTS * rtt
        print("  floor = %d round trips x %d ms = %d ms; mxtrace median %.0f ms = %.2fx the floor"
              " (goal <= 1.20x), i.e. %.1f round trips"
              % (FLOOR_RTTS, rtt, floor, m, m / floor, m / rtt))
        explain(json.loads(sorted(rs, key=lambda r: r.wall)[len(rs) // 2].out), rtt)
    finally:
        delayed_resolver(False, outdir)


def explain(d, rtt):
    """Where one run's time went, from mxtrace's own JSON: the DNS stage,
    the client identity lookups, then each attempt's steps (start+duration
    in ms from the attempt's start), in round trips of the emulated RTT."""
    dns = d.get("dns", {})
    cl = d.get("client", {}) or {}
    atts = [a for a in d.get("attempts", []) if not a.get("canary")]
    longest = max((a.get("duration_ms", 0) for a in atts), default=0)
    mxq = (dns.get("mx_query") or {}).get("duration_ms")
    aq = max(((x.get("a_query") or {}).get("duration_ms", 0) for x in dns.get("exchangers", [])), default=0)
    ptr = (cl.get("ptr_query") or {}).get("duration_ms")
    total = d.get("duration_ms", 0)
    print("  where the time goes (median run): total %s ms = %.1f RTT" % (total, total / float(rtt)))
    print("    DNS stage %s ms (MX %s, slowest A/AAAA %s); client PTR %s ms; longest attempt %s ms;"
          " rest (identity confirmation, start-up, scheduling) %s ms"
          % (dns.get("duration_ms"), mxq, aq, ptr, longest,
             total - (dns.get("duration_ms") or 0) - longest))
    for a in atts:
        parts = ["%s %d+%d" % (s.get("stage"), s.get("started_ms", 0), s.get("duration_ms", 0))
                 for s in a.get("steps", [])]
        tls = (a.get("tls") or {}).get("duration_ms")
        print("    %s: connect %s, %s; TLS handshake %s ms; attempt %s ms"
              % (a.get("address"), (a.get("connect") or {}).get("duration_ms"), ", ".join(parts), tls,
                 a.get("duration_ms")))


def b3(outdir, rtt):
    t = os.environ.get("B3_TIMEOUT", "2")
    budget = float(os.environ.get("B3_BUDGET", "90"))
    conc = os.environ.get("B3_CONCURRENCY", "256")
    # What runs against which server: swaks is bound by its own CPU (Perl
    # start-up per exchanger), so it runs once, against the cheap server.
    plan = [(p.split(":")[0], p.split(":")[1].split(",")) for p in os.environ.get(
        "B3_PLAN", "postfix:batch,xargs-mxtrace;sink:batch,xargs-mxtrace,xargs-swaks").split(";")]
    with open(os.path.join(outdir, "domains.txt")) as f:
        alld = f.read().split()
    header("B3  %d lab domains, RTT %d ms; connect and banner deadline %s s for every tool;"
           " budget %g s per configuration" % (len(alld), rtt, t, budget))
    kinds = {}
    for d in json.load(open(os.path.join(outdir, "domains.json"))):
        kinds[d["kind"]] = kinds.get(d["kind"], 0) + 1
    print("  mix: " + ", ".join("%s %d" % kv for kv in sorted(kinds.items())))
    proxy_pid = int(open(os.path.join(outdir, "proxy.pid")).read())
    # Warm the resolver's cache (no delay): every name the runs will ask.
    subprocess.run(["dig", "@" + RESOLVER, "+tries=1", "+time=2", "-f",
                    os.path.join(outdir, "warm.txt")], stdout=subprocess.DEVNULL)
    servers = [server for server, _ in plan]
    delayed_resolver(True, outdir)
    results = {}
    on_sink = False
    try:
        for server, configs in plan:
            if server not in ("postfix", "sink"):
                raise SystemExit("B3_PLAN: unknown server " + server)
            if (server == "sink") != on_sink:
                os.kill(proxy_pid, signal.SIGUSR1)  # the proxy's alternate upstream
                on_sink = not on_sink
            print("  -- healthy MX served by %s" % (
                "bench/smtpsink (one process, epoll)" if on_sink
                else "the bench Postfix instances bmx1/bmx2 (a process per session)"))
            for cfg in configs:
                name, cmd = b3_command(cfg, t, conc)
                results[(server, cfg)] = b3_config("%s [%s]" % (name, server), cmd, alld, budget,
                                                   proxy_pid, outdir, cfg)
    finally:
        if on_sink:
            os.kill(proxy_pid, signal.SIGUSR1)
        delayed_resolver(False, outdir)
    print("  summary (targets/s; peak RSS; client CPU s/target; server-side CPU s/target):")
    for r in results.values():
        print("    %-48s %7.1f /s  %6.1f MB  %.4f  %.4f" % (r["name"], r["rate"], r["rss"], r["cpu"], r["srv"]))
    for server in servers:
        b = results.get((server, "batch"))
        if b is None:
            continue
        print("  goals [%s]: >= 200 targets/s: %.1f (%.2fx); peak RSS < 64 MB: %.1f MB"
              % (server, b["rate"], b["rate"] / 200, b["rss"]))
        for other in ("xargs-swaks", "xargs-mxtrace"):
            o = results.get((server, other))
            if o is not None:
                print("  ratio [%s]: mxtrace --batch vs %s: %.1fx%s" % (
                    server, o["name"], b["rate"] / o["rate"], " (goal >= 20x)" if other == "xargs-swaks" else ""))


def b3_command(cfg, t, conc):
    """Name and command line (a function of the domain list file) of one
    B3 configuration."""
    if cfg == "batch":
        return "mxtrace --batch --concurrency %s" % conc, lambda lst: mx(
            "--json", "-q", "--ca-file", CA, "--timeout-connect", t, "--timeout-banner", t,
            "--concurrency", conc, "--batch", lst)
    if cfg == "xargs-mxtrace":
        return "xargs -P 32 mxtrace (one per domain)", lambda lst: [
            "sh", "-c", 'exec xargs -P 32 -n 1 "$@" < "$0"', lst] + mx(
            "--format", "nagios", "-q", "--ca-file", CA, "--timeout-connect", t, "--timeout-banner", t)
    if cfg == "xargs-swaks":
        return "xargs -P 32 swaks-mx.sh all (every MX)", lambda lst: [
            "sh", "-c", 'exec xargs -P 32 -I@ sh "$1" all @ "$2" < "$0"', lst, SWAKS_MX, t]
    raise SystemExit("unknown B3 configuration " + cfg)


def b3_config(name, cmd, alld, budget, proxy_pid, outdir, tag):
    """Time one B3 configuration: pick how many domains fit the budget
    (a stratified sample when the tool is slow), then repeat up to 10 runs
    or until the budget is spent."""
    def listfile(doms):
        p = os.path.join(outdir, "b3-%s-%d.txt" % (tag, len(doms)))
        with open(p, "w") as f:
            f.write("".join(x + "\n" for x in doms))
        return p

    def sample(n):
        step = len(alld) / float(n)
        return [alld[int(i * step)] for i in range(n)]

    me = {os.getpid()}
    runs = []

    def timed(lst, n):
        s0, p0, d0 = ns_cpu_seconds(me), proc_cpu_seconds(proxy_pid), net_drops()
        r = run1(cmd(lst))
        s1, p1, d1 = ns_cpu_seconds(me), proc_cpu_seconds(proxy_pid), net_drops()
        if r.rc not in (0, 1, 2, 3, 123):
            raise SystemExit("%s: exit %d\n%s" % (name, r.rc, r.err[-800:]))
        # Every domain must have been worked on: one JSON record each
        # (--batch), one status line each (xargs: a JSON document of 32
        # processes at once would interleave, a line does not; Nagios long
        # output adds a line per finding after the "MXTRACE STATE - " line).
        if tag == "batch":
            got = records(r.out)
        elif "mxtrace" in tag:
            got = sum(1 for x in r.out.splitlines() if x.startswith("MXTRACE "))
        else:
            got = len(r.out.splitlines())
        if got != n:
            raise SystemExit("%s: %d results for %d domains\n%s" % (name, got, n, r.err[-800:]))
        drops = ", ".join("%s %d" % (k, d1[k] - d0[k]) for k in d1 if d1[k] != d0.get(k))
        if drops:
            print("    (lab artifact warning: %s)" % drops)
        return r, s1 - s0, p1 - p0

    def show(n, x):
        r, srv, prx = x
        print("    run %d: %.2f s, %.1f targets/s, client CPU %.1f s, server side CPU %.1f s"
              " (proxy %.1f s), peak RSS %.1f MB, exit %d, load %s"
              % (len(runs), r.wall, n / r.wall, r.cpu, srv, prx, r.maxrss_kb / 1024.0, r.rc,
                 open("/proc/loadavg").read().split()[0]))
        sys.stdout.flush()

    # Calibration: a run should take about a quarter of the budget, so that
    # several runs fit.  Time a 50-domain sample; when that is quick, also a
    # 200-domain one, and extrapolate linearly (a concurrent tool has a
    # fixed floor, the slowest deadline, and a small cost per domain).
    quarter = budget / 4
    forced = int(os.environ.get("B3_DOMAINS", "0") or 0)
    lists = {50: listfile(sample(50))}
    cal = {} if forced > 0 else {50: timed(lists[50], 50)}
    note = "B3_DOMAINS=%d" % forced if forced > 0 else "50 in %.1f s" % cal[50][0].wall
    if forced > 0:
        n = forced
    elif cal[50][0].wall >= 5:
        n = int(50 * quarter / cal[50][0].wall)
    else:
        lists[200] = listfile(sample(200))
        cal[200] = timed(lists[200], 200)
        note += ", 200 in %.1f s" % cal[200][0].wall
        slope = (cal[200][0].wall - cal[50][0].wall) / 150.0
        base = cal[50][0].wall - 50 * slope
        n = len(alld) if slope <= 0 else int((quarter - base) / slope)
    n = max(50, min(len(alld), n))
    if n in lists:
        lst = lists[n]
    else:
        lst = listfile(alld if n == len(alld) else sample(n))
    print("  %s: %d domains%s (calibration: %s)"
          % (name, n, "" if n == len(alld) else " (stratified sample: the full set does not fit"
             " the budget)", note))
    print("      $ %s" % " ".join(cmd(lst)))
    # A run whose records mostly say dns.servfail did no work: after a
    # burst the lab's unbound can answer SERVFAIL for the bench zone for a
    # while (it backs off from its upstream).  Such runs are shown and
    # left out of the figures.
    excluded = []

    def keep(x):
        if tag != "batch":
            return True
        share = servfail_share(x[0].out)
        if share <= 0.05:
            return True
        print("      (lab artifact: %.0f%% of the records say dns.servfail: run left out)"
              % (100 * share))
        excluded.append(x)
        return False

    if n in cal:
        runs.append(cal[n])
        show(n, cal[n])
        if not keep(cal[n]):
            runs.pop()
    spent = sum(x[0].wall for x in runs)
    attempts = len(runs)
    while len(runs) < 10 and (spent < budget or len(runs) < 3) and attempts < 20:
        x = timed(lst, n)
        attempts += 1
        spent += x[0].wall
        runs.append(x)
        show(n, x)
        if not keep(x):
            runs.pop()
    if not runs:
        print("    no run without the lab's SERVFAIL: the figures below are not valid")
        runs = excluded
    if tag == "batch":
        print("    verdicts (last run): %s" % verdicts(runs[-1][0].out))
    wall = statistics.median(x[0].wall for x in runs)
    res = {"name": name, "rate": n / wall, "rss": max(x[0].maxrss_kb for x in runs) / 1024.0,
           "cpu": statistics.median(x[0].cpu for x in runs) / n,
           "srv": statistics.median(x[1] for x in runs) / n,
           "proxy": statistics.median(x[2] for x in runs) / n}
    print("    median of %d runs: %.2f s = %.1f targets/s; peak RSS %.1f MB%s; client CPU %.4f s/target;"
          " server side %.4f s/target (of which proxy %.4f)"
          % (len(runs), wall, res["rate"], res["rss"],
             " (largest single process)" if tag != "batch" else "", res["cpu"], res["srv"], res["proxy"]))
    return res


def json_docs(out):
    """The JSON records in out (pretty or one per line, a list counting as
    its items), then None once if the rest does not parse."""
    dec = json.JSONDecoder()
    i = 0
    while True:
        while i < len(out) and out[i].isspace():
            i += 1
        if i >= len(out):
            return
        try:
            d, i = dec.raw_decode(out, i)
        except ValueError:
            yield None
            return
        for x in d if isinstance(d, list) else [d]:
            yield x


def has_code(x, code):
    return isinstance(x, dict) and any(f.get("code") == code for f in x.get("findings") or [])


def records(out):
    """How many JSON records out holds (-1 when part of it does not parse)."""
    docs = list(json_docs(out))
    return -1 if None in docs else len(docs)


def servfail_share(out):
    """Share of the JSON records of a --batch output with dns.servfail."""
    docs = [x for x in json_docs(out) if x is not None]
    return sum(1 for x in docs if has_code(x, "dns.servfail")) / float(len(docs)) if docs else 0.0


def verdicts(out):
    counts, why = {}, {}
    for x in json_docs(out):
        if x is None:
            counts["unparsed"] = counts.get("unparsed", 0) + 1
            break
        v = x.get("verdict", {}).get("status", "?") if isinstance(x, dict) else "?"
        counts[v] = counts.get(v, 0) + 1
        # A lost DNS answer shows as a timeout finding.
        if has_code(x, "dns.timeout"):
            counts["with dns.timeout"] = counts.get("with dns.timeout", 0) + 1
        # What made a verdict unknown: the codes of its findings.
        if v == "unknown" and isinstance(x, dict):
            for code in sorted({f.get("code", "?") for f in x.get("findings") or []}):
                why[code] = why.get(code, 0) + 1
    text = ", ".join("%s %d" % kv for kv in sorted(counts.items()))
    if why:
        top = sorted(why.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
        text += "; unknown records' codes: " + ", ".join("%s %d" % kv for kv in top)
    return text


def run(outdir, which):
    rtt = int(open(os.path.join(outdir, "rtt")).read())
    runs = int(os.environ.get("BENCH_RUNS", "10"))
    machine()
    print("lab namespace %s; emulated RTT %d ms (delayproxy: %g ms each way, DNS included)"
          % (NS, rtt, rtt / 2.0))
    for b in which:
        if b == "B1":
            b1(outdir, runs)
        elif b == "B2":
            b2(outdir, runs, rtt)
        elif b == "B3":
            b3(outdir, rtt)
        elif b == "B4":
            b4(outdir, runs, rtt)
        else:
            raise SystemExit("unknown benchmark " + b)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]))
        with open(os.path.join(sys.argv[2], "rtt"), "w") as f:
            f.write(sys.argv[3] + "\n")
    elif len(sys.argv) >= 3 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3:] or ["B1", "B2", "B3", "B4"])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
