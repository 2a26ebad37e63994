#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Scripted fake SMTP server, for misbehaviour no real MTA can be set up to show.

The project rule is that integration tests run against real MTAs (Postfix in
the lab namespace).  This server exists only for the hostile cases:
STARTTLS injection, floods, trickled
or unterminated replies, resets, broken TLS.  It is modelled on curl's
tests/ftpserver.pl and Exim's test/src/server.c: each connection plays a
script, step by step.  Standard library only; listen on loopback only.

Script format: one step per line; blank lines and lines starting with '#'
are ignored.  BYTES take Python escapes (\\r \\n \\t \\\\ \\xNN \\0): write a
trailing space as \\x20, non-ASCII as its UTF-8 bytes.

  send BYTES           send raw bytes (everything after "send ")
  expect PREFIX        read one client line (up to LF), record it; the script
                       fails if it does not start with PREFIX (case-insensitive)
  sleep SECONDS        pause (decimals allowed); client bytes that arrive
                       meanwhile are noted (not consumed) with "early": true
  trickle BYTES RATE   send BYTES one byte at a time, RATE bytes per second;
                       stops quietly when the client goes away
  flood LINE COUNT     send LINE + CRLF, COUNT times, as fast as the client
                       reads; stops quietly when the client goes away
  repeat BYTES COUNT   send BYTES repeated COUNT times, no CRLF added (a huge
                       unterminated line); stops quietly when the client goes
  starttls             TLS handshake, server side, with --cert/--key; later
                       steps run inside TLS; a failed handshake ends the script
  close                close the connection (FIN)
  reset                close the connection with an RST (SO_LINGER 0)
  hang                 answer nothing any more; keep the socket open until the
                       client closes it (what it still sends is read and logged)

When the script ends without close/reset/hang, the server keeps reading and
logging client lines for --linger seconds (default 5) or until the client
closes, then closes.  The server serves --connections connections (each plays
the whole script, in its own thread) and exits by itself after --timeout
seconds in any case.

Log: JSON lines, one per event, flushed as they happen:
  {"t": epoch seconds, "conn": n, "dir": "C"|"S"|"I", "tls": bool, "data": str}
"C" is one client line without its terminator ("eol" holds it: "\\r\\n", "\\n",
or "" for a partial line at EOF), "S" what the server sent (shortened for
floods), "I" a note (accept, handshake, EOF, script failure: then "error" is
set too).  data is the bytes decoded as Latin-1, so it is byte-exact.

Module use:
  srv = FakeServer("127.0.3.1", 25, script_text, cert, key).start()
  ...; srv.stop(); srv.log; srv.client_lines(); srv.failures

CLI:
  fakesmtp.py --listen 127.0.3.1:25 --script FILE --log FILE [--cert C --key K]
              [--connections N] [--timeout S] [--linger S]
  prints "READY host:port" on stdout once it listens; exits 0 when every
  connection's script passed, 1 when one failed, 2 on usage errors.
