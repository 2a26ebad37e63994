#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Scripted fake DNS server, for hostile answers no real DNS server gives.

The project rule is that integration tests use a real DNS tree (nsd +
unbound in the lab namespace) for everything a real server can be set up to
do.  This server exists only for the hostile cases: control bytes in names,
thousands of records, compression-pointer loops, TC=1, empty or garbage
datagrams, spoofed IDs, a black hole.  Every answer is built by hand with
struct (header, question echo, answer RRs, compression pointers), so the
bytes on the wire are exactly the ones a test asks for.  Standard library
only; it listens on loopback only, UDP and TCP on the same address and port.

Table (a JSON object, or a dict in module use):

  {"default": "nxdomain",             # behaviour for names not in "names"
   "names": {
     NAME: {QTYPE: SPEC, ...},        # QTYPE: "MX", "A", "AAAA", "PTR", ... or a number
     ...}}

NAME is a text name ("mx1.example.test"; compared case-insensitively) or
"*.parent" (a wildcard for any name below parent without its own entry).
Labels are the text between dots, taken as Latin-1 bytes, so "\\u001b" in
JSON is a raw ESC byte in the label.  A label that must hold a dot, or any
name given label by label, is a list: ["mx\\u001b[31m", "evil", "test"]
(list names are used for RR targets; table keys are always text, with the
label bytes joined by dots).

A name in the table but without the asked QTYPE gets NOERROR/NODATA; a
name not in the table gets "default" (NXDOMAIN unless set).

SPEC is a list of RRs (the answer), or an object:

  {"answer": [RR, ...],               # default []
   "do": ACTION or [ACTION, ...],     # default "answer"
   "rcode": 0, "aa": true, "ttl": 300}

RR (owner defaults to the question name, written as a pointer to it):
  {"type": "MX", "pref": 10, "host": NAME}        NAME as text or label list
  {"type": "A", "addr": "192.0.2.1"}   {"type": "AAAA", "addr": "::1"}
  {"type": "CNAME" | "PTR" | "NS", "host": NAME}
  {"type": N, "rdata_hex": "0a0b..."}              anything else, raw
  optional: "name": owner NAME, "ttl": N, "compress": false (write the
  target labels in full instead of pointing at a known suffix)

Labels are written as they are: a 64-byte label gets the length byte 0x40
(a reserved label type), a name may exceed 255 octets: the encoder does not
validate, it is a hostile server.

ACTION, one datagram each (over UDP, in order, 50 ms apart):
  answer     the answer; over UDP, TC=1 and no records when it does not fit
             in 512 bytes (or the EDNS size the query offers), like a real
             server
  tc         header + question with TC=1, no records (then the client should
             retry over TCP, where the full answer is sent)
  drop       nothing
  servfail, nxdomain, refused    that RCODE, no records
  empty      a 0-byte UDP datagram (CVE-2023-32067 class)
  wrong_id   the answer with another message ID (a spoof)
  garbage    the right ID and question, ANCOUNT 3, then random bytes; the
             first answer byte has the reserved label type 10xxxxxx, so no
             parser can read the answer section, whatever follows
  noise      random bytes only (wrong ID, no question: never matched)
  loop       one MX RR whose target name is a compression pointer to itself
Over TCP (after a TC) "answer" and "tc" both send the full answer; "drop"
closes the connection; the others send what they send over UDP.

--delay MS holds every UDP reply MS milliseconds (replies to many queries
are held at once, like a resolver waiting on authoritative servers), and
each query's log line then has "pending": the queries received and not yet
answered when it arrived, itself included: how many a client has
outstanding at the server.

Log: JSON lines, one per query, flushed as they happen:
  {"t": epoch seconds, "proto": "udp"|"tcp", "peer": "addr:port", "id": n,
   "qname": str, "qtype": "MX"|n, "actions": [...], "sizes": [...]}
qname is the label bytes decoded as Latin-1 and joined by dots (JSON
escapes the control bytes), so it is byte-exact.  Unparsable queries are
logged with "error".

Module use:
  srv = FakeDNS("127.0.4.1", 53, table, log_path=None, timeout=30).start()
  ...; srv.stop(); srv.log; srv.queries(qtype="A")

CLI:
  fakedns.py --listen 127.0.4.1:53 --table FILE [--log FILE] [--timeout S]
             [--seed N] [--delay MS]
  prints "READY host:port" on stdout once it listens (UDP and TCP); exits 0
  by itself after --timeout seconds, 2 on usage errors.
