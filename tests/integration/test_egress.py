#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The egress reference check (--egress-check) and the batch's once-said
port-25 block, in the lab (issue 9, item 5).

The lab's nftables rules (tests/lab/nft/lab.nft) drop SYNs to every SMTP
port of fw.firewalled.test (127.0.1.21), and SYNs to port 25 anywhere from
127.0.5.1 (a client behind an ISP that blocks outbound port 25).  The
references are lab exchangers on loopback, given by address or by name: the
built-in list (large providers' exchangers) is never used here, and these
tests check the records say so.

Usage: test_egress.py [TEST_NAME ...]   (the lab must be up: tests/lab/lab.sh up)
"""
import json
import subprocess

from harness import MXTRACE, NS, assert_eq, assert_in, codes, main, run, test

T = ["--timeout-connect", "1"]


def refs(d):
    return [(r["host"], r["port"], r["connect"]) for r in d["egress_references"]]


def finding(d, code):
    return [f for f in d["findings"] if f["code"] == code][0]


@test
def reference_connects_so_the_destination_drops():
    """firewalled.test drops 25/587/465; the reference 127.0.1.1 (a lab
    Postfix) connects on port 25: the way out is open, the destination's
    firewall is to blame (connect.egress_open), never egress_blocked."""
    r = run(*T, "--egress-check", "127.0.1.1", "firewalled.test")
    d = r.json
    assert_eq(d["request"]["egress_check"],
              {"mode": "list", "hosts": [{"host": "127.0.1.1", "port": 25}]}, "request")
    assert_eq(refs(d), [("127.0.1.1", 25, "connected")], "reference")
    assert_eq(d["egress_references"][0]["builtin"], False, "from the list given")
    assert_in("connect.egress_open", codes(d), "finding")
    assert "connect.egress_blocked" not in codes(d), codes(d)
    assert "127.0.1.1" in finding(d, "connect.egress_open")["evidence"]
    assert_in("connect.timeout", codes(d), "the per-address timeout stands")
    assert_eq((d["verdict"]["status"], r.rc), ("critical", 2), "the destination is judged")
    assert "firewall at the destination" in d["verdict"]["summary"], d["verdict"]["summary"]


@test
def references_time_out_so_the_way_out_is_blocked():
    """Every port of firewalled.test times out, and so does every reference
    (an address and a name that resolves to the same filtered host): port 25
    is blocked on the way out as far as mxtrace can tell, verdict unknown."""
    r = run(*T, "--egress-check", "127.0.1.21", "--egress-check", "fw.firewalled.test",
            "firewalled.test")
    d = r.json
    assert_eq(refs(d), [("127.0.1.21", 25, "timeout"), ("fw.firewalled.test", 25, "timeout")],
              "references")
    assert_eq(d["egress_references"][1]["address"], "127.0.1.21", "the name was looked up")
    assert_in("connect.egress_blocked", codes(d), "finding")
    ev = finding(d, "connect.egress_blocked")["evidence"]
    assert "also timed out" in ev and "fw.firewalled.test" in ev, ev
    assert "connect.timeout" not in codes(d), "no per-address timeout flood"
    assert_eq((d["verdict"]["status"], r.rc), ("unknown", 3), "the target is not judged")


@test
def references_back_the_canaries():
    """From 127.0.5.1 (port 25 dropped): the canaries already show the block
    on healthy.test, and the reference (by name) times out too: it is named
    in the evidence.  On halfwall.test, whose primary drops every port, the
    canaries alone cannot tell; the timed-out reference can."""
    d = run(*T, "--source", "127.0.5.1", "--egress-check", "mx2.healthy.test",
            "healthy.test").json
    assert_eq(refs(d), [("mx2.healthy.test", 25, "timeout")], "reference")
    ev = finding(d, "connect.egress_blocked")["evidence"]
    assert "mx2.healthy.test (127.0.1.2) also timed out" in ev, ev
    d = run(*T, "--source", "127.0.5.1", "--egress-check", "127.0.1.1", "halfwall.test").json
    assert_eq(refs(d), [("127.0.1.1", 25, "timeout")], "reference")
    assert_in("connect.egress_blocked", codes(d), "the references decide")


@test
def a_connecting_reference_overrides_the_canaries():
    """From 127.0.5.1 the canaries say port 25 is blocked; a reference on a
    port that is not blocked (127.0.1.40:587, connected) says the way out is
    open: the references win, no connect.egress_blocked."""
    d = run(*T, "--source", "127.0.5.1", "--egress-check", "127.0.1.40:587",
            "healthy.test").json
    assert_eq(refs(d), [("127.0.1.40", 587, "connected")], "reference")
    assert_in("connect.egress_open", codes(d), "finding")
    assert "connect.egress_blocked" not in codes(d), codes(d)


@test
def egress_check_none():
    """--egress-check none: no reference is tried, even with a list."""
    d = run(*T, "--egress-check", "127.0.1.1", "--egress-check", "none",
            "firewalled.test").json
    assert_eq(d["request"]["egress_check"]["mode"], "none", "request")
    assert_eq(d["egress_references"], [], "no reference")
    assert "connect.egress_open" not in codes(d), codes(d)


@test
def no_check_when_port_25_answers():
    """A target whose port 25 connects needs no reference check."""
    d = run(*T, "--egress-check", "127.0.1.21", "healthy.test").json
    assert_eq(d["egress_references"], [], "no reference")


@test
def builtin_list_never_in_the_lab():
    """Without --egress-check the built-in list (public exchangers) would be
    used only against the real DNS and Internet; the lab's exchangers are on
    loopback, so every record shows the mode and no reference at all."""
    for args in ([*T, "firewalled.test"],
                 [*T, "--source", "127.0.5.1", "healthy.test"],
                 [*T, "--source", "127.0.5.1", "halfwall.test"]):
        d = run(*args).json
        assert_eq(d["request"]["egress_check"], {"mode": "builtin", "hosts": []}, "request")
        assert [a for a in d["attempts"] if not a["canary"]], "probed"
        assert all(a["connect"]["status"] == "timeout"
                   for a in d["attempts"] if a["port"] == 25), "every port 25 timed out"
        assert_eq(d["egress_references"], [], "built-in list not used: %s" % args)
    # Without --allow-loopback (only --server reaches a loopback host then).
    p = subprocess.run(["ip", "netns", "exec", NS, MXTRACE, "--json", *T, "--server",
                        "127.0.1.21", "--to", "postmaster@firewalled.test"],
                       capture_output=True, timeout=60)
    d = json.loads(p.stdout)
    assert_eq(d["egress_references"], [], "built-in list not used with --server")


def batch(lines, *opts):
    p = subprocess.run(["ip", "netns", "exec", NS, MXTRACE, "--allow-loopback", "--batch", "-",
                        *T, *opts], input=lines.encode(), capture_output=True, timeout=120)
    return p, p.stderr.decode("utf-8", "replace")


ONCE = "port 25 appears blocked on the way out"


@test
def batch_says_the_block_once():
    """Every target that was connected to shows connect.egress_blocked: the
    summary on stderr says so once (an NXDOMAIN or invalid line does not
    count against it); with one target that connects, it is not said."""
    p, err = batch("healthy.test\nexim.test\nnosuch.test\nbad..test\n", "--source", "127.0.5.1")
    assert_eq(err.count(ONCE), 1, "said once: %s" % err[-600:])
    assert "every target connected to (2)" in err, err[-600:]
    p, err = batch("healthy.test\nhalfwall.test\n", "--source", "127.0.5.1",
                   "--egress-check", "127.0.1.1")
    assert_eq(err.count(ONCE), 1, "the references decide halfwall.test: %s" % err[-600:])
    p, err = batch("healthy.test\nfirewalled.test\n")
    assert ONCE not in err, err[-600:]
    p, err = batch("firewalled.test\nhealthy.test\n", "--source", "127.0.5.1",
                   "--egress-check", "127.0.1.40:587")
    assert ONCE not in err, "a reference connected: %s" % err[-600:]


if __name__ == "__main__":
    main()
