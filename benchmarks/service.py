"""Benchmark of the one-stop settlement service on this machine (issue 4).

Starts `tuodi serve` on loopback against PostgreSQL (a fresh schema, dropped at the end), registers
persons, then:

1. **throughput**: a fixed number of settlements (`--settles`) from `--clients` concurrent clients
   over keep-alive HTTP connections; prints settlements per second and p50 / p99 latency;
2. **double payments**: a burst of duplicate submissions (every claim sent by several clients at
   once) and of concurrent claims of one person, then counts setl_ids paid more than once, duplicate
   answers that differ, and persons whose yearly totals differ from the engine (`tuodi settle`'s
   rules) run on their stored claims in order of arrival.

    .venv/bin/python benchmarks/service.py [--db postgresql+psycopg://tuodi:tuodi@127.0.0.1:5432/tuodi]

The last line is machine-readable: `settles=… per_s=… p50_ms=… p99_ms=… double_payments=…`.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, select, text

from tuodi.engine.model import Identity, Person
from tuodi.engine.settle import settle_person
from tuodi.io import read_stats
from tuodi.policy import load_policy
from tuodi.store import Database, upgrade
from tuodi.store.repository import claim_of, create_api_key
from tuodi.store.tables import claims as claims_table, person_years

ROOT = Path(__file__).resolve().parent.parent
STATS = ROOT / "examples" / "harbin" / "stats.csv"
DEFAULT_DB = os.environ.get("TUODI_BENCH_DB") or os.environ.get("TUODI_TEST_PG_URL") or \
    "postgresql+psycopg://tuodi:tuodi@127.0.0.1:5432/tuodi"
CATEGORIES = [None, None, "near_dibao", "low_income", "lifted_poverty", "dibao", "extreme_poverty"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One keep-alive HTTP connection (http.client: the load generator must stay cheap)."""

    def __init__(self, port: int, key: str):
        self.port, self.headers = port, {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        # http.client writes headers and body in two sends: without TCP_NODELAY, Nagle's algorithm
        # and the server's delayed ACK add 40 ms to every request (urllib3 and httpx set it too)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return conn

    def call(self, method: str, path: str, body=None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=data, headers=self.headers)
                r = self.conn.getresponse()
                return r.status, json.loads(r.read() or b"null")
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = self._connect()
                if attempt == 2:
                    raise
        raise AssertionError


def claim_body(setl_id: str, psn_no: str, day: str, rng: random.Random, category: str | None) -> dict:
    medfee = rng.randrange(1_000, 40_000)
    body = {"setl_id": setl_id, "psn_no": psn_no, "setl_date": day,
            "med_type": rng.choice(["inpatient", "inpatient", "chronic", "outpatient"]),
            "medfee_sumamt": f"{medfee}.{rng.randrange(100):02d}", "hifp_pay": str(int(medfee * 0.55))}
    if category in ("dibao", "extreme_poverty"):
        body["hifmi_pay"] = "0"  # their critical-illness tilt is not quantified: given by the hospital
    return body


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL (a fresh schema is made inside it)")
    ap.add_argument("--settles", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--persons", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=1, help="server processes (2 measured slower here)")
    ap.add_argument("--duplicates", type=int, default=200, help="claims sent 4 times at once in the burst")
    args = ap.parse_args()

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.db)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in args.db else "?"
    url = f"{args.db}{sep}options=-csearch_path%3D{schema}"
    server = None
    try:
        upgrade(url)
        db = Database(url)
        with db.write() as conn:
            office_key = create_api_key(conn, "insurance_office")
            hospital_key = create_api_key(conn, "hospital", "H0001")
        port = free_port()
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "tuodi"), "serve", "--db", url, "--port", str(port),
             "--policy", "harbin", "--stats", str(STATS), "--workers", str(args.workers)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                print("server did not start:", server.stderr.read().decode() if server.stderr else "", file=sys.stderr)
                return 2
            time.sleep(0.2)

        rng = random.Random(4)
        persons = {f"B{i:05d}": rng.choice(CATEGORIES) for i in range(args.persons)}
        office = Client(port, office_key)
        for psn, cat in persons.items():
            assert office.call("PUT", f"/v1/persons/{psn}", {})[0] == 200
            if cat:
                assert office.call("POST", f"/v1/persons/{psn}/identities", {"category": cat})[0] == 201

        # claims in date order per person (discharges arrive as they happen)
        per_person = args.settles // args.persons + 1
        bodies = []
        for k in range(per_person):
            for psn, cat in persons.items():
                day = f"2023-{1 + k * 11 // max(1, per_person):02d}-{rng.randrange(1, 28):02d}"
                bodies.append(claim_body(f"S{k}-{psn}", psn, day, rng, cat))
        bodies = bodies[:args.settles]

        local = threading.local()

        def client() -> Client:
            if not hasattr(local, "c"):
                local.c = Client(port, hospital_key)
            return local.c

        latencies: list[float] = []
        codes: dict[int, int] = defaultdict(int)
        lock = threading.Lock()

        def settle(body: dict) -> tuple[int, dict]:
            t0 = time.perf_counter()
            code, out = client().call("POST", "/v1/settlements", body)
            dt_ms = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(dt_ms)
                codes[code] += 1
            return code, out

        with ThreadPoolExecutor(args.clients) as pool:  # warm-up: connections, caches, plans
            list(pool.map(lambda b: client().call("POST", "/v1/settlements?dry_run=true", b), bodies[:200]))
        latencies.clear()
        start = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(settle, bodies))
        elapsed = time.perf_counter() - start
        per_s = len(bodies) / elapsed
        p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
        print(f"throughput: {len(bodies)} settlements from {args.clients} clients in {elapsed:.2f} s "
              f"= {per_s:.0f}/s; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms; "
              f"statuses {dict(codes)}; server workers {args.workers}")

        # burst: each claim sent 4 times at once, and 40 claims of one person at once
        burst_psn = next(p for p, c in persons.items() if c == "near_dibao")
        dup = [claim_body(f"D{i}-{p}", p, "2023-12-20", rng, persons[p])
               for i, p in enumerate(rng.sample(list(persons), args.duplicates))]
        same_person = [claim_body(f"P{i}", burst_psn, f"2023-12-{1 + i % 28:02d}", rng, "near_dibao")
                       for i in range(40)]
        burst = dup * 4 + same_person
        rng.shuffle(burst)
        answers: dict[str, list[tuple[int, dict]]] = defaultdict(list)

        def send(body):
            code, out = client().call("POST", "/v1/settlements", body)
            with lock:
                answers[body["setl_id"]].append((code, out))

        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(send, burst))
        paid_twice = sum(1 for a in answers.values() if [c for c, _ in a].count(201) != 1)
        cols = ("hifmi_pay", "maf_pay", "tilt_pay")
        differing = sum(1 for a in answers.values() if len({tuple(o.get(c) for c in cols) for _, o in a}) > 1)
        wrong_years = check_years(url, persons)
        double = paid_twice + differing + wrong_years
        print(f"double payments: {paid_twice} setl_id(s) paid more than once, {differing} duplicate answer(s) "
              f"that differ, {wrong_years} person-year(s) not equal to the engine on their claims "
              f"({len(answers)} setl_ids in the burst, {len(burst)} requests)")
        print(f"settles={len(bodies)} per_s={per_s:.0f} p50_ms={p50:.1f} p99_ms={p99:.1f} double_payments={double}")
        db.dispose()
        return 0
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def check_years(url: str, persons: dict[str, str | None]) -> int:
    """Person-years whose stored totals differ from the engine run on their claims in arrival order."""
    policy, stats = load_policy("harbin"), read_stats(STATS)
    db = Database(url)
    with db.read() as conn:
        rows = list(conn.execute(select(claims_table).where(claims_table.c.status == "settled")
                                 .order_by(claims_table.c.seq)))
        stored = {(r.psn_no, r.year): r for r in conn.execute(select(person_years))}
    db.dispose()
    by_person = defaultdict(list)
    for r in rows:
        by_person[r.psn_no].append(claim_of(r))
    wrong = 0
    schedules: dict = {}
    for psn, claims in by_person.items():
        ids = [Identity(psn, persons[psn])] if persons[psn] else []
        settled = settle_person(policy, Person(psn), ids, sorted(claims, key=lambda c: c.setl_date), stats,
                                schedules=schedules)
        for col in ("hifmi_pay", "maf_pay", "tilt_pay"):
            values = [getattr(s, col) for s in settled]
            total = None if any(v is None for v in values) else sum(values)
            if getattr(stored[(psn, 2023)], col) != total:
                wrong += 1
                break
    return wrong


if __name__ == "__main__":
    sys.exit(main())
