"""Further payers in the service (CONTRACT.md "Service": `PUT /v1/persons` takes `hh_no`, a
settlement response carries `oth_pay` and `setldetail`; "Further payers", Family unit: the yearly
base and the amount paid are the family's, claims in `setl_date` order, in the service then arrival).

The overlay is the conformance example's family-unit payer: red_cross pays 60% of a family's yearly
in-scope burden left after the three tiers (r4) above 500, for dibao claimants, cap 2000.
Harbin's medical assistance pays dibao 90% of r2 (so r4 = 10% of r2); no tilted assistance here
(the yearly r3 stays far below 50% of 40,000).

Hand amounts of the family F9 (P1 and P2 both dibao), hifmi_pay given 0:
    a1 P1 02-01 inpatient 10000/6000: r2 4000, maf 3600, r4 400; family 400 <= 500       -> oth 0
    b1 P2 03-01 inpatient  5000/3000: r2 2000, maf 1800, r4 200; family 600: 100 * 60%  -> oth 60
    a2 P1 05-01 inpatient  4000/2400: r2 1600, maf 1440, r4 160; family 760: 156 - 60   -> oth 96
"""
from __future__ import annotations

import csv
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tuodi.cli.main import app as cli
from tuodi.service.app import create_app
from tuodi.store import Database
from tuodi.store.tables import claims as claims_table

from .conftest import STATS, Service, make_keys
from .test_concurrency import Server, free_port

OVERLAY = """payers:
  - id: red_cross
    name: 红十字会
    base: in_scope
    unit: family
    rules:
      - id: red_cross_dibao
        categories: [dibao]
        med_types: [inpatient, chronic]
        threshold: [{from: 2023-01-01, value: 500, ref: "example"}]
        ratio: [{from: 2023-01-01, value: 0.6, ref: "example"}]
        cap: [{from: 2023-01-01, value: 2000, ref: "example"}]
"""

CLAIMS = {  # setl_id: psn_no, setl_date, medfee_sumamt, hifp_pay
    "a1": ("P1", "2023-02-01", "10000", "6000"),
    "b1": ("P2", "2023-03-01", "5000", "3000"),
    "a2": ("P1", "2023-05-01", "4000", "2400"),
}
AMOUNTS = ("hifmi_pay", "maf_pay", "tilt_pay", "oth_pay")


def claim(setl_id: str, psn_no: str, setl_date: str, medfee: str, hifp: str) -> dict:
    return {"setl_id": setl_id, "psn_no": psn_no, "setl_date": setl_date, "med_type": "inpatient",
            "medfee_sumamt": medfee, "hifp_pay": hifp, "hifmi_pay": "0", "fixmedins_code": "H0001"}


@pytest.fixture
def overlay(tmp_path):
    path = tmp_path / "overlay.yaml"
    path.write_text(OVERLAY, encoding="utf-8")
    return path


@pytest.fixture
def family(db_url, overlay):
    """The Harbin service with the red_cross overlay (`tuodi serve --overlay`), family F9 registered."""
    keys = make_keys(db_url)
    app = create_app(db_url, "harbin", STATS, overlay)
    with TestClient(app, raise_server_exceptions=False) as client:
        s = Service(client, keys, db_url)
        for p in ("P1", "P2"):
            s.put_person(p, hh_no="F9")
            s.add_identity(p, "dibao", begndate="2023-01-01")
        yield s
    app.state.db.dispose()


def settle(s: Service, setl_id: str) -> dict:
    r = s.settle(role="insurance_office", **claim(setl_id, *CLAIMS[setl_id]))
    assert r.status_code == 201, r.text
    return r.json()


def stored(s: Service, setl_id: str) -> dict:
    r = s.client.get(f"/v1/settlements/{setl_id}", headers=s.h("insurance_office"))
    assert r.status_code == 200, r.text
    return r.json()


