"""Benchmark of the one-stop settlement service on this machine (issue 4).

Starts `tuodi serve` on loopback against PostgreSQL (a fresh schema, dropped at the end), registers
persons, then:

1. **throughput**: a fixed number of settlements (`--settles`) from `--clients` concurrent clients
   over keep-alive HTTP connections; prints settlements per second and p50 / p99 latency;
2. **double payments**: a burst of duplicate submissions (every claim sent by several clients at
   once) and of concurrent claims of one person, then counts setl_ids paid more than once, duplicate
   answers that differ, and persons whose yearly totals differ from the engine (`tuodi settle`'s
   rules) run on their stored claims in order of arrival.

3. **soak** (`--soak SECONDS`): after the throughput run, settlements at 80% of the rate it
   measured (`--soak-load`), for SECONDS, spread over persons and the years 2023–2027 (Harbin's
   policy is in force then) so that each person-year grows slowly, with one request in 20 a
   reversal of an earlier soak claim and one in 20 a read of a year. Prints, per interval
   (`--interval`, 60 s), the rate, errors and p50 / p99 latency, and the server's resident memory
   (RSS, from /proc) after the first interval (warm-up) and at the end.

    .venv/bin/python benchmarks/service.py [--db postgresql+psycopg://tuodi:tuodi@127.0.0.1:5432/tuodi]
    .venv/bin/python benchmarks/service.py --soak 600        # the 10-minute soak (README figures)

The last line is machine-readable: `settles=… per_s=… p50_ms=… p99_ms=… double_payments=…`, and
with `--soak`, then `soak_s=… rate=… requests=… errors=… rss_warm_mb=… rss_end_mb=… rss_growth_mb=…
p50_ms=… p99_ms=… p99_max_interval_ms=…`.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
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
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run `finally`: stop the server, drop the schema
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=DEFAULT_DB, help="PostgreSQL URL (a fresh schema is made inside it)")
    ap.add_argument("--settles", type=int, default=3000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--persons", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=1, help="server processes (2 measured slower here)")
    ap.add_argument("--duplicates", type=int, default=200, help="claims sent 4 times at once in the burst")
    ap.add_argument("--soak", type=float, default=0, help="seconds of soak at --soak-load of the measured peak")
    ap.add_argument("--soak-load", type=float, default=0.8, help="fraction of the measured rate (0.8)")
    ap.add_argument("--soak-persons", type=int, default=2000, help="persons the soak settles for")
    ap.add_argument("--interval", type=float, default=60, help="seconds per soak report line (the first is warm-up)")
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

        soak_line = ""
        if args.soak > 0:
            soak_line = soak(args, port, office, hospital_key, server.pid, per_s * args.soak_load, rng)

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
        print(f"settles={len(bodies)} per_s={per_s:.0f} p50_ms={p50:.1f} p99_ms={p99:.1f} double_payments={double}"
              + (f" {soak_line}" if soak_line else ""))
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


def rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def soak(args, port: int, office: Client, key: str, server_pid: int, rate: float, rng: random.Random) -> str:
    """Requests at a fixed `rate` for `args.soak` seconds; returns the machine-readable summary."""
    persons = {f"S{i:05d}": rng.choice(CATEGORIES) for i in range(args.soak_persons)}
    local = threading.local()

    def client(kind: str) -> Client:
        """The hospital's connection of this thread, or the insurance office's (registry, years)."""
        name = "o" if kind in ("person", "year") else "h"
        if not hasattr(local, name):
            setattr(local, name, Client(port, office_key if name == "o" else key))
        return getattr(local, name)

    office_key = office.headers["Authorization"].removeprefix("Bearer ")

    def register(item):
        psn, cat = item
        assert client("person").call("PUT", f"/v1/persons/{psn}", {})[0] == 200
        if cat:
            assert client("person").call("POST", f"/v1/persons/{psn}/identities", {"category": cat})[0] == 201

    with ThreadPoolExecutor(args.clients) as pool:
        list(pool.map(register, persons.items()))
    slots = [(psn, year) for year in range(2023, 2028) for psn in persons]  # each person-year in turn
    lock = threading.RLock()
    ticket = iter(range(10**9))
    acked: list[str] = []
    samples: list[tuple[float, float, bool]] = []  # (seconds since start, latency ms, error)
    rss: list[tuple[float, float, float]] = []  # (seconds since start, RSS MB, server CPU s)
    errors: dict[str, int] = defaultdict(int)
    late = [0.0]  # how far behind its schedule a request was sent, at most (s)
    start = time.perf_counter()
    end = start + args.soak

    def request(k: int) -> tuple[str, str, str, dict | None, tuple[int, ...]]:
        if k % 20 == 10:
            with lock:
                victim = acked[len(acked) // 2] if acked else None  # an earlier claim, not the newest
                if victim:
                    acked.remove(victim)
            if victim:
                return "reversal", "POST", f"/v1/settlements/{victim}/reversal", {"reason": "soak"}, (200,)
        if k % 20 == 15:
            psn, year = slots[(k // 2) % len(slots)]
            return "year", "GET", f"/v1/persons/{psn}/years/{year}", None, (200,)
        psn, year = slots[k % len(slots)]
        body = claim_body(f"Z{k}", psn, f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", rng,
                          persons[psn])
        return "settle", "POST", "/v1/settlements", body, (201,)

    def worker() -> None:
        while True:
            with lock:
                k = next(ticket)
                kind, method, path, body, ok = request(k)
            due = start + k / rate
            now = time.perf_counter()
            if due >= end or now >= end:
                return
            if due > now:
                time.sleep(due - now)
            t0 = time.perf_counter()
            with lock:
                late[0] = max(late[0], t0 - due)
            try:
                code, _out = client(kind).call(method, path, body)
                failed = code not in ok
                if failed:
                    errors[f"{code} {kind}"] += 1
                elif kind == "settle":
                    with lock:
                        acked.append(body["setl_id"])
            except Exception as e:  # a transport error is an error of the soak too
                failed = True
                errors[type(e).__name__] += 1
            with lock:
                samples.append((t0 - start, (time.perf_counter() - t0) * 1000, failed))

    def sample_rss() -> None:
        while time.perf_counter() < end:
            rss.append((time.perf_counter() - start, rss_mb(server_pid), cpu_s(server_pid)))
            time.sleep(1)

    sampler = threading.Thread(target=sample_rss, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=worker) for _ in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    sampler.join()
    rss.append((time.perf_counter() - start, rss_mb(server_pid), cpu_s(server_pid)))

    print(f"soak: {args.soak:.0f} s at {rate:.0f} requests/s ({args.soak_load:.0%} of the measured rate), "
          f"{len(persons)} persons over 2023-2027, 1 in 20 a reversal, 1 in 20 a year read")
    intervals = max(1, int(round(args.soak / args.interval)))
    p99s = []
    for i in range(intervals):
        lo, hi = i * args.interval, (i + 1) * args.interval
        lat = [ms for t, ms, _e in samples if lo <= t < hi]
        errs = sum(1 for t, _ms, e in samples if lo <= t < hi and e)
        mem = [(m, c) for t, m, c in rss if lo <= t < hi + 1]
        if not lat:
            continue
        p99s.append(percentile(lat, 0.99))
        cpu_ms = (mem[-1][1] - mem[0][1]) * 1000 / len(lat) if len(mem) > 1 else 0
        print(f"  {lo:5.0f}-{hi:5.0f} s: {len(lat) / args.interval:6.0f}/s  errors {errs}  p50 "
              f"{percentile(lat, 0.5):6.1f} ms  p99 {p99s[-1]:6.1f} ms  rss {mem[-1][0] if mem else 0:6.1f} MB  "
              f"server CPU {cpu_ms:4.1f} ms/request")
    warm = [m for t, m, _c in rss if t <= args.interval]
    rss_warm, rss_end = (warm[-1] if warm else rss[0][1]), rss[-1][1]
    lat = [ms for _t, ms, _e in samples]
    n_err = sum(1 for *_x, e in samples if e)
    achieved = len(samples) / args.soak
    print(f"soak: {len(samples)} requests ({achieved:.0f}/s), errors {n_err} {dict(errors) if errors else ''}; "
          f"server RSS {rss_warm:.1f} MB after warm-up, {rss_end:.1f} MB at the end "
          f"(growth {rss_end - rss_warm:+.1f} MB, peak {max(m for _t, m, _c in rss):.1f} MB); "
          f"requests sent at most {late[0]:.2f} s behind schedule")
    return (f"soak_s={args.soak:.0f} rate={achieved:.0f} requests={len(samples)} errors={n_err} "
            f"rss_warm_mb={rss_warm:.1f} rss_end_mb={rss_end:.1f} rss_growth_mb={rss_end - rss_warm:.1f} "
            f"p50_ms={percentile(lat, 0.5):.1f} p99_ms={percentile(lat, 0.99):.1f} "
            f"p99_max_interval_ms={max(p99s):.1f} late_s={late[0]:.2f}")


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
        if psn not in persons:  # the soak's persons
            continue
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
