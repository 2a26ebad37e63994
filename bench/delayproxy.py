#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A UDP DNS forwarder that delays every answer by a fixed time.

Benchmark helper only: it makes DNS latency visible on loopback, so the
DNS stage's concurrency can be measured (k queries in flight at once take
about one delay, not k).  Listens on LISTEN, forwards to UPSTREAM; both
loopback addresses inside the lab namespace.
Usage: delayproxy.py LISTEN_ADDR UPSTREAM_ADDR DELAY_MS SECONDS_TO_LIVE
"""
import heapq
import select
import socket
import sys
import time


def main():
    listen, upstream, delay, ttl = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000, float(sys.argv[4])
    front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    front.bind((listen, 53))
    back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    back.bind((listen, 0))
    pending = {}   # DNS id -> client address
    queue = []     # (due, seq, payload, client)
    seq = 0
    end = time.monotonic() + ttl
    while time.monotonic() < end:
        timeout = max(0.0, min(end, queue[0][0] if queue else end) - time.monotonic())
        r, _, _ = select.select([front, back], [], [], timeout)
        now = time.monotonic()
        if front in r:
            data, client = front.recvfrom(4096)
            if len(data) >= 2:
                pending[data[:2]] = client
                back.sendto(data, (upstream, 53))
        if back in r:
            data, _ = back.recvfrom(65535)
            client = pending.pop(data[:2], None)
            if client is not None:
                seq += 1
                heapq.heappush(queue, (now + delay, seq, data, client))
        while queue and queue[0][0] <= time.monotonic():
            _, _, data, client = heapq.heappop(queue)
            front.sendto(data, client)


if __name__ == "__main__":
    main()