def cli_settle(tmp_path, overlay, arrived: list[tuple[str, tuple]], persons: dict[str, str | None]) -> dict:
    """`tuodi settle --overlay` on the claims in order of arrival: amounts per setl_id."""
    with open(tmp_path / "claims.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["setl_id", "psn_no", "setl_date", "med_type", "medfee_sumamt", "hifp_pay", "hifmi_pay"])
        for sid, (psn, day, medfee, hifp) in arrived:
            w.writerow([sid, psn, day, "inpatient", medfee, hifp, "0"])
    (tmp_path / "persons.csv").write_text("psn_no,hh_no\n" + "".join(f"{p},{h or ''}\n" for p, h in persons.items()))
    (tmp_path / "identities.csv").write_text("psn_no,category,begndate\n"
                                             + "".join(f"{p},dibao,2023-01-01\n" for p in persons))
    run = CliRunner().invoke(cli, ["settle", "--policy", "harbin", "--overlay", str(overlay),
                                   "--persons", str(tmp_path / "persons.csv"),
                                   "--identities", str(tmp_path / "identities.csv"),
                                   "--claims", str(tmp_path / "claims.csv"), "--stats", str(STATS),
                                   "--out", str(tmp_path / "out.csv")])
    assert run.exit_code == 0, run.output
    with open(tmp_path / "out.csv", encoding="utf-8-sig") as f:
        return {row["setl_id"]: {c: row[c] for c in AMOUNTS} for row in csv.DictReader(f)}


class OverlayServer(Server):
    """`tuodi serve --overlay` in a thread (uvicorn), as test_concurrency's server."""

    def __init__(self, url: str, overlay):
        self.port = free_port()
        self.app = create_app(url, "harbin", STATS, overlay)
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)


def net(body: dict) -> dict:
    return {c: body["net"][c] for c in AMOUNTS}


def test_a_family_in_order_pays_the_hand_amounts_and_equals_tuodi_settle(family, tmp_path, overlay):
    """CONTRACT.md Family unit, and Service: `oth_pay` and `setldetail` (the detail-file rows)."""
    a1, b1 = settle(family, "a1"), settle(family, "b1")
    pre = family.settle(role="insurance_office", dry_run=True, **claim("a2", *CLAIMS["a2"]))
    assert pre.status_code == 200, pre.text
    a2 = settle(family, "a2")
    again = family.settle(role="insurance_office", **claim("a2", *CLAIMS["a2"]))
    assert again.status_code == 200, again.text
    for other in (pre.json(), again.json()):  # pre-settlement and repeat: the same oth_pay and setldetail
        assert (other["oth_pay"], other["setldetail"]) == (a2["oth_pay"], a2["setldetail"])
    assert (a1["maf_pay"], a1["oth_pay"], a1["psn_part_amt"]) == ("3600.00", "0.00", "400.00")
    assert (b1["maf_pay"], b1["oth_pay"], b1["fund_pay_sumamt"], b1["psn_part_amt"]) == \
        ("1800.00", "60.00", "4860.00", "140.00")
    assert (a2["maf_pay"], a2["oth_pay"], a2["psn_part_amt"]) == ("1440.00", "96.00", "64.00")
    assert [a["adjustments"] for a in (a1, b1, a2)] == [[], [], []]
    # setldetail: one row per payer of the chain, `fund_pay_type` the fund code or the payer's id
    assert [(d["fund_pay_type"], d["fund_pay_type_name"], d["fund_payamt"]) for d in a2["setldetail"]] == [
        ("hifmi", "大病保险", "0.00"), ("610100", "医疗救助", "1440.00"), ("tilt", "倾斜救助", "0.00"),
        ("red_cross", "红十字会", "96.00")]
    assert {(d["setl_id"], d["psn_no"], d["setl_date"]) for d in a2["setldetail"]} == {("a2", "P1", "2023-05-01")}
    got = stored(family, "a2")
    assert got["oth_pay"] == "96.00" and got["setldetail"] == a2["setldetail"]
    # the same claims in the same order through `tuodi settle --overlay`
    want = cli_settle(tmp_path, overlay, list(CLAIMS.items()), {"P1": "F9", "P2": "F9"})
    assert {sid: net(stored(family, sid)) for sid in CLAIMS} == want
    # the person's year totals include oth_pay
    totals = family.year("P1", 2023)["totals"]
    assert (totals["oth_pay"], totals["fund_pay_sumamt"]) == ("96.00", "13536.00")  # 6000+3600 + 2400+1440+96


