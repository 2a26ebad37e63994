#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Lab integration tests for the client's reputation (issue 11): DNS
blocklist lookups against the lab's own zen.spamhaus.org and
b.barracudacentral.org zones, replies that name a blocklist or cite SPF or
DMARC (real Postfix instances), a 450 for a client without PTR, a 454 when
the server's TLS is broken, and SPF/DMARC of the sender.test domains.
Addresses and records: tests/lab/README.md, "Reputation scenarios".

Usage: test_reputation.py [TEST_NAME ...]   (the lab must be up)
Every JSON output is validated against docs/mxtrace.schema.json.
"""
import sys

from harness import assert_eq, assert_in, attempt, codes, main, run, step, test

LISTED = "127.0.6.1"    # in both lab lists
REFUSED = "127.0.6.2"   # the lab ZEN answers 127.255.255.254
CLEAN = "127.0.2.1"     # client-ok.test / out.sender.test, in no list
NOPTR = "127.0.2.2"
LISTS = ["--dnsbl", "zen.spamhaus.org", "--dnsbl", "b.barracudacentral.org"]


def findings(doc, code):
    return [f for f in doc["findings"] if f["code"] == code]


def one(doc, code):
    f = findings(doc, code)
    if len(f) != 1:
        raise AssertionError("expected one %s finding, got %d: %s" % (code, len(f), codes(doc)))
    return f[0]


def dnsbl(doc, zone):
    found = [b for b in doc["client"]["dnsbl"] if b["zone"] == zone]
    if len(found) != 1:
        raise AssertionError("expected one %s entry, got %s" % (zone, doc["client"]["dnsbl"]))
    return found[0]


def spf(sender, source=CLEAN, *extra):
    return run("--source", source, "--from", "user@" + sender, *extra, "user@healthy.test").json


# ---- client.dnsbl: mxtrace's own lookups (RFC 5782) ----

@test
def dnsbl_listed_in_both_lab_lists():
    d = run("--source", LISTED, *LISTS, "user@healthy.test").json
    z = dnsbl(d, "zen.spamhaus.org")
    assert_eq(z["status"], "listed", "ZEN status")
    assert_eq(z["list"], "Spamhaus ZEN", "ZEN name")
    assert_eq(z["address"], LISTED, "address looked up")
    assert_eq(z["answers"], ["127.0.0.2"], "ZEN return code")
    assert z["meaning"].startswith("SBL"), z["meaning"]
    assert_eq(z["txt"], "https://www.spamhaus.org/query/ip/127.0.6.1", "ZEN TXT reason")
    assert_eq(z["query"]["status"], "ok", "A query")
    b = dnsbl(d, "b.barracudacentral.org")
    assert_eq(b["status"], "listed", "Barracuda status")
    assert_eq(b["txt"], "http://www.barracudanetworks.com/reputation/?pr=1&ip=127.0.6.1",
              "Barracuda TXT")
    fs = findings(d, "client.dnsbl_listed")
    assert_eq(sorted(f["list"] for f in fs),
              ["Barracuda Reputation Block List", "Spamhaus ZEN"], "one finding per list")
    zf = [f for f in fs if f["list"] == "Spamhaus ZEN"][0]
    assert_eq(zf["address"], LISTED, "finding address")
    assert_in("127.0.6.1", zf["list_url"], "lookup page names the address")
    assert_in('TXT "https://www.spamhaus.org/query/ip/127.0.6.1"', zf["evidence"], "evidence")
    assert_eq(zf["severity"], "warning", "severity")
    # The MTA itself accepts mail from it: the lookups are independent, and
    # the listing counts as a warning beside the delivery.
    assert_eq((d["verdict"]["status"], d["verdict"]["via"]), ("warning", "mx1.healthy.test"),
              "verdict")


@test
def dnsbl_not_listed_is_recorded_without_finding():
    d = run("--source", CLEAN, *LISTS, "user@healthy.test").json
    for zone in ("zen.spamhaus.org", "b.barracudacentral.org"):
        b = dnsbl(d, zone)
        assert_eq(b["status"], "not_listed", zone)
        assert_eq(b["answers"], [], zone + " answers")
        assert_eq(b["query"]["status"], "nxdomain", zone + " query")
    assert_eq(findings(d, "client.dnsbl_listed"), [], "no listing finding")


@test
def dnsbl_refusal_code_is_not_a_listing():
    d = run("--source", REFUSED, "--dnsbl", "zen.spamhaus.org", "user@healthy.test").json
    z = dnsbl(d, "zen.spamhaus.org")
    assert_eq(z["status"], "refused", "status")
    assert_eq(z["answers"], ["127.255.255.254"], "answer")
    assert_in("public", z["meaning"], "meaning says why")
    f = one(d, "client.dnsbl_refused")
    assert_in("public or open resolver", f["evidence"], "the finding says so")
    assert_eq(findings(d, "client.dnsbl_listed"), [], "no listing finding")


@test
def dnsbl_defaults_never_with_resolver_option():
    d = run("--resolver", "127.0.0.53", "--source", LISTED, "user@healthy.test").json
    assert_eq(d["client"]["dnsbl"], [], "no default lookups with --resolver")
    assert_in("--resolver", d["client"]["dnsbl_skipped"], "why")


@test
def dnsbl_defaults_only_for_public_addresses():
    d = run("--source", LISTED, "user@healthy.test").json
    assert_eq(d["client"]["dnsbl"], [], "a loopback address is not asked about")
    assert_in("not public", d["client"]["dnsbl_skipped"], "why")


@test
def dnsbl_off_with_no_dnsbl():
    d = run("--no-dnsbl", "--source", LISTED, *LISTS, "user@healthy.test").json
    assert_eq(d["client"]["dnsbl"], [], "no lookups")
    assert_eq(d["client"]["dnsbl_skipped"], "--no-dnsbl", "why")


@test
def dnsbl_one_query_per_list_and_address():
    # The same zone twice is asked once.
    d = run("--source", LISTED, "--dnsbl", "zen.spamhaus.org", "--dnsbl", "ZEN.spamhaus.org.",
            "user@healthy.test").json
    assert_eq(len(d["client"]["dnsbl"]), 1, "entries")


# ---- replies that name a blocklist (*.blocklisted) ----

@test
def rcpt_554_spamhaus_names_the_list():
    d = run("--source", LISTED, "user@rbl.test").json
    a = attempt(d, "127.0.1.70")
    r = step(a, "rcpt")["reply"]
    assert_eq(r["code"], 554, "RCPT reply")
    assert_in("blocked using zen.spamhaus.org", r["lines"][0], "Postfix text")
    f = one(d, "rcpt.blocklisted")
    assert_eq(f["list"], "Spamhaus ZEN", "list")
    assert_eq(f["list_url"], "https://check.spamhaus.org/results/?query=127.0.6.1", "lookup page")
    assert f["evidence"].startswith("listed by Spamhaus ZEN:"), f["evidence"]
    assert_eq(d["verdict"]["status"], "critical", "verdict")


@test
def rcpt_554_barracuda_names_the_list():
    d = run("--source", LISTED, "user@barracuda.test").json
    r = step(attempt(d, "127.0.1.71"), "rcpt")["reply"]
    assert_in("blocked using Barracuda Reputation", r["lines"][0], "Barracuda text")
    f = one(d, "rcpt.blocklisted")
    assert_eq(f["list"], "Barracuda Reputation Block List", "list")
    assert_eq(f["list_url"], "https://www.barracudacentral.org/lookups/lookup-reputation",
              "lookup page")


@test
def banner_554_spamhaus_is_banner_blocklisted():
    d = run("--source", LISTED, "user@rbl-banner.test").json
    b = step(attempt(d, "127.0.1.74"), "banner")["reply"]
    assert_eq(b["code"], 554, "greeting")
    f = one(d, "banner.blocklisted")
    assert_eq(f["list"], "Spamhaus ZEN", "list")
    assert_in("127.0.6.1", f["list_url"], "lookup page")
    assert "banner.rejected" not in codes(d), codes(d)


@test
def unlisted_client_is_not_blocklisted():
    d = run("--source", CLEAN, "user@rbl.test").json
    assert_eq(d["verdict"]["status"], "ok", "verdict")
    assert not [c for c in codes(d) if c.endswith("blocklisted")], codes(d)


# ---- other persistent 4xx of the scenario set ----

@test
def rcpt_450_cannot_find_your_hostname():
    d = run("--source", NOPTR, "user@ptr-required.test").json
    r = step(attempt(d, "127.0.1.72"), "rcpt")["reply"]
    assert_eq((r["code"], r["enhanced"]), (450, "4.7.25"), "reply")
    assert_in("cannot find your hostname", r["lines"][0], "text")
    assert_in("rcpt.ptr_required", codes(d), "finding")
    assert_in("client.ptr_missing", codes(d), "our own PTR lookup agrees")


@test
def starttls_454_tls_not_available():
    d = run("--starttls", "require", "user@tls-broken.test").json
    s = step(attempt(d, "127.0.1.73"), "starttls")["reply"]
    assert_eq((s["code"], s["enhanced"]), (454, "4.7.0"), "STARTTLS reply")
    assert_in("TLS not available due to local problem", s["lines"][0], "text")
    assert_in("tls.starttls_refused", codes(d), "finding")


# ---- SPF (RFC 7208) for the client address ----

@test
def spf_pass_names_the_mechanism():
    d = spf("pass.sender.test")
    s = d["sender_auth"]["spf"]
    assert_eq(s["result"], "pass", "result")
    assert_eq(s["mechanism"], "a:out.sender.test", "deciding term")
    assert_eq(s["record"], "v=spf1 ip4:192.0.2.0/24 a:out.sender.test -all", "record")
    assert_eq((s["domain"], s["identity"], s["address"]),
              ("pass.sender.test", "mail_from", CLEAN), "what was checked")
    assert_eq(s["lookups"], 1, "DNS-querying terms")
    f = one(d, "sender.spf_pass")
    assert_eq(f["severity"], "info", "severity")


@test
def spf_pass_through_include():
    s = spf("include.sender.test")["sender_auth"]["spf"]
    assert_eq((s["result"], s["mechanism"]), ("pass", "include:_spf.sender.test"), "result")


@test
def spf_fail_names_the_fix():
    d = spf("fail.sender.test")
    s = d["sender_auth"]["spf"]
    assert_eq((s["result"], s["mechanism"]), ("fail", "-all"), "result")
    f = one(d, "sender.spf_fail")
    assert_in("add ip4:127.0.2.1 to the SPF record of fail.sender.test", f["evidence"], "fix")
    assert_in('"v=spf1 ip4:192.0.2.0/24 -all"', f["evidence"], "record in evidence")


@test
def spf_softfail():
    d = spf("softfail.sender.test")
    s = d["sender_auth"]["spf"]
    assert_eq((s["result"], s["mechanism"]), ("softfail", "~all"), "result")
    one(d, "sender.spf_softfail")


@test
def spf_neutral():
    d = spf("neutral.sender.test")
    assert_eq(d["sender_auth"]["spf"]["result"], "neutral", "result")
    one(d, "sender.spf_neutral")


@test
def spf_none_without_record():
    d = spf("none.sender.test")
    s = d["sender_auth"]["spf"]
    assert_eq((s["result"], s["record"], s["mechanism"]), ("none", None, None), "result")
    one(d, "sender.spf_none")


@test
def spf_permerror_syntax():
    d = spf("syntax.sender.test")
    s = d["sender_auth"]["spf"]
    assert_eq(s["result"], "permerror", "result")
    assert_in("inlcude", s["error"], "error names the bad term")
    f = one(d, "sender.spf_permerror")
    assert_in("Unknown mechanism", f["evidence"], "evidence")


@test
def spf_permerror_too_many_lookups():
    d = spf("toomany.sender.test")
    s = d["sender_auth"]["spf"]
    assert_eq(s["result"], "permerror", "result")
    assert_in("too many DNS lookups", s["error"], "error")
    assert s["lookups"] > 10, s["lookups"]
    one(d, "sender.spf_permerror")


@test
def spf_temperror_on_servfail():
    d = spf("temperror.sender.test")
    s = d["sender_auth"]["spf"]
    assert_eq(s["result"], "temperror", "result")
    assert_in("servfail.test", s["error"], "error names the failing domain")
    one(d, "sender.spf_temperror")


@test
def spf_loopback_gets_no_free_pass():
    # libspf2 passes 127/8 unconditionally; mxtrace evaluates it.
    s = spf("fail.sender.test", "127.0.0.1")["sender_auth"]["spf"]
    assert_eq(s["result"], "fail", "result for 127.0.0.1")


@test
def spf_helo_identity_without_sender():
    d = run("--source", CLEAN, "--ehlo", "pass.sender.test", "user@healthy.test").json
    s = d["sender_auth"]["spf"]
    assert_eq((s["identity"], s["domain"], s["result"]), ("helo", "pass.sender.test", "pass"),
              "HELO check")
    assert_eq(d["sender_auth"]["dmarc"], None, "no DMARC without a sender domain")


@test
def spf_off_with_no_spf():
    d = run("--no-spf", "--source", CLEAN, "--from", "user@fail.sender.test",
            "user@healthy.test").json
    assert_eq(d["sender_auth"]["spf"], None, "no SPF")
    assert_eq(d["sender_auth"]["dmarc"], None, "no DMARC")
    assert_eq(d["sender_auth"]["skipped"], "--no-spf", "why")


@test
def spf_not_judged_for_unknown_public_address():
    # 127.0.0.1 picked by the kernel (no --source, no --egress-ip) is not
    # the public address: nothing is judged.
    d = run("--from", "user@fail.sender.test", "user@healthy.test").json
    assert_eq(d["sender_auth"]["spf"], None, "not evaluated")
    assert_in("--egress-ip", d["sender_auth"]["skipped"], "why")


@test
def spf_for_egress_ip_option():
    d = run("--egress-ip", CLEAN, "--from", "user@pass.sender.test", "user@healthy.test").json
    s = d["sender_auth"]["spf"]
    assert_eq((s["address"], s["result"]), (CLEAN, "pass"), "judged address")


@test
def submission_judges_the_server_not_the_client():
    d = run("--server", "submit.healthy.test", "--submission", "--source", CLEAN,
            "--from", "user@fail.sender.test", "--to", "someone@elsewhere.test",
            "--quit-after", "ehlo").json
    sa = d["sender_auth"]
    assert_eq((sa["spf"], sa["dmarc"]), (None, None), "no SPF or DMARC")
    assert_in("--submission", sa["skipped"], "why")
    assert_in("--submission", d["client"]["dnsbl_skipped"], "no default lists")


# ---- DMARC (RFC 7489) ----

@test
def dmarc_valid_record_parsed():
    d = spf("pass.sender.test")
    m = d["sender_auth"]["dmarc"]
    assert_eq((m["status"], m["policy"], m["adkim"], m["aspf"], m["pct"]),
              ("ok", "reject", "s", "r", 100), "parsed")
    assert_eq(m["rua"], "mailto:dmarc@pass.sender.test", "rua")
    assert_eq(m["record_domain"], "pass.sender.test", "found at")
    assert not [c for c in codes(d) if c.startswith("sender.dmarc")], codes(d)


@test
def dmarc_missing():
    d = spf("softfail.sender.test")
    m = d["sender_auth"]["dmarc"]
    assert_eq((m["status"], m["record"]), ("missing", None), "status")
    f = one(d, "sender.dmarc_missing")
    assert_in("softfail.sender.test", f["evidence"], "evidence")


@test
def dmarc_broken():
    d = spf("brokendmarc.sender.test")
    m = d["sender_auth"]["dmarc"]
    assert_eq(m["status"], "invalid", "status")
    assert_eq(m["record"], "v=DMARC1; p=block; pct=200", "record kept")
    f = one(d, "sender.dmarc_invalid")
    assert_in("p=block", f["evidence"], "evidence names the bad tag")


@test
def dmarc_reject_with_failing_spf_is_at_risk():
    d = spf("fail.sender.test")
    f = one(d, "sender.dmarc_at_risk")
    assert_in("p=reject", f["evidence"], "policy")
    assert_in("SPF is fail", f["evidence"], "SPF result")


# ---- replies citing SPF or DMARC ----

@test
def reply_citing_spf_is_sender_spf_rejected():
    d = run("--source", CLEAN, "--from", "user@fail.sender.test", "user@rbl.test").json
    r = step(attempt(d, "127.0.1.70"), "rcpt")["reply"]
    assert_eq(r["enhanced"], "5.7.23", "reply")
    assert_in("sender.spf_rejected", codes(d), "finding")
    assert "mail.sender_rejected" not in codes(d), codes(d)


@test
def reply_citing_dmarc_is_sender_dmarc_rejected():
    d = run("--source", CLEAN, "--from", "user@fail.sender.test", "user@barracuda.test").json
    r = step(attempt(d, "127.0.1.71"), "rcpt")["reply"]
    assert_eq(r["enhanced"], "5.7.26", "reply")
    assert_in("sender.dmarc_rejected", codes(d), "finding")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