"""
import argparse
import heapq
import ipaddress
import json
import random
import socket
import struct
import sys
import threading
import time

QTYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16,
          "AAAA": 28, "SRV": 33, "OPT": 41, "TLSA": 52, "ANY": 255}
QTYPE_NAMES = {v: k for k, v in QTYPES.items()}
ACTIONS = ("answer", "tc", "drop", "servfail", "nxdomain", "refused", "empty", "wrong_id",
           "garbage", "noise", "loop")
RCODES = {"servfail": 2, "nxdomain": 3, "refused": 5}
UDP_MAX = 512          # without EDNS (RFC 1035 §4.2.1)
TCP_MAX = 65535
GAP = 0.05             # between datagrams of one multi-action reply


class TableError(Exception):
    pass


def qtype_num(t):
    if isinstance(t, int):
        return t
    if str(t).isdigit():
        return int(t)
    try:
        return QTYPES[str(t).upper()]
    except KeyError:
        raise TableError("unknown type %r" % t) from None


def labels_of(name):
    """Text name or label list to a tuple of label bytes (no root label)."""
    if isinstance(name, (list, tuple)):
        out = [x.encode("latin-1") if isinstance(x, str) else bytes(x) for x in name]
    else:
        name = name[:-1] if name.endswith(".") and name != "." else name
        out = [] if name in ("", ".") else [x.encode("latin-1") for x in name.split(".")]
    for lab in out:
        if len(lab) == 0 or len(lab) > 255:
            raise TableError("label of %d bytes in %r" % (len(lab), name))
    return tuple(out)


def key_of(labels):
    return tuple(lab.lower() for lab in labels)


def show(labels):
    return ".".join(lab.decode("latin-1") for lab in labels) or "."


class Msg:
    """A DNS message being written, with name compression."""

    def __init__(self):
        self.buf = bytearray()
        self.names = {}  # lowercase label suffix -> offset

    def name(self, labels, compress=True):
        """Write a name; returns its offset."""
        start = len(self.buf)
        labels = tuple(labels)
        for i in range(len(labels)):
            suffix = key_of(labels[i:])
            if compress and suffix in self.names:
                self.buf += struct.pack("!H", 0xC000 | self.names[suffix])
                return start
            if len(self.buf) < 0x4000 and suffix not in self.names:
                self.names[suffix] = len(self.buf)
            self.buf += bytes([len(labels[i])]) + labels[i]
        self.buf += b"\0"
        return start


def header(qid, flags, qd, an, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


class Query:
    """A parsed query."""

    def __init__(self, data):
        if len(data) < 12:
            raise ValueError("short query (%d bytes)" % len(data))
        (self.id, self.flags, qd, an, ns, ar) = struct.unpack("!HHHHHH", data[:12])
        if self.flags & 0x8000:
            raise ValueError("not a query (QR=1)")
        if qd != 1:
            raise ValueError("QDCOUNT %d" % qd)
        labels, p = [], 12
        while True:
            if p >= len(data):
                raise ValueError("truncated question")
            n = data[p]
            if n == 0:
                p += 1
                break
            if n & 0xC0:
                raise ValueError("compressed or extended label in the question")
            labels.append(bytes(data[p + 1:p + 1 + n]))
            p += 1 + n
            if p > len(data) or len(labels) > 127:
                raise ValueError("bad question name")
        if p + 4 > len(data):
            raise ValueError("truncated question")
        self.labels = tuple(labels)
        self.qtype, self.qclass = struct.unpack("!HH", data[p:p + 4])
        self.qend = p + 4
        self.udp_max = UDP_MAX
        # EDNS: an OPT RR (root owner, type 41) in the additional section.
        if ar >= 1 and an == 0 and ns == 0:
            q = self.qend
            if q + 11 <= len(data) and data[q] == 0 and struct.unpack("!H", data[q + 1:q + 3])[0] == 41:
                self.udp_max = max(UDP_MAX, struct.unpack("!H", data[q + 3:q + 5])[0])


class FakeDNS:
    """Scripted DNS server on one loopback address (UDP + TCP); see the module doc."""

    def __init__(self, addr, port, table, log_path=None, timeout=30.0, seed=1, delay=0.0):
        self.addr = addr
        self.delay = delay      # seconds every UDP reply is held (0: at once)
        self.pending = 0        # with a delay: received, not answered yet
        self._held = []         # heap of (due, seq, datagrams, peer)
        self._cv = threading.Condition()
        self.port = port
        self.timeout = timeout
        self.rng = random.Random(seed)
        self.default = "nxdomain"
        self.names = {}
        self.load(table)
        self.log = []
        self._log_f = open(log_path, "a") if log_path else None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = []
        self.udp = self.tcp = None
        self.deadline = None

    # -- table --
    def load(self, table):
        if not isinstance(table, dict):
            raise TableError("the table is not an object")
        self.default = table.get("default", "nxdomain")
        if self.default not in ACTIONS and self.default != "nodata":
            raise TableError("bad default %r" % self.default)
        for name, types in table.get("names", {}).items():
            if not isinstance(types, dict):
                raise TableError("%s: not an object of types" % name)
            entry = {}
            for t, spec in types.items():
                entry[qtype_num(t)] = self._spec(name, spec)
            self.names[key_of(labels_of(name))] = entry

    def _spec(self, name, spec):
        if isinstance(spec, list):
            spec = {"answer": spec}
        if not isinstance(spec, dict):
            raise TableError("%s: bad spec %r" % (name, spec))
        do = spec.get("do", "answer")
        do = [do] if isinstance(do, str) else list(do)
        for a in do:
            if a not in ACTIONS:
                raise TableError("%s: unknown action %r" % (name, a))
        rrs = []
        for rr in spec.get("answer", []):
            rrs.append(self._rr(name, rr, spec.get("ttl", 300)))
        return {"do": do, "answer": rrs, "rcode": int(spec.get("rcode", 0)),
                "aa": bool(spec.get("aa", True))}

    def _rr(self, name, rr, ttl):
        t = qtype_num(rr["type"])
        out = {"type": t, "ttl": int(rr.get("ttl", ttl)), "compress": rr.get("compress", True),
               "owner": labels_of(rr["name"]) if "name" in rr else None}
        if "rdata_hex" in rr:
            out["raw"] = bytes.fromhex(rr["rdata_hex"])
        elif t == 1:
            out["raw"] = ipaddress.IPv4Address(rr["addr"]).packed
        elif t == 28:
            out["raw"] = ipaddress.IPv6Address(rr["addr"]).packed
        elif t == 15:
            out["pref"] = int(rr.get("pref", 10))
            out["host"] = labels_of(rr["host"])
        elif t in (2, 5, 12):
            out["host"] = labels_of(rr["host"])
        else:
            raise TableError("%s: type %d needs rdata_hex" % (name, t))
        return out

    def lookup(self, q):
        """(actions, spec or None, rcode) for a query."""
        key = key_of(q.labels)
        entry = self.names.get(key)
        if entry is None:
            for i in range(1, len(key)):
                entry = self.names.get((b"*",) + key[i:])
                if entry is not None:
                    break
        if entry is None:
            if self.default == "nodata":
                return ["answer"], None, 0
            return [self.default], None, 3
        spec = entry.get(q.qtype)
        if spec is None:
            return ["answer"], None, 0  # NODATA
        return spec["do"], spec, spec["rcode"]

    # -- building --
    def build(self, q, spec, rcode, tc=False, qid=None, aa=True):
        """Header + question + (unless tc) the answer RRs of spec."""
        rrs = [] if (tc or spec is None) else spec["answer"]
        flags = 0x8000 | (q.flags & 0x7900) | 0x0080 | (rcode & 0xF)  # QR, opcode, RD, RA
        if aa and (spec is None or spec["aa"]):
            flags |= 0x0400
        if tc:
            flags |= 0x0200
        m = Msg()
        m.buf += header(q.id if qid is None else qid, flags, 1, len(rrs))
        m.name(q.labels)
        m.buf += struct.pack("!HH", q.qtype, q.qclass)
        for rr in rrs:
            if rr["owner"] is None:
                m.buf += b"\xc0\x0c"
            else:
                m.name(rr["owner"])
            rdata_at = len(m.buf) + 10
            m.buf += struct.pack("!HHIH", rr["type"], 1, rr["ttl"], 0)
            if "raw" in rr:
                m.buf += rr["raw"]
            else:
                if rr["type"] == 15:
                    m.buf += struct.pack("!H", rr["pref"])
                m.name(rr["host"], rr["compress"])
            struct.pack_into("!H", m.buf, rdata_at - 2, len(m.buf) - rdata_at)
        return bytes(m.buf)

    def loop_answer(self, q):
        """One MX RR whose target is a compression pointer to itself."""
        m = Msg()
        m.buf += header(q.id, 0x8580 | (q.flags & 0x0100), 1, 1)
        m.name(q.labels)
        m.buf += struct.pack("!HH", q.qtype, q.qclass)
        m.buf += b"\xc0\x0c" + struct.pack("!HHIH", 15, 1, 300, 4) + struct.pack("!H", 10)
        here = len(m.buf)
        m.buf += struct.pack("!H", 0xC000 | here)
        return bytes(m.buf)

    def render(self, action, q, spec, rcode, proto):
        """The bytes one action sends (None: send nothing)."""
        limit = q.udp_max if proto == "udp" else TCP_MAX
        if action == "drop":
            return None
        if action == "empty":
            return b""
        if action == "noise":
            return bytes(self.rng.getrandbits(8) for _ in range(self.rng.randint(12, 200)))
        if action in RCODES:
            return self.build(q, None, RCODES[action])
        if action == "loop":
            return self.loop_answer(q)
        if action == "garbage":
            m = Msg()
            m.buf += header(q.id, 0x8580 | (q.flags & 0x0100), 1, 3)
            m.name(q.labels)
            m.buf += struct.pack("!HH", q.qtype, q.qclass)
            junk = bytearray(self.rng.getrandbits(8) for _ in range(self.rng.randint(40, 300)))
            junk[0] = 0x80 | (junk[0] & 0x3F)  # label type 10: reserved, unreadable
            return bytes(m.buf + junk)
        if action == "tc" and proto == "udp":
            return self.build(q, spec, rcode, tc=True)
        # answer, wrong_id, and tc over TCP: the full answer
        qid = None
        if action == "wrong_id":
            qid = (q.id + 1 + self.rng.randint(0, 0xFFFD)) & 0xFFFF
        msg = self.build(q, spec, rcode, qid=qid)
        if len(msg) > limit:
            msg = self.build(q, spec, rcode, tc=True, qid=qid) if proto == "udp" else msg[:limit]
        return msg

    # -- serving --
    def _log(self, entry):
        entry["t"] = time.time()
        with self._lock:
            self.log.append(entry)
            if self._log_f:
                self._log_f.write(json.dumps(entry) + "\n")
                self._log_f.flush()

    def _answer(self, data, peer, proto, extra=None):
        """Parse one query and return the list of byte strings to send
        (None entries mean 'send nothing'), logging the query."""
        entry = {"proto": proto, "peer": "%s:%d" % peer[:2]}
        entry.update(extra or {})
        try:
            q = Query(data)
        except ValueError as e:
            entry["error"] = str(e)
            entry["bytes"] = len(data)
            self._log(entry)
            return []
        actions, spec, rcode = self.lookup(q)
        out = [self.render(a, q, spec, rcode, proto) for a in actions]
        entry.update({"id": q.id, "qname": show(q.labels),
                      "qtype": QTYPE_NAMES.get(q.qtype, q.qtype), "actions": actions,
                      "sizes": [None if b is None else len(b) for b in out]})
        self._log(entry)
        return out

    def listen(self):
        fam = socket.AF_INET6 if ":" in self.addr else socket.AF_INET
        u = socket.socket(fam, socket.SOCK_DGRAM)
        u.bind((self.addr, self.port))
        self.port = u.getsockname()[1]
        t = socket.socket(fam, socket.SOCK_STREAM)
        t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        t.bind((self.addr, self.port))
        t.listen(16)
        self.udp, self.tcp = u, t
        self.deadline = time.monotonic() + self.timeout
        return self

    def remaining(self):
        return self.deadline - time.monotonic()

    def _serve_udp(self):
        while not self._stop.is_set() and self.remaining() > 0:
            self.udp.settimeout(min(self.remaining(), 0.2))
            try:
                data, peer = self.udp.recvfrom(65535)
            except socket.timeout:
                continue
            except OSError:
                break
            if self.delay > 0:
                with self._cv:
                    self.pending += 1
                    n = self.pending
                out = self._answer(data, peer, "udp", {"pending": n})
                with self._cv:
                    heapq.heappush(self._held, (time.monotonic() + self.delay, n, id(out), out, peer))
                    self._cv.notify()
                continue
            out = self._answer(data, peer, "udp")
            for i, b in enumerate(out):
                if i > 0:
                    self._stop.wait(GAP)
                if b is not None:
                    try:
                        self.udp.sendto(b, peer)
                    except OSError:
                        pass

    def _release_held(self):
        """With --delay: send each held reply when it is due."""
        while not self._stop.is_set():
            with self._cv:
                now = time.monotonic()
                if not self._held or self._held[0][0] > now:
                    self._cv.wait(0.2 if not self._held else min(0.2, self._held[0][0] - now))
                    continue
                _, _, _, out, peer = heapq.heappop(self._held)
                # Counted as answered before the reply leaves, so a client
                # cannot see the answer and ask again before the count drops.
                self.pending -= 1
            for b in out:
                if b is not None:
                    try:
                        self.udp.sendto(b, peer)
                    except OSError:
                        pass

    def _serve_tcp(self):
        while not self._stop.is_set() and self.remaining() > 0:
            self.tcp.settimeout(min(self.remaining(), 0.2))
            try:
                c, peer = self.tcp.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            th = threading.Thread(target=self._tcp_conn, args=(c, peer), daemon=True)
            th.start()
            self._threads.append(th)

    def _recv_exact(self, c, n):
        buf = b""
        while len(buf) < n:
            if self._stop.is_set() or self.remaining() <= 0:
                return None
            c.settimeout(min(self.remaining(), 0.5))
            try:
                k = c.recv(n - len(buf))
            except socket.timeout:
                continue
            except OSError:
                return None
            if not k:
                return None
            buf += k
        return buf

    def _tcp_conn(self, c, peer):
        try:
            while True:
                ln = self._recv_exact(c, 2)
                if ln is None:
                    return
                data = self._recv_exact(c, struct.unpack("!H", ln)[0])
                if data is None:
                    return
                out = self._answer(data, peer, "tcp")
                if not out or all(b is None for b in out):
                    return  # drop: close the connection
                for b in out:
                    if b is not None:
                        c.settimeout(max(0.1, min(self.remaining(), 5.0)))
                        c.sendall(struct.pack("!H", len(b)) + b)
        except OSError:
            pass
        finally:
            c.close()

    def serve(self):
        """Serve UDP and TCP until --timeout or stop()."""
        th = threading.Thread(target=self._serve_tcp, daemon=True)
        th.start()
        if self.delay > 0:
            threading.Thread(target=self._release_held, daemon=True).start()
        try:
            self._serve_udp()
        finally:
            self._stop.set()
            th.join(2)
            for t in self._threads:
                t.join(1)
            for s in (self.udp, self.tcp):
                try:
                    s.close()
                except OSError:
                    pass

    def start(self):
        if self.udp is None:
            self.listen()
        self._thread = threading.Thread(target=self.serve, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if getattr(self, "_thread", None):
            self._thread.join(5)
        if self._log_f:
            with self._lock:
                self._log_f.close()
                self._log_f = None
        return self

    def queries(self, qtype=None):
        return [e for e in self.log if "qname" in e and (qtype is None or e["qtype"] == qtype)]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Scripted fake DNS server (loopback only).")
    ap.add_argument("--listen", required=True, help="ADDR:PORT on loopback, e.g. 127.0.4.1:53")
    ap.add_argument("--table", required=True, help="JSON table (see the module doc)")
    ap.add_argument("--log", help="JSON-lines log file (appended)")
    ap.add_argument("--timeout", type=float, default=30.0, help="exit after this many seconds")
    ap.add_argument("--seed", type=int, default=1, help="seed for garbage/noise bytes")
    ap.add_argument("--delay", type=float, default=0.0,
                    help="hold every UDP reply this many milliseconds")
    a = ap.parse_args(argv)
    host, _, port = a.listen.rpartition(":")
    host = host.strip("[]")
    try:
        if not ipaddress.ip_address(host).is_loopback:
            ap.error("--listen: loopback addresses only")
        with open(a.table) as f:
            table = json.load(f)
        srv = FakeDNS(host, int(port), table, a.log, a.timeout, a.seed, a.delay / 1000.0)
        srv.listen()
    except (TableError, ValueError, OSError, KeyError) as e:
        print("fakedns: %s" % e, file=sys.stderr)
        return 2
    print("READY %s:%d" % (host, srv.port), flush=True)
    srv.serve()
    if srv._log_f:
        srv._log_f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
