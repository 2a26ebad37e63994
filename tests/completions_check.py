#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The shell completions (contrib/completions/) against the option table:
every option, which ones take an argument, and the keyword values, as
tests/opt_dump prints them from src/cli/options.c.  Also runs the bash
completion function on each keyword option and checks zsh's syntax.  TAP.

Usage: completions_check.py SOURCE_DIR PATH/TO/opt_dump
"""
import os
import re
import subprocess
import sys

SRC, DUMP = sys.argv[1], sys.argv[2]
BASH = os.path.join(SRC, "contrib", "completions", "mxtrace.bash")
ZSH = os.path.join(SRC, "contrib", "completions", "_mxtrace")
OPT = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][A-Za-z0-9-]*)([=+]?)")

n = failed = 0


def point(ok, name, detail=""):
    global n, failed
    n += 1
    failed += not ok
    print("%s %d - %s" % ("ok" if ok else "not ok", n, name))
    if not ok and detail:
        for line in str(detail).splitlines():
            print("# " + line)


def diff(want, got):
    return "missing: %s\nextra: %s" % (sorted(set(want) - set(got)), sorted(set(got) - set(want)))


# The table.
rows = []
for line in subprocess.run([DUMP], check=True, capture_output=True, text=True).stdout.splitlines():
    letter, name, arg, values = line.split("\t")
    rows.append({"forms": [f for f in (letter, name) if f != "-"],
                 "arg": arg != "-", "values": [] if values == "-" else values.split(",")})
every = {f for r in rows for f in r["forms"]}
with_arg = {f for r in rows if r["arg"] for f in r["forms"]}
keyword = {f: r["values"] for r in rows if r["values"] for f in r["forms"] if f.startswith("--")}
point(len(every) >= 40 and len(keyword) >= 5, "the table has %d option forms, %d with keywords"
      % (len(every), len(keyword)))

# bash: the word lists of _mxtrace.
bash = open(BASH).read()


def words(var):
    m = re.search(r"local %s='([^']*)'" % var, bash)
    return m.group(1).split() if m else []


point(set(words("opts")) == every, "bash: opts lists every option",
      diff(every, words("opts")))
values = dict(re.findall(r"\[(--[a-z-]+)\]='([^']*)'", bash))
bash_args = set(words("file_args") + words("host_args") + words("text_args")) | set(values)
point(bash_args == with_arg, "bash: the options that take an argument", diff(with_arg, bash_args))
point({k: v.split() for k, v in values.items()} == keyword, "bash: keyword values",
      "%r\n%r" % ({k: v.split() for k, v in values.items()}, keyword))
for opt, vals in sorted(keyword.items()):
    script = ('source "$1"; COMP_WORDS=(mxtrace %s ""); COMP_CWORD=2; _mxtrace; '
              'printf "%%s\\n" "${COMPREPLY[@]}"' % opt)
    p = subprocess.run(["bash", "-c", script, "bash", BASH], capture_output=True, text=True)
    got = p.stdout.split()
    point(p.returncode == 0 and got == vals, "bash completes %s with %s" % (opt, " ".join(vals)),
          "%r %s" % (got, p.stderr))
p = subprocess.run(["bash", "-c", 'source "$1"; COMP_WORDS=(mxtrace --cert-c); COMP_CWORD=1; '
                    '_mxtrace; printf "%s\\n" "${COMPREPLY[@]}"', "bash", BASH],
                   capture_output=True, text=True)
point(p.stdout.split() == ["--cert-crit-days"], "bash completes an option name", p.stdout)

# zsh: one _arguments spec per line.
zsh_forms, zsh_args, zsh_values = set(), set(), {}
for line in open(ZSH):
    line = line.strip()
    if not line.startswith(("'", "{")) or line.startswith("'::"):
        continue
    spec = re.sub(r"^'?\([^)]*\)'?", "", line)  # exclusion group
    spec = re.sub(r"\[[^\]]*\]", "", spec)  # descriptions
    head, _, action = spec.partition(":")
    found = OPT.findall(head)
    for form, sep in found:
        zsh_forms.add(form)
        if sep or action:
            zsh_args.add(form)
    m = re.search(r":\(([^)]*)\)", action)
    if m:
        for form, _ in found:
            if form.startswith("--"):
                zsh_values[form] = m.group(1).split()
point(zsh_forms == every, "zsh: a spec for every option", diff(every, zsh_forms))
point(zsh_args == with_arg, "zsh: the options that take an argument", diff(with_arg, zsh_args))
point(zsh_values == keyword, "zsh: keyword values", "%r\n%r" % (zsh_values, keyword))
p = subprocess.run(["zsh", "-n", ZSH], capture_output=True, text=True)
point(p.returncode == 0, "zsh -n accepts _mxtrace", p.stderr)
p = subprocess.run(["bash", "-n", BASH], capture_output=True, text=True)
point(p.returncode == 0, "bash -n accepts mxtrace.bash", p.stderr)

print("1..%d" % n)
sys.exit(1 if failed else 0)
