#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A counting SMTP responder for the batch tests: many listening addresses
in one process, each either a minimal healthy MTA or a tarpit, and a count of
the connections open at once per address (what a per-client connection
limit at a real MTA would see).  Standard library only; loopback only.

  countsmtp.py --ok 127.0.6.1 --ok 127.0.6.2 --tarpit 127.0.6.9 \\
               [--port 25] [--timeout S] --report FILE

"ok": 220 greeting, EHLO (PIPELINING, 8BITMIME; no STARTTLS), 250 to
MAIL/RCPT/RSET/NOOP, 221 to QUIT.  "tarpit": accepts, never greets, holds
the connection until the client goes.  Prints "READY" once every address
listens; on SIGTERM or after --timeout it writes the report (JSON: per
address, "max_open" and "connections") and exits 0.
"""
import argparse
import asyncio
import json
import signal

stats = {}


async def serve(reader, writer, addr, mode):
    st = stats[addr]
    st["open"] += 1
    st["connections"] += 1
    st["max_open"] = max(st["max_open"], st["open"])
    try:
        if mode == "tarpit":
            while await reader.read(4096):
                pass
            return
        writer.write(b"220 count.test ESMTP counting\r\n")
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO",):
                writer.write(b"250-count.test\r\n250-PIPELINING\r\n250 8BITMIME\r\n")
            elif verb == b"HELO":
                writer.write(b"250 count.test\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 Bye\r\n")
                await writer.drain()
                return
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                writer.write(b"250 2.0.0 Ok\r\n")
            else:
                writer.write(b"502 5.5.2 Not implemented\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        st["open"] -= 1
        writer.close()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ok", action="append", default=[])
    ap.add_argument("--tarpit", action="append", default=[])
    ap.add_argument("--port", type=int, default=25)
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--report", required=True)
    a = ap.parse_args()
    servers = []
    for mode, addrs in (("ok", a.ok), ("tarpit", a.tarpit)):
        for addr in addrs:
            if not addr.startswith("127."):
                raise SystemExit("loopback addresses only")
            stats[addr] = {"mode": mode, "open": 0, "max_open": 0, "connections": 0}
            servers.append(await asyncio.start_server(
                lambda r, w, addr=addr, mode=mode: serve(r, w, addr, mode), addr, a.port,
                backlog=256))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("READY", flush=True)
    try:
        await asyncio.wait_for(stop.wait(), a.timeout)
    except asyncio.TimeoutError:
        pass
    for s in servers:
        s.close()
    with open(a.report, "w") as f:
        json.dump(stats, f)


asyncio.run(main())