"""
import argparse
import codecs
import json
import select
import socket
import ssl
import struct
import sys
import threading
import time

LINE_MAX = 1 << 20  # the fake server's own cap on one client line
S_LOG_MAX = 512     # server data kept per "S" log entry


class ScriptError(Exception):
    pass


class PeerGone(Exception):
    pass


def unescape(text):
    """Python-style escapes to bytes (\\r, \\n, \\xNN, \\0, \\\\)."""
    return codecs.escape_decode(text.encode("latin-1", "backslashreplace"))[0]


def _split_last(verb, rest, lineno):
    parts = rest.rsplit(None, 1)
    if len(parts) != 2:
        raise ScriptError("line %d: %s needs BYTES and a number" % (lineno, verb))
    return parts[0], parts[1]


def parse_script(text):
    """Script text to a list of (verb, args) tuples; raises ScriptError."""
    steps = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        line = raw.lstrip()
        verb, _, rest = line.partition(" ")
        verb = verb.lower()
        try:
            if verb == "send":
                steps.append(("send", unescape(rest)))
            elif verb == "expect":
                steps.append(("expect", unescape(rest.strip())))
            elif verb == "sleep":
                steps.append(("sleep", float(rest)))
            elif verb == "trickle":
                b, n = _split_last(verb, rest, lineno)
                rate = float(n)
                if rate <= 0:
                    raise ScriptError("line %d: RATE must be > 0" % lineno)
                steps.append(("trickle", unescape(b), rate))
            elif verb in ("flood", "repeat"):
                b, n = _split_last(verb, rest, lineno)
                steps.append((verb, unescape(b), int(n)))
            elif verb in ("starttls", "close", "reset", "hang"):
                if rest.strip():
                    raise ScriptError("line %d: %s takes no argument" % (lineno, verb))
                steps.append((verb,))
            else:
                raise ScriptError("line %d: unknown step %r" % (lineno, verb))
        except ValueError as e:
            raise ScriptError("line %d: %s" % (lineno, e)) from None
    return steps


def _text(b):
    return b.decode("latin-1")


class _Conn:
    """One client connection playing the script."""

    def __init__(self, srv, sock, n):
        self.srv = srv
        self.sock = sock
        self.n = n
        self.tls = False
        self.buf = b""  # TLS only: bytes read past the last line
        self.closed = False

    # -- logging --
    def log(self, d, data, **kw):
        self.srv._log(self.n, d, self.tls, data, **kw)

    def note(self, text, **kw):
        self.log("I", text, **kw)

    # -- deadlines --
    def remaining(self):
        r = self.srv.deadline - time.monotonic()
        if r <= 0 or self.srv._stop.is_set():
            raise PeerGone("server timeout")
        return r

    # -- I/O --
    def send(self, data, log=True):
        if log:
            shown = data if len(data) <= S_LOG_MAX else data[:S_LOG_MAX] + b"...(%d bytes)" % len(data)
            self.log("S", _text(shown))
        view = memoryview(data)
        while view:
            self.sock.settimeout(min(self.remaining(), 1.0))
            try:
                k = self.sock.send(view)
            except socket.timeout:
                continue
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError) as e:
                raise PeerGone("send: %s" % e) from None
            view = view[k:]

    def _recv(self, peek=False):
        """Some bytes; b"" at EOF.  Waits at most 0.5 s a call (None if none)."""
        self.sock.settimeout(min(self.remaining(), 0.5))
        try:
            if peek:
                return self.sock.recv(65536, socket.MSG_PEEK)
            return self.sock.recv(65536)
        except socket.timeout:
            return None
        except ssl.SSLWantReadError:
            return None
        except (ConnectionResetError, ssl.SSLError, OSError) as e:
            raise PeerGone("recv: %s" % e) from None

    def readline(self, until=None):
        """One client line (bytes, with its terminator).  At EOF: what came
        before it (b"" if nothing).  None when the monotonic time until
        passed first (a partial line stays buffered).

        In plaintext nothing past the LF is consumed (MSG_PEEK), so a
        ClientHello sent right after STARTTLS stays for the handshake."""
        acc, self.buf = self.buf, b""
        while True:
            i = acc.find(b"\n")
            if i >= 0:
                self.buf = acc[i + 1:]
                return acc[:i + 1]
            if len(acc) > LINE_MAX:
                return acc
            if until is not None and time.monotonic() >= until:
                self.buf = acc
                return None
            chunk = self._recv(peek=not self.tls)
            if chunk is None:
                continue
            if chunk == b"":
                return acc
            if not self.tls:
                j = chunk.find(b"\n")
                chunk = self.sock.recv(j + 1 if j >= 0 else len(chunk))
                if not chunk:
                    return acc
            acc += chunk

    def log_line(self, line):
        if line.endswith(b"\r\n"):
            body, eol = line[:-2], "\r\n"
        elif line.endswith(b"\n"):
            body, eol = line[:-1], "\n"
        else:
            body, eol = line, ""
        self.log("C", _text(body), eol=eol)
        return body

    def drain(self, seconds):
        """Read and log client lines until EOF, or for seconds (None: forever)."""
        until = None if seconds is None else time.monotonic() + seconds
        while True:
            line = self.readline(until)
            if line is None:
                self.note("linger over, client still connected")
                return
            if line == b"":
                self.note("client closed")
                return
            self.log_line(line)
            if not line.endswith(b"\n"):
                self.note("client closed")
                return

    def close(self, rst=False):
        if self.closed:
            return
        self.closed = True
        try:
            if rst:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif self.tls:
                try:
                    self.sock.settimeout(0.2)
                    self.sock.unwrap()
                except (ssl.SSLError, OSError, ValueError):
                    pass
        except OSError:
            pass
        try:
            self.sock.close()
        except OSError:
            pass

    # -- the script --
    def run(self, steps):
        try:
            try:
                for st in steps:
                    self.step(st)
                    if self.closed:
                        return
                self.drain(self.srv.linger)
            except ScriptError as e:
                self.note("script failed: %s" % e, error=str(e))
                self.srv.failures.append("conn %d: %s" % (self.n, e))
                if not self.closed:
                    self.drain(0.5)
        except PeerGone as e:
            self.note("client gone: %s" % e)
        except Exception as e:  # noqa: BLE001 - a fake server bug must show in the log
            self.note("internal error: %r" % e, error=repr(e))
            self.srv.failures.append("conn %d: internal error %r" % (self.n, e))
        finally:
            self.close()

    def step(self, st):
        verb = st[0]
        if verb == "send":
            self.send(st[1])
        elif verb == "expect":
            line = self.readline()
            if line == b"":
                raise ScriptError("expected %r, client closed" % _text(st[1]))
            body = self.log_line(line)
            if not body.lower().startswith(st[1].lower()):
                raise ScriptError("expected %r, got %r" % (_text(st[1]), _text(body)))
        elif verb == "sleep":
            end = time.monotonic() + st[1]
            early = False
            while time.monotonic() < end:
                self.remaining()
                if not early and not self.tls:
                    early = self._early_data()
                self.srv._stop.wait(min(0.05, max(0.0, end - time.monotonic())))
        elif verb == "trickle":
            data, rate = st[1], st[2]
            self.log("S", "trickle %d bytes at %g B/s: %s" % (len(data), rate, _text(data[:S_LOG_MAX])))
            try:
                for i in range(len(data)):
                    self.send(data[i:i + 1], log=False)
                    end = time.monotonic() + 1.0 / rate
                    while time.monotonic() < end:
                        self.remaining()
                        if self._peer_closed():
                            raise PeerGone("client closed during trickle after %d bytes" % (i + 1))
                        self.srv._stop.wait(min(0.05, max(0.0, end - time.monotonic())))
            except PeerGone as e:
                self.note(str(e))
                self.close()
        elif verb in ("flood", "repeat"):
            unit = st[1] + (b"\r\n" if verb == "flood" else b"")
            count = st[2]
            per = max(1, 65536 // max(1, len(unit)))
            self.log("S", "%s %d x %r" % (verb, count, _text(unit[:S_LOG_MAX])))
            sent = 0
            try:
                while sent < count:
                    k = min(per, count - sent)
                    self.send(unit * k, log=False)
                    sent += k
                self.note("%s complete: %d units, %d bytes" % (verb, sent, sent * len(unit)))
            except PeerGone as e:
                self.note("%s stopped by the client after at most %d units (%d bytes): %s"
                          % (verb, sent, sent * len(unit), e), units=sent)
                self.close()
        elif verb == "starttls":
            if self.srv.ctx is None:
                raise ScriptError("starttls without --cert/--key")
            self.sock.settimeout(min(self.remaining(), 10.0))
            try:
                self.sock = self.srv.ctx.wrap_socket(self.sock, server_side=True)
            except (ssl.SSLError, OSError) as e:
                self.note("TLS handshake failed: %s" % e, tls_error=str(e))
                self.close()
                return
            self.tls = True
            self.note("TLS handshake done: %s %s" % (self.sock.version(), self.sock.cipher()[0]))
        elif verb == "close":
            self.note("server closes")
            self.close()
        elif verb == "reset":
            self.note("server resets (RST)")
            self.close(rst=True)
        elif verb == "hang":
            self.note("hang")
            self.drain(None)
            self.close()

    def _early_data(self):
        """Log (once) client bytes that arrive while the server sleeps, i.e.
        before its turn, without consuming them."""
        if not select.select([self.sock], [], [], 0)[0]:
            return False
        try:
            data = self.sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        if data:
            self.note("client sent data while the server was sleeping: %s" % _text(data[:S_LOG_MAX]),
                      early=True)
        return True

    def _peer_closed(self):
        try:
            p = select.poll()
            p.register(self.sock, select.POLLRDHUP | select.POLLHUP | select.POLLERR)
            return any(ev & (select.POLLRDHUP | select.POLLHUP | select.POLLERR)
                       for _, ev in p.poll(0))
        except (OSError, ValueError):
            return True


class FakeServer:
    """Scripted SMTP server on one loopback address; see the module doc."""

    def __init__(self, addr, port, script, cert=None, key=None, log_path=None,
                 connections=1, timeout=30.0, linger=5.0):
        self.addr = addr
        self.port = port
        self.steps = parse_script(script) if isinstance(script, str) else list(script)
        self.ctx = None
        if cert and key:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(cert, key)
        self.connections = connections
        self.timeout = timeout
        self.linger = linger
        self.log = []
        self.failures = []
        self._log_path = log_path
        self._log_f = open(log_path, "a") if log_path else None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = None
        self._workers = []
        self.deadline = None
        self.lsock = None
        self.served = 0

    def _log(self, conn, d, tls, data, **kw):
        e = {"t": time.time(), "conn": conn, "dir": d, "tls": tls, "data": data}
        e.update(kw)
        with self._lock:
            self.log.append(e)
            if self._log_f:
                self._log_f.write(json.dumps(e) + "\n")
                self._log_f.flush()

    def listen(self):
        fam = socket.AF_INET6 if ":" in self.addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((self.addr, self.port))
        s.listen(16)
        self.port = s.getsockname()[1]
        self.lsock = s
        self.deadline = time.monotonic() + self.timeout
        self._log(0, "I", False, "listening on %s:%d" % (self.addr, self.port))
        return self

    def start(self):
        """Listen, then serve in a background thread."""
        if self.lsock is None:
            self.listen()
        self._thread = threading.Thread(target=self.serve, daemon=True)
        self._thread.start()
        return self

    def serve(self):
        try:
            while self.served < self.connections and not self._stop.is_set():
                r = self.deadline - time.monotonic()
                if r <= 0:
                    self._log(0, "I", False, "timeout: no more connections accepted")
                    break
                self.lsock.settimeout(min(r, 0.2))
                try:
                    c, peer = self.lsock.accept()
                except socket.timeout:
                    continue
                except OSError:
                    break
                self.served += 1
                c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._log(self.served, "I", False, "accepted from %s:%d" % peer[:2])
                conn = _Conn(self, c, self.served)
                t = threading.Thread(target=conn.run, args=(self.steps,), daemon=True)
                t.start()
                self._workers.append(t)
        finally:
            try:
                self.lsock.close()
            except OSError:
                pass
            for t in self._workers:
                t.join(max(0.0, self.deadline - time.monotonic()) + 1.0)

    def wait(self, timeout=None):
        if self._thread:
            self._thread.join(timeout)
        return self

    def stop(self):
        self._stop.set()
        self.wait(5)
        if self._log_f:
            with self._lock:
                self._log_f.close()
                self._log_f = None
        return self

    def client_lines(self, conn=None):
        return [e["data"] for e in self.log
                if e["dir"] == "C" and (conn is None or e["conn"] == conn)]


def main(argv=None):
    ap = argparse.ArgumentParser(description="Scripted fake SMTP server (loopback only).")
    ap.add_argument("--listen", required=True, help="ADDR:PORT on loopback, e.g. 127.0.3.1:25")
    ap.add_argument("--script", required=True, help="script file (see the module doc)")
    ap.add_argument("--log", help="JSON-lines log file (appended)")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--connections", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30.0, help="exit after this many seconds")
    ap.add_argument("--linger", type=float, default=5.0,
                    help="after the script: read for this long or until the client closes")
    a = ap.parse_args(argv)
    host, _, port = a.listen.rpartition(":")
    host = host.strip("[]")
    try:
        import ipaddress
        if not ipaddress.ip_address(host).is_loopback:
            ap.error("--listen: loopback addresses only")
        with open(a.script) as f:
            srv = FakeServer(host, int(port), f.read(), a.cert, a.key, a.log,
                             a.connections, a.timeout, a.linger)
    except (ScriptError, ValueError, OSError) as e:
        print("fakesmtp: %s" % e, file=sys.stderr)
        return 2
    srv.listen()
    print("READY %s:%d" % (host, srv.port), flush=True)
    srv.serve()
    if srv._log_f:
        srv._log_f.close()
    for f in srv.failures:
        print("fakesmtp: %s" % f, file=sys.stderr)
    return 1 if srv.failures else 0


if __name__ == "__main__":
    sys.exit(main())