def test_a_member_claim_dated_earlier_adjusts_the_other_members_claim(family, tmp_path, overlay):
    """Family unit: claims in setl_date order across the members. a2 arrives before b1: at its
    arrival the family's burden is 400 + 160 = 560 -> 36; b1 (March) then takes 60 and a2 is
    re-settled to 96: a 补付 of 60 on P1's claim, caused by P2's settlement."""
    settle(family, "a1")
    a2 = settle(family, "a2")
    assert a2["oth_pay"] == "36.00"
    b1 = settle(family, "b1")
    assert b1["oth_pay"] == "60.00"
    assert b1["adjustments"] == [{"setl_id": "a2", "setl_date": "2023-05-01", "cause": "settlement", "hifmi_pay": "0.00", "maf_pay": "0.00",
                                  "tilt_pay": "0.00", "oth_pay": "60.00", "fund_pay_sumamt": "60.00",
                                  "payers": {"red_cross": "60.00"}}]
    got = stored(family, "a2")
    assert got["oth_pay"] == "36.00" and got["net"]["oth_pay"] == "96.00"
    assert [(a["cause"], a["setl_id"], a["oth_pay"]) for a in got["adjustments"]] == [("settlement", "b1", "60.00")]
    want = cli_settle(tmp_path, overlay, [(s, CLAIMS[s]) for s in ("a1", "a2", "b1")], {"P1": "F9", "P2": "F9"})
    assert {sid: net(stored(family, sid)) for sid in CLAIMS} == want


def test_a_reversal_in_the_family_adjusts_the_other_members_claim(family):
    """Reversing P2's b1: the family's burden is 400 + 160 = 560 -> 36 on a2 (追回 60)."""
    for sid in CLAIMS:
        settle(family, sid)
    r = family.client.post("/v1/settlements/b1/reversal", headers=family.h("insurance_office"))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["reversed"]["oth_pay"] == "-60.00" and body["reversed"]["maf_pay"] == "-1800.00"
    assert [(a["setl_id"], a["oth_pay"], a["payers"]) for a in body["adjustments"]] == \
        [("a2", "-60.00", {"red_cross": "-60.00"})]
    got = stored(family, "a2")
    assert got["net"]["oth_pay"] == "36.00"
    assert [(a["cause"], a["reversal_of"], a["oth_pay"]) for a in got["adjustments"]] == [("reversal", "b1", "-60.00")]
    assert family.year("P1", 2023)["totals"]["oth_pay"] == "36.00"
    assert family.year("P2", 2023)["totals"]["oth_pay"] == "0.00"


def test_leaving_the_household_and_an_identity_ending_re_settle_the_family(family):
    """`PUT /v1/persons` takes `hh_no`: P2 leaving F9 re-settles both units (P1: 560 -> 36 on a2;
    P2 alone: 200 -> 0); P2 back, then P2's dibao ended before b1: b1 is not eligible and does not
    count, again 36 on a2."""
    for sid in CLAIMS:
        settle(family, sid)
    r = family.client.put("/v1/persons/P2", json={}, headers=family.h("insurance_office"))
    assert r.status_code == 200, r.text
    assert r.json()["hh_no"] is None
    assert sorted((a["setl_id"], a["oth_pay"]) for a in r.json()["adjustments"]) == [("a2", "-60.00"), ("b1", "-60.00")]
    assert family.put_person("P2", hh_no="F9")["hh_no"] == "F9"
    assert (stored(family, "a2")["net"]["oth_pay"], stored(family, "b1")["net"]["oth_pay"]) == ("96.00", "60.00")
    ident = family.client.get("/v1/persons/P2", headers=family.h("insurance_office")).json()["identities"][0]
    r = family.client.post(f"/v1/persons/P2/identities/{ident['id']}/end", json={"enddate": "2023-02-28"},
                           headers=family.h("civil_affairs"))
    assert r.status_code == 200, r.text
    assert sorted((a["setl_id"], a["oth_pay"]) for a in r.json()["adjustments"]) == [("a2", "-60.00"), ("b1", "-60.00")]


