"""Exactly once, and serialised per person: concurrent settles, duplicate submissions and
reversals over real HTTP leave each person's year equal to what `tuodi settle` computes on the
claims that remain, taken in order of arrival."""
from __future__ import annotations

import csv
import random
import socket
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import uvicorn
from sqlalchemy import select
from typer.testing import CliRunner

from tuodi.cli.main import app as cli
from tuodi.service.app import create_app
from tuodi.store import Database
from tuodi.store.tables import claims as claims_table

from .conftest import STATS, make_keys

AMOUNTS = ("hifmi_pay", "maf_pay", "tilt_pay", "fund_pay_sumamt")
PEOPLE = {  # psn_no: identity (None: insured only)
    "C1": "near_dibao", "C2": "lifted_poverty", "C3": None, "C4": "low_income", "C5": "extreme_poverty",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, url: str):
        self.port = free_port()
        self.app = create_app(url, "harbin", STATS)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)
        self.app.state.db.dispose()


def make_claims(rng: random.Random) -> list[dict]:
    out = []
    for psn in PEOPLE:
        for i in range(8):
            medfee = rng.randrange(2_000, 60_000)
            hifp = int(medfee * rng.uniform(0.4, 0.7))
            body = dict(setl_id=f"{psn}-{i}", psn_no=psn, setl_date=f"2023-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                        med_type=rng.choice(["inpatient", "inpatient", "chronic", "outpatient"]),
                        medfee_sumamt=f"{medfee}.{rng.randrange(100):02d}", hifp_pay=str(hifp))
            if PEOPLE[psn] == "extreme_poverty":
                body["hifmi_pay"] = "0"  # the critical-illness tilt is not quantified: given by the claim
            out.append(body)
    return out


def test_concurrent_settles_duplicates_and_reversals_equal_tuodi_settle(db_url, tmp_path):
    keys = make_keys(db_url)
    rng = random.Random(20230501)
    bodies = make_claims(rng)
    to_reverse = {b["setl_id"] for b in rng.sample(bodies, 6)}
    statuses: dict[str, list[int]] = defaultdict(list)
    results: dict[str, list[dict]] = defaultdict(list)
    lock = threading.Lock()

    with Server(db_url) as base:
        office = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['insurance_office']}"})
        for psn, category in PEOPLE.items():
            assert office.put(f"/v1/persons/{psn}", json={}).status_code == 200
            if category:
                assert office.post(f"/v1/persons/{psn}/identities", json={"category": category}).status_code == 201

        local = threading.local()

        def client() -> httpx.Client:
            if not hasattr(local, "c"):
                local.c = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {keys['hospital']}"},
                                       timeout=30)
            return local.c

        def submit(body: dict) -> None:
            r = client().post("/v1/settlements", json=body)
            with lock:
                statuses[body["setl_id"]].append(r.status_code)
                results[body["setl_id"]].append(r.json())
            if body["setl_id"] in to_reverse and r.status_code == 201:
                rv = client().post(f"/v1/settlements/{body['setl_id']}/reversal")
                assert rv.status_code == 200, rv.text

        tasks = bodies + bodies  # every claim sent twice, at once
        rng.shuffle(tasks)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(submit, tasks))

        years = {psn: office.get(f"/v1/persons/{psn}/years/2023").json() for psn in PEOPLE}

    # exactly once: one 201 and one 200 per setl_id, the same split both times
    for setl_id, codes in statuses.items():
        assert sorted(codes) == [200, 201], (setl_id, codes)
        first, second = results[setl_id]
        cols = ("hifmi_pay", "maf_pay", "tilt_pay", "fund_pay_sumamt")
        assert [first[c] for c in cols] == [second[c] for c in cols], setl_id

    # the claims that remain, in order of arrival, through `tuodi settle`
    db = Database(db_url)
    with db.read() as conn:
        arrived = [r.setl_id for r in conn.execute(select(claims_table.c.setl_id, claims_table.c.status)
                                                   .order_by(claims_table.c.seq)) if r.status == "settled"]
    db.dispose()
    assert len(arrived) == len(bodies) - len(to_reverse)
    by_id = {b["setl_id"]: b for b in bodies}
    columns = ["setl_id", "psn_no", "setl_date", "med_type", "medfee_sumamt", "hifp_pay", "hifmi_pay"]
    with open(tmp_path / "claims.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, columns)
        w.writeheader()
        for sid in arrived:
            w.writerow({c: by_id[sid].get(c, "") for c in columns})
    with open(tmp_path / "persons.csv", "w", encoding="utf-8") as f:
        f.write("psn_no\n" + "".join(f"{p}\n" for p in PEOPLE))
    with open(tmp_path / "identities.csv", "w", encoding="utf-8") as f:
        f.write("psn_no,category\n" + "".join(f"{p},{c}\n" for p, c in PEOPLE.items() if c))
    run = CliRunner().invoke(cli, ["settle", "--policy", "harbin", "--persons", str(tmp_path / "persons.csv"),
                                   "--identities", str(tmp_path / "identities.csv"),
                                   "--claims", str(tmp_path / "claims.csv"), "--stats", str(STATS),
                                   "--out", str(tmp_path / "out.csv")])
    assert run.exit_code == 0, run.output
    expected: dict[str, dict] = defaultdict(lambda: dict.fromkeys(AMOUNTS, Decimal(0)))
    per_claim: dict[str, dict] = {}
    with open(tmp_path / "out.csv", encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            per_claim[row["setl_id"]] = {c: None if row[c] == "" else Decimal(row[c]) for c in AMOUNTS[:3]}
            mine = expected[row["psn_no"]]
            for c in AMOUNTS:  # an empty (undefined) amount makes the year's total undefined
                mine[c] = None if mine[c] is None or row[c] == "" else mine[c] + Decimal(row[c])

    for psn in PEOPLE:
        totals = years[psn]["totals"]
        got = {c: None if totals[c] is None else Decimal(totals[c]) for c in AMOUNTS}
        assert got == expected[psn], psn
        # and the claims' net payments add up to the accumulators
        live = [s for s in years[psn]["settlements"] if s["status"] == "settled"]
        for s in live:  # each claim's net amounts are the engine's amounts for it
            assert {c: None if s["net"][c] is None else Decimal(s["net"][c]) for c in AMOUNTS[:3]} \
                == per_claim[s["setl_id"]], s["setl_id"]
            assert all(s[c] is None or not s[c].startswith("-") for c in AMOUNTS), s["setl_id"]
        for c in ("hifmi_pay", "maf_pay", "tilt_pay"):
            if got[c] is not None:
                assert sum(Decimal(s["net"][c]) for s in live) == got[c], (psn, c)
    assert sum(expected[p]["maf_pay"] or 0 for p in PEOPLE) > 0  # the scenario does pay assistance
