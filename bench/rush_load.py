"""Load generator of bench_rush.py, run as its own process (asyncio + aiohttp); prints one JSON object.

    rush_load.py closed --base URL --slots 7 --clients 200 --duration 20 --tag hot
    rush_load.py open   --base URL --slots 8,9,10 --rate 200 --duration 20 --tag open
    rush_load.py sellout --base URL --slots 11 --clients 200 --tag sellout
    rush_load.py get    --base URL --path /ping --clients 200 --duration 10
    rush_load.py browse --base URL --paths /,/usines,/carte --clients 4 --duration 20

- closed: each of N clients books, waits for the answer, books again, for D seconds.
- open: bookings arrive on a fixed schedule (rate per second, spread over the slots in turn), whatever
  the server does; a request's latency runs from its *scheduled* time, so a stalled server shows as
  latency instead of silently slowing the arrivals (no coordinated omission).
- sellout: N clients book until each has been told `slot_full` (or 60 s pass).
- get: N clients fetch a path in a loop (the bare-endpoint reference).
- browse: N visitors fetch the paths in turn (each starts at another path), reading each page --think
  seconds (±50 %) before the next: latency per path.

A booking answered 503 `busy` (admission control) is sent again, the same body with the same
Idempotency-Key, after its Retry-After: as a well-behaved client (and the booking page) does. Its latency is
counted from the first send to the final answer, so waiting in line shows.

Every booking uses its own e-mail address (editions limit bookings per address) and Idempotency-Key,
party sizes 1–2. The answer lists every 201's booking id, so the caller can check none was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections import Counter

import aiohttp

TIMEOUT = aiohttp.ClientTimeout(total=60)


class Recorder:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.created: list[list[int]] = []  # [booking id, slot id, party size]
        self.errors: Counter[str] = Counter()
        self.sequence = 0
        self.busy = 0  # 503 busy answers, each followed by a wait and the same request again

    def payload(self) -> tuple[dict, str]:
        self.sequence += 1
        email = f"{self.tag}-{self.sequence}-{uuid.uuid4().hex[:8]}@rush.example.org"
        body = {"party_size": random.choice((1, 2)), "name": "Client Rush", "email": email, "consent": True}
        return body, uuid.uuid4().hex

    async def book(self, session: aiohttp.ClientSession, base: str, slot: int, started: float) -> str:
        """One booking; latency from `started` (send time, or the scheduled time in open loop) to the final
        answer, after as many waits for Retry-After as the server asks."""
        body, key = self.payload()
        while True:
            try:
                async with session.post(
                    f"{base}/api/v1/slots/{slot}/bookings", json=body, headers={"Idempotency-Key": key}
                ) as response:
                    data = await response.json(content_type=None)
                    status = response.status
                    retry_after = response.headers.get("Retry-After")
            except (TimeoutError, aiohttp.ClientError, json.JSONDecodeError) as exc:
                self.errors[type(exc).__name__] += 1
                return "error"
            if status == 503 and (data.get("error") or {}).get("code") == "busy":
                self.busy += 1
                await asyncio.sleep(float(retry_after or 1) * random.uniform(0.8, 1.2))
                continue
            break
        self.latencies.append(time.perf_counter() - started)
        code = (
            str(status)
            if status in (200, 201)
            else f"{status} {(data.get('error') or {}).get('code', '')}".strip()
        )
        self.statuses[code] += 1
        if status == 201:
            self.created.append([data["id"], slot, body["party_size"]])
        return code

    def result(self, elapsed: float, **extra) -> dict:
        ok = self.statuses.get("201", 0)
        return {
            "elapsed_s": round(elapsed, 3),
            "requests": sum(self.statuses.values()) + sum(self.errors.values()),
            "statuses": dict(self.statuses),
            "errors": dict(self.errors),
            "confirmed": ok,
            "confirmed_per_s": round(ok / elapsed, 1) if elapsed else 0,
            "latency_ms": percentiles(self.latencies),
            "busy_answers": self.busy,
            "created": self.created,
            **extra,
        }


def percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1] * 1000, 1)}


def session(limit: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=limit), timeout=TIMEOUT)


async def closed(args: argparse.Namespace, seconds: float | None = None, until: str | None = None) -> dict:
    """Each client books, waits for the answer and books again, for `seconds` (default --duration) or
    until it is answered `until`."""
    recorder, slot = Recorder(args.tag), args.slots[0]
    deadline = time.perf_counter() + (args.duration if seconds is None else seconds)

    async def client(http: aiohttp.ClientSession) -> None:
        while time.perf_counter() < deadline:
            if await recorder.book(http, args.base, slot, time.perf_counter()) == until:
                return

    async with session(args.clients) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(args.clients)))
        elapsed = time.perf_counter() - started
    return recorder.result(elapsed, clients=args.clients)


async def open_loop(args: argparse.Namespace) -> dict:
    recorder = Recorder(args.tag)
    total = int(args.rate * args.duration)
    late_sends = 0
    async with session(0) as http:  # no pool limit: arrivals never wait for a free connection
        started = time.perf_counter()
        tasks = []
        for i in range(total):
            scheduled = started + i / args.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            elif delay < -0.01:
                late_sends += 1  # the generator itself fell behind (it counts in the latency anyway)
            slot = args.slots[i % len(args.slots)]
            tasks.append(asyncio.create_task(recorder.book(http, args.base, slot, scheduled)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
    return recorder.result(
        elapsed, rate=args.rate, scheduled=total, late_sends=late_sends, slots=len(args.slots)
    )


async def sellout(args: argparse.Namespace) -> dict:
    return await closed(args, seconds=60, until="409 slot_full")


async def get(args: argparse.Namespace) -> dict:
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    errors = 0
    deadline = time.perf_counter() + args.duration

    async def client(http: aiohttp.ClientSession) -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            sent = time.perf_counter()
            try:
                async with http.get(f"{args.base}{args.path}") as response:
                    await response.read()
                    statuses[response.status] += 1
            except (TimeoutError, aiohttp.ClientError):
                errors += 1
                continue
            latencies.append(time.perf_counter() - sent)

    async with session(args.clients) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(args.clients)))
        elapsed = time.perf_counter() - started
    ok = statuses.get(200, 0)
    return {
        "elapsed_s": round(elapsed, 3),
        "statuses": {str(k): v for k, v in statuses.items()},
        "errors": errors,
        "requests_per_s": round(ok / elapsed, 1),
        "latency_ms": percentiles(latencies),
        "clients": args.clients,
    }


async def browse(args: argparse.Namespace) -> dict:
    """Visitors reading pages while others book: each fetches the paths in turn (starting at its own)."""
    latencies: dict[str, list[float]] = {path: [] for path in args.paths}
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    deadline = time.perf_counter() + args.duration

    async def visitor(http: aiohttp.ClientSession, first: int) -> None:
        turn = first
        while time.perf_counter() < deadline:
            path = args.paths[turn % len(args.paths)]
            turn += 1
            sent = time.perf_counter()
            try:
                async with http.get(f"{args.base}{path}") as response:
                    await response.read()
                    statuses[str(response.status)] += 1
            except (TimeoutError, aiohttp.ClientError) as exc:
                errors[type(exc).__name__] += 1
                continue
            latencies[path].append(time.perf_counter() - sent)
            if args.think:
                await asyncio.sleep(args.think * random.uniform(0.5, 1.5))

    async with session(args.clients) as http:
        started = time.perf_counter()
        await asyncio.gather(*(visitor(http, i) for i in range(args.clients)))
        elapsed = time.perf_counter() - started
    every = [value for values in latencies.values() for value in values]
    return {
        "elapsed_s": round(elapsed, 3),
        "statuses": dict(statuses),
        "errors": dict(errors),
        "pages_per_s": round(len(every) / elapsed, 1) if elapsed else 0,
        "latency_ms": percentiles(every),
        "by_path": {path: {"n": len(values), **percentiles(values)} for path, values in latencies.items()},
        "clients": args.clients,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["closed", "open", "sellout", "get", "browse"])
    parser.add_argument("--base", required=True, help="http://127.0.0.1:PORT")
    parser.add_argument("--slots", type=lambda s: [int(x) for x in s.split(",")], default=[])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--duration", type=float, default=20)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--path", default="/ping")
    parser.add_argument("--paths", type=lambda s: s.split(","), default=["/"])
    parser.add_argument("--think", type=float, default=0, help="browse: seconds a visitor reads a page")
    parser.add_argument("--tag", default="rush")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    random.seed(args.seed)
    run = {"closed": closed, "open": open_loop, "sellout": sellout, "get": get, "browse": browse}[args.mode]
    result = asyncio.run(run(args))
    result["generator_cpu_s"] = round(time.process_time(), 2)  # the load generator's own share of the cores
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