def test_a_hospital_sees_no_family_members_claim_of_another_institution(family):
    """Who sees what: P2's b1 at H0002 moves P1's a2 at H0001; H0001 sees only a net line."""
    settle(family, "a1")
    settle(family, "a2")
    r = family.settle(role="other_hospital", **{**claim("b1", *CLAIMS["b1"]), "fixmedins_code": None})
    assert r.status_code == 201, r.text
    assert [a["setl_id"] for a in r.json()["adjustments"]] == [None]  # a2 is H0001's: a net line
    got = family.client.get("/v1/settlements/a2", headers=family.h("hospital")).json()
    assert [(a["cause"], a["setl_id"], a["oth_pay"]) for a in got["adjustments"]] == \
        [("other institutions", None, "60.00")]
    assert family.client.get("/v1/settlements/b1", headers=family.h("hospital")).status_code == 404


def test_concurrent_claims_of_one_family_end_equal_to_tuodi_settle(family, tmp_path, overlay):
    """The household lock: the members of four families (three each) settle their claims at once
    over real HTTP, one thread per member; every claim's net amounts end equal to `tuodi settle
    --overlay` on the claims in order of arrival. (Without the lock, the last claims of two members
    settled side by side each miss the other's, and nothing later corrects them.)"""
    persons = {f"Q{f}{m}": f"G{f}" for f in range(4) for m in "ABC"}
    for psn, hh in persons.items():
        family.put_person(psn, hh_no=hh)
        family.add_identity(psn, "dibao", begndate="2023-01-01")
    # r4 400 each (as a1): the family's cumulative 400k reaches the cap 2000 at its 10th claim
    # (0.6 * (4000 - 500) = 2100), so the last claims of the year compete for the cap's rest
    many = {f"{psn}-{i}": (psn, f"2023-{3 * i + 1 + 'ABC'.index(psn[-1]):02d}-10", "10000", "6000")
            for psn in persons for i in range(4)}
    barrier = threading.Barrier(len(persons))

    def run(base, psn):
        with httpx.Client(base_url=base, headers=family.h("insurance_office"), timeout=60) as http:
            barrier.wait()
            for sid in (s for s in many if many[s][0] == psn):
                r = http.post("/v1/settlements", json=claim(sid, *many[sid]))
                assert r.status_code == 201, r.text

    with OverlayServer(family.url, overlay) as base, ThreadPoolExecutor(len(persons)) as pool:
        list(pool.map(lambda psn: run(base, psn), persons))
    db = Database(family.url)
    with db.read() as conn:
        arrived = list(conn.execute(select(claims_table.c.setl_id).order_by(claims_table.c.seq)).scalars())
    db.dispose()
    want = cli_settle(tmp_path, overlay, [(s, many[s]) for s in arrived], persons)
    assert sum(Decimal(w["oth_pay"]) for w in want.values()) == 4 * 2000  # each family up to the cap
    assert {sid: net(stored(family, sid)) for sid in arrived} == want


def test_a_hospital_reads_no_family_figures_of_another_institution(family):
    """Who sees what: the explanation shows no other institution's claim. P2's b1 at H0002
    arrived before P1's a2 at H0001, and a2's red_cross figures are the family's: H0001's read of
    a2 leaves the year-to-date figures out, as at its settlement."""
    settle(family, "a1")
    r = family.settle(role="other_hospital", **{**claim("b1", *CLAIMS["b1"]), "fixmedins_code": None})
    assert r.status_code == 201, r.text
    answer = family.settle(**claim("a2", *CLAIMS["a2"]))
    assert answer.status_code == 201, answer.text
    full = stored(family, "a2")["explanation"]
    read = family.client.get("/v1/settlements/a2", headers=family.h("hospital")).json()["explanation"]
    assert read == answer.json()["explanation"] != full
