"""The real service for the fault, disk, backup and soak tests (issue 11, "Prove"): `tuodi serve`
as a subprocess that can be killed with SIGKILL, keys from `tuodi apikey create`, a private
PostgreSQL cluster that a test may stop and start, and the consistency check that compares the
stored database with `tuodi settle` run on its stored claims."""
from __future__ import annotations

import csv
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from tuodi.cli.main import app as cli
from tuodi.store.tables import claims, identities, person_years, persons, settlements

from .conftest import STATS

TUODI = str(Path(sys.executable).parent / "tuodi")
TIERS = ("hifmi_pay", "maf_pay", "tilt_pay")
PEOPLE = {  # psn_no: identity (None: insured only); the categories pay every tier Harbin quantifies
    "F01": "near_dibao", "F02": "lifted_poverty", "F03": None, "F04": "low_income", "F05": "extreme_poverty",
    "F06": "dibao", "F07": "near_dibao", "F08": None, "F09": "low_income", "F10": "lifted_poverty",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_upgrade(url: str) -> None:
    run = subprocess.run([TUODI, "db", "upgrade", "--db", url], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr


def apikey(url: str, role: str, hospital: str | None = None) -> str:
    """A key from `tuodi apikey create` (the key is alone on the last line of stdout)."""
    args = [TUODI, "apikey", "create", "--role", role, "--db", url] + (["--hospital", hospital] if hospital else [])
    run = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip().splitlines()[-1]


class LiveServer:
    """`tuodi serve` in its own process group, on a fixed port across restarts."""

    def __init__(self, url: str, log: Path):
        self.url, self.log, self.port = url, log, free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> "LiveServer":
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [TUODI, "serve", "--db", self.url, "--port", str(self.port), "--policy", "harbin",
                 "--stats", str(STATS)], stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"tuodi serve exited {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.base}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"tuodi serve did not answer in {timeout} s: {self.log.read_text()[-2000:]}")

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def pg_bindir() -> Path | None:
    """The newest PostgreSQL server binaries of Debian's layout (/usr/lib/postgresql/N/bin)."""
    root = Path("/usr/lib/postgresql")
    found = sorted((p for p in root.glob("*/bin") if (p / "initdb").exists() and (p / "pg_ctl").exists()),
                   key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on a free port that a test may stop and start: never the
    shared cluster on 5432. Runs as the `postgres` OS user when the tests run as root (the server
    refuses root)."""

    def __init__(self, bindir: Path):
        self.bindir, self.port = bindir, free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tuodi-pg-"))
        self.data, self.logfile = self.dir / "data", self.dir / "server.log"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            import pwd

            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://tuodi@127.0.0.1:{self.port}/postgres?connect_timeout=5"

    def _run(self, *args: str, timeout: float = 60) -> None:
        run = subprocess.run(self.as_user + [str(self.bindir / args[0]), *args[1:]], capture_output=True,
                             text=True, timeout=timeout)
        assert run.returncode == 0, f"{args[0]}: {run.stdout}{run.stderr}"

    def init(self) -> "PrivatePostgres":
        self._run("initdb", "-D", str(self.data), "-U", "tuodi", "--auth=trust", "-E", "UTF8",
                  "--no-sync", "--locale=C")
        return self

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.logfile), "-w", "-t", "60", "start", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                  "-c max_connections=100")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-t", "60", "-m", mode, "stop")

    def destroy(self) -> None:
        try:
            if (self.data / "postmaster.pid").exists():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def register(base: str, office_key: str) -> None:
    office = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {office_key}"}, timeout=30)
    for psn, category in PEOPLE.items():
        assert office.put(f"/v1/persons/{psn}", json={}).status_code == 200
        if category:
            r = office.post(f"/v1/persons/{psn}/identities", json={"category": category})
            assert r.status_code == 201, r.text
    office.close()


def make_claims(seed: int, per_person: int, prefix: str = "K") -> list[dict]:
    """Claims of the Harbin 2023 year in random date order, so later arrivals move earlier ones."""
    rng = random.Random(seed)
    out = []
    for i in range(per_person):
        for psn, category in PEOPLE.items():
            medfee = rng.randrange(2_000, 60_000)
            body = dict(setl_id=f"{prefix}{i}-{psn}", psn_no=psn,
                        setl_date=f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                        med_type=rng.choice(["inpatient", "inpatient", "chronic", "outpatient"]),
                        medfee_sumamt=f"{medfee}.{rng.randrange(100):02d}",
                        hifp_pay=str(int(medfee * rng.uniform(0.4, 0.7))))
            if category in ("extreme_poverty", "dibao"):
                body["hifmi_pay"] = "0"  # their critical-illness tilt is unquantified: given by the claim
            out.append(body)
    rng.shuffle(out)
    return out


def fen(text: str | None) -> int | None:
    return None if text is None else int(Decimal(text) * 100)


def stored_claim_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(select(claims.c.setl_id, func.count()).group_by(claims.c.setl_id)).all())
    finally:
        engine.dispose()


def stored_claims(url: str) -> dict[str, dict]:
    """Every stored claim with its settlement (first and net amounts), by setl_id."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(claims, *[settlements.c[c] for c in TIERS + tuple(f"net_{t}" for t in TIERS)])
                                .join(settlements, settlements.c.seq == claims.c.seq)).mappings().all()
    finally:
        engine.dispose()
    return {r["setl_id"]: dict(r) for r in rows}


def _yuan(v: int | None) -> str:
    return "" if v is None else f"{Decimal(v) / 100:.2f}"


def check_consistent(url: str, workdir: Path) -> dict[str, int]:
    """Every stored person-year equals `tuodi settle` run on the person's stored (not reversed)
    claims in order of arrival, claim by claim (each claim's net amounts) and in total (the yearly
    accumulators), and no year lacks or has a half-written row. Returns counts for the report."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            person_rows = conn.execute(select(persons)).mappings().all()
            identity_rows = conn.execute(select(identities)).mappings().all()
            claim_rows = conn.execute(select(claims, settlements.c.seq.label("settlement_seq"),
                                             *[settlements.c[f"net_{t}"] for t in TIERS])
                                      .outerjoin(settlements, settlements.c.seq == claims.c.seq)
                                      .order_by(claims.c.seq)).mappings().all()
            year_rows = conn.execute(select(person_years)).mappings().all()
    finally:
        engine.dispose()
    half = [r["setl_id"] for r in claim_rows if r["settlement_seq"] is None]
    assert not half, f"claims stored without their settlement: {half}"
    live = [r for r in claim_rows if r["status"] == "settled"]
    workdir.mkdir(parents=True, exist_ok=True)
    with open(workdir / "persons.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["psn_no", "insutype", "brdy", "admdvs", "late_stage_major_disease"])
        for p in person_rows:
            w.writerow([p["psn_no"], p["insutype"], p["brdy"] or "", p["admdvs"] or "",
                        "true" if p["late_stage_major_disease"] else "false"])
    with open(workdir / "identities.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["psn_no", "category", "begndate", "enddate"])
        for i in identity_rows:
            w.writerow([i["psn_no"], i["category"], i["begndate"] or "", i["enddate"] or ""])
    columns = ["setl_id", "psn_no", "setl_date", "med_type", "medfee_sumamt", "fulamt_ownpay_amt",
               "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt", "hifp_pay", "hifmi_pay", "referred",
               "in_province", "out_of_area"]
    with open(workdir / "claims.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in live:  # in order of arrival: the service's order within a day
            w.writerow([r["setl_id"], r["psn_no"], r["setl_date"], r["med_type"], _yuan(r["medfee_sumamt"]),
                        _yuan(r["fulamt_ownpay_amt"]), _yuan(r["overlmt_selfpay"]), _yuan(r["preselfpay_amt"]),
                        _yuan(r["inscp_scp_amt"]), _yuan(r["hifp_pay"]), _yuan(r["hifmi_pay_given"]),
                        str(bool(r["referred"])).lower(), str(bool(r["in_province"])).lower(),
                        str(bool(r["out_of_area"])).lower()])
    run = CliRunner().invoke(cli, ["settle", "--policy", "harbin", "--persons", str(workdir / "persons.csv"),
                                   "--identities", str(workdir / "identities.csv"),
                                   "--claims", str(workdir / "claims.csv"), "--stats", str(STATS),
                                   "--out", str(workdir / "out.csv")])
    assert run.exit_code == 0, run.output
    with open(workdir / "out.csv", encoding="utf-8-sig") as f:
        engine_rows = {r["setl_id"]: r for r in csv.DictReader(f)}

    expected: dict[tuple[str, int], dict] = defaultdict(lambda: {"claims": 0, "medfee_sumamt": 0,
                                                                 **{t: 0 for t in TIERS}})
    for r in live:
        want = {t: fen(engine_rows[r["setl_id"]][t] or None) for t in TIERS}
        got = {t: r[f"net_{t}"] for t in TIERS}
        assert got == want, (r["setl_id"], got, want)
        year = expected[(r["psn_no"], r["year"])]
        year["claims"] += 1
        year["medfee_sumamt"] += r["medfee_sumamt"]
        for t in TIERS:
            year[t] = None if year[t] is None or want[t] is None else year[t] + want[t]
    stored_years = {(y["psn_no"], y["year"]): y for y in year_rows}
    assert set(expected) <= set(stored_years), set(expected) - set(stored_years)
    for key, y in stored_years.items():
        want = expected.get(key, {"claims": 0, "medfee_sumamt": 0, **{t: 0 for t in TIERS}})
        got = {k: y[k] for k in want}
        assert got == want, (key, got, want)
    return {"claims": len(claim_rows), "live": len(live), "years": len(stored_years)}


class Burst:
    """Hospitals sending settlements from several threads, each reversing some of what it got
    acknowledged. Records every answer; a transport error (the server gone) leaves the request
    unacknowledged and ends that thread. With `retry_503`, a 503 is retried with the same body
    after a pause, as a client is told to (Retry-After)."""

    def __init__(self, base: str, key: str, bodies: list[dict], reverse_every: int = 5, threads: int = 4,
                 retry_503: bool = False, deadline_s: float = 90):
        self.base, self.key, self.threads = base, key, threads
        self.queue = list(bodies)
        self.reverse_every, self.retry_503 = reverse_every, retry_503
        self.deadline = time.monotonic() + deadline_s
        self.acked: dict[str, tuple[int, dict]] = {}      # setl_id -> (201|200, body) of the settlement
        self.reversed: dict[str, dict] = {}               # setl_id -> the acknowledged reversal
        self.unacked: list[tuple[str, dict]] = []         # ("settle"|"reverse", claim body)
        self.refusals: list[tuple[int, dict, dict]] = []  # every answer other than 200/201: status, body, headers
        self.lock = threading.Lock()
        self.workers = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def start(self) -> "Burst":
        for t in self.workers:
            t.start()
        return self

    def join(self, timeout: float = 120) -> None:
        for t in self.workers:
            t.join(timeout)
        assert not any(t.is_alive() for t in self.workers), "a client hung"

    def _call(self, client: httpx.Client, path: str, body: dict | None) -> httpx.Response:
        while True:
            r = client.post(path, json=body)
            if r.status_code in (200, 201) or not (self.retry_503 and r.status_code == 503):
                return r
            with self.lock:
                self.refusals.append((r.status_code, r.json(), dict(r.headers)))
            if time.monotonic() > self.deadline:
                return r
            time.sleep(0.2)

    def _run(self) -> None:
        client = httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {self.key}"},
                              timeout=httpx.Timeout(20.0, connect=5.0))
        n = 0
        try:
            while True:
                with self.lock:
                    if not self.queue:
                        return
                    body = self.queue.pop()
                step = "settle"
                try:
                    r = self._call(client, "/v1/settlements", body)
                    if r.status_code not in (200, 201):
                        with self.lock:
                            self.refusals.append((r.status_code, r.json(), dict(r.headers)))
                        continue
                    with self.lock:
                        self.acked[body["setl_id"]] = (r.status_code, r.json())
                    n += 1
                    if n % self.reverse_every == 0:
                        step = "reverse"
                        r = self._call(client, f"/v1/settlements/{body['setl_id']}/reversal", None)
                        with self.lock:
                            if r.status_code == 200:
                                self.reversed[body["setl_id"]] = r.json()
                            else:
                                self.refusals.append((r.status_code, r.json(), dict(r.headers)))
                except httpx.TransportError:
                    with self.lock:
                        self.unacked.append((step, body))
                    return
        finally:
            client.close()


def check_acknowledged(url: str, burst: Burst) -> None:
    """Every acknowledged settlement is stored exactly once, with the amounts it was told; every
    acknowledged reversal is stored."""
    counts = stored_claim_counts(url)
    assert all(n == 1 for n in counts.values())
    stored = stored_claims(url)
    for setl_id, (_status, body) in burst.acked.items():
        assert setl_id in stored, f"acknowledged settlement {setl_id} lost"
        assert {t: stored[setl_id][t] for t in TIERS} == {t: fen(body[t]) for t in TIERS}, setl_id
    for setl_id in burst.reversed:
        assert stored[setl_id]["status"] == "reversed", f"acknowledged reversal of {setl_id} lost"


def retry_unacknowledged(base: str, key: str, url: str, burst: Burst) -> int:
    """Send every unacknowledged request again with the same setl_id and body: it succeeds, a
    settlement is stored once, and one already stored answers with its stored amounts (200)."""
    before = stored_claims(url)
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=20)
    for step, body in burst.unacked:
        sid = body["setl_id"]
        if step == "settle":
            r = client.post("/v1/settlements", json=body)
            assert r.status_code == (200 if sid in before else 201), (sid, r.status_code, r.text)
            if sid in before:
                assert {t: fen(r.json()[t]) for t in TIERS} == {t: before[sid][t] for t in TIERS}, sid
        else:
            r = client.post(f"/v1/settlements/{sid}/reversal")
            assert r.status_code == 200, (sid, r.text)
    client.close()
    assert all(n == 1 for n in stored_claim_counts(url).values())
    return len(burst.unacked)
