#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""`meson install --destdir` into a temporary directory: the exact list of
installed files, the paths filled into the man page and the templates, and
the installed examples checked by the tools that read them (promtool for
the Prometheus files, systemd-analyze for the unit, groff for the man page,
bash and zsh for the completions).  TAP.

Usage: install_check.py BUILD_DIR SOURCE_DIR
"""
import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BUILD, SRC = sys.argv[1], sys.argv[2]
n = failed = 0


def point(ok, name, detail=""):
    global n, failed
    n += 1
    failed += not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    if not ok and detail:
        for line in str(detail).splitlines()[:40]:
            print("# " + line)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


opts = {o["name"]: o["value"] for o in json.loads(
    run(["meson", "introspect", "--buildoptions", BUILD], check=True).stdout)}
prefix = opts["prefix"]


def path(option, *rest):
    return os.path.join(prefix, opts[option], *rest) if option else os.path.join(prefix, *rest)


docdir = path("datadir", "doc", "mxtrace")
sysconfdir = path("sysconfdir")
bindir = path("bindir")
expected = sorted([
    path("bindir", "mxtrace"),
    path("mandir", "man1", "mxtrace.1"),
    os.path.join(docdir, "mxtrace.schema.json"),
    os.path.join(docdir, "diagnoses.md"),
    os.path.join(docdir, "metrics.md"),
    os.path.join(docdir, "examples", "exporter.conf"),
    os.path.join(docdir, "examples", "prometheus.yml"),
    os.path.join(docdir, "examples", "mxtrace-rules.yml"),
    os.path.join(docdir, "examples", "icinga2-mxtrace.conf"),
    path("datadir", "bash-completion", "completions", "mxtrace"),
    path("datadir", "zsh", "site-functions", "_mxtrace"),
    path(None, "lib", "systemd", "system", "mxtrace-exporter.service"),
])

dest = tempfile.mkdtemp(prefix="mxt-install-")
try:
    p = run(["meson", "install", "-C", BUILD, "--no-rebuild", "--destdir", dest])
    point(p.returncode == 0, "meson install --destdir", p.stdout[-2000:] + p.stderr[-2000:])
    got = sorted("/" + os.path.relpath(os.path.join(d, f), dest)
                 for d, _, files in os.walk(dest) for f in files)
    point(got == expected, "installed files: %s" % ", ".join(got),
          "missing: %s\nextra: %s" % (sorted(set(expected) - set(got)),
                                      sorted(set(got) - set(expected))))

    def read(p):
        with open(dest + p) as f:
            return f.read()

    def inst(p):
        return dest + p

    # No template placeholder is left anywhere.
    left = [f for f in got if f != path("bindir", "mxtrace") and re.search(r"@[A-Z]+@", read(f))]
    point(not left, "every @PLACEHOLDER@ filled in", left)

    man = read(path("mandir", "man1", "mxtrace.1"))
    schema = os.path.join(docdir, "mxtrace.schema.json")
    point(schema in man and schema in got, "the man page names the installed schema " + schema)
    point(os.path.join(docdir, "metrics.md") in man and os.path.join(docdir, "diagnoses.md") in man,
          "the man page names the installed metrics.md and diagnoses.md")
    g = run(["groff", "-man", "-Tutf8", "-ww", inst(path("mandir", "man1", "mxtrace.1"))])
    point(g.returncode == 0 and not g.stderr, "the installed man page renders", g.stderr)
    for name in ("mxtrace.schema.json", "diagnoses.md", "metrics.md"):
        point(filecmp.cmp(os.path.join(SRC, "docs", name), inst(os.path.join(docdir, name)),
                          shallow=False), "%s installed as it is in docs/" % name)
    with open(inst(schema)) as f:
        point(json.load(f).get("$schema", "").startswith("http"), "the schema is JSON")
    v = run([inst(path("bindir", "mxtrace")), "--version"])
    point(v.returncode == 0 and v.stdout.startswith("mxtrace "), "the installed binary runs",
          v.stderr)

    # Prometheus examples, as promtool reads them.
    for cmd, f in (("config", "prometheus.yml"), ("rules", "mxtrace-rules.yml")):
        c = run(["promtool", "check", cmd, inst(os.path.join(docdir, "examples", f))])
        point(c.returncode == 0, "promtool check %s %s" % (cmd, f), c.stdout + c.stderr)
    prom = read(os.path.join(docdir, "examples", "prometheus.yml"))
    point("metrics_path: /probe" in prom and "target_label: __param_target" in prom and
          "replacement: 127.0.0.1:9125" in prom, "scrape config relabels targets to /probe")

    # The systemd unit: paths, hardening, and systemd's own checks (with
    # ExecStart pointing at the installed binary under the destdir).
    unit_path = path(None, "lib", "systemd", "system", "mxtrace-exporter.service")
    unit = read(unit_path)
    point("ExecStart=%s --listen 127.0.0.1:9125 --config %s" % (
        os.path.join(bindir, "mxtrace"), os.path.join(sysconfdir, "mxtrace", "exporter.conf"))
          in unit, "unit: ExecStart with the installed binary and config", unit)
    for directive in ("DynamicUser=yes", "ProtectSystem=strict", "ProtectHome=yes",
                      "NoNewPrivileges=yes", "PrivateDevices=yes", "CapabilityBoundingSet=\n",
                      "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                      "SystemCallFilter=@system-service"):
        point(directive in unit, "unit: " + directive.strip())
    tmpunit = os.path.join(dest, "mxtrace-exporter.service")
    with open(tmpunit, "w") as f:
        f.write(unit.replace("ExecStart=" + os.path.join(bindir, "mxtrace"),
                             "ExecStart=" + inst(os.path.join(bindir, "mxtrace"))))
    c = run(["systemd-analyze", "verify", "--man=no", tmpunit])
    point(c.returncode == 0 and not c.stderr.strip(), "systemd-analyze verify", c.stderr)
    c = run(["systemd-analyze", "security", "--offline=yes", tmpunit])
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", c.stdout + c.stderr)
    point(m is not None and float(m.group(1)) <= 2.0,
          "systemd-analyze security: exposure %s (at most 2.0)" % (m.group(1) if m else "?"),
          c.stdout[-1500:] + c.stderr[-500:])

    icinga = read(os.path.join(docdir, "examples", "icinga2-mxtrace.conf"))
    point('object CheckCommand "mxtrace"' in icinga and
          '"%s", "--format", "nagios"' % os.path.join(bindir, "mxtrace") in icinga,
          "Icinga 2 CheckCommand runs the installed binary in Nagios mode")
    point(icinga.count("{") == icinga.count("}"), "Icinga 2 CheckCommand braces balance")

    point(filecmp.cmp(os.path.join(SRC, "contrib", "completions", "mxtrace.bash"),
                      inst(path("datadir", "bash-completion", "completions", "mxtrace")),
                      shallow=False) and
          filecmp.cmp(os.path.join(SRC, "contrib", "completions", "_mxtrace"),
                      inst(path("datadir", "zsh", "site-functions", "_mxtrace")), shallow=False),
          "completions installed under the names bash-completion and zsh look up")
finally:
    shutil.rmtree(dest, True)

print("1..%d" % n)
sys.exit(1 if failed else 0)
