"""The Quzhou sample data of `make demo` (examples/quzhou, through the illustrative overlay: made-up
numbers, not the seeds'), settled and accounted as the demo prints it, computed by hand: the payer
chain end to end — three tiers, then the further payers, with a family unit."""
from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from tuodi.cli.main import app

EXAMPLES = Path(__file__).parents[2] / "examples"
D = EXAMPLES / "quzhou"
OVERLAY = EXAMPLES / "overlay-quzhou-illustrative.yaml"


def rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_quzhou_family_through_the_chain_and_its_fund_accounts(tmp_path):
    """QZ23-0001 (低保, family QZ-0001): r1 = 110000 − 60000 = 50000, 大病 (50000 − 10000) × 0.6 = 24000;
    救助 (50000 − 24000) × 0.7 = 18200; r4 7800: 民政 (7800 − 5000) × 0.5 = 1400; left 6400 + 8000
    reasonable = 14400 on the family's 暖心无忧 cap of 8000: 6400. oth_pay 7800, psn_part 10000.
    QZ23-0002 (低保, same family): r1 6000 < 10000: 大病 0; 救助 4200; r4 1800; 民政 (1800 < 5000) 0; family base
    14400 + 1800 = 16200, due 8200 − 6400 = 1800. QZ23-0003 (same family, no identity): nothing after basic.
    QZ23-0004 (困难职工): 大病 (12000 − 10000) × 0.6 = 1200; r4 10800; 工会 (10800 − 2000) × 0.5 = 4400.
    Accounts (衢政办发〔2023〕1号 三(四)): warm_heart raised 10000, fiscal 4000 = 0.4 (the limit, no breach),
    paid 6400 + 1800 = 8200 to 2 persons, balance 1800; civil_affairs 5000 − 1400 = 3600; union 5000 − 4400."""
    out, detail, fund = tmp_path / "s.csv", tmp_path / "d.csv", tmp_path / "f.csv"
    r = CliRunner().invoke(app, ["settle", "--policy", "quzhou", "--overlay", str(OVERLAY),
                                 "--persons", str(D / "persons.csv"), "--identities", str(D / "identities.csv"),
                                 "--claims", str(D / "claims.csv"), "--out", str(out), "--detail", str(detail)])
    assert r.exit_code == 0, r.stderr
    got = {x["setl_id"]: (x["hifmi_pay"], x["maf_pay"], x["oth_pay"], x["psn_part_amt"]) for x in rows(out)}
    assert got == {"QZ23-0001": ("24000.00", "18200.00", "7800.00", "10000.00"),
                   "QZ23-0002": ("0.00", "4200.00", "1800.00", "0.00"),
                   "QZ23-0003": ("0.00", "0.00", "0.00", "8000.00"),
                   "QZ23-0004": ("1200.00", "0.00", "4400.00", "6400.00")}
    paid = {(x["setl_id"], x["fund_pay_type"]): x["fund_payamt"] for x in rows(detail) if x["fund_payamt"] != "0.00"}
    assert {k: v for k, v in paid.items() if k[1] in ("civil_affairs", "union", "warm_heart")} == {
        ("QZ23-0001", "civil_affairs"): "1400.00", ("QZ23-0001", "warm_heart"): "6400.00",
        ("QZ23-0002", "warm_heart"): "1800.00", ("QZ23-0004", "union"): "4400.00"}
    r = CliRunner().invoke(app, ["fund", "--policy", "quzhou", "--overlay", str(OVERLAY), "--detail", str(detail),
                                 "--sources", str(D / "sources.csv"), "--year", "2023", "--out", str(fund)])
    assert r.exit_code == 0, r.stderr
    accounts = {x["fund"]: (x["raised"], x["fiscal_share"], x["paid"], x["persons"], x["balance"], x["breach"])
                for x in rows(fund)}
    assert accounts["warm_heart"] == ("10000.00", "0.4000", "8200.00", "2", "1800.00", "")
    assert accounts["civil_affairs"] == ("5000.00", "0.0000", "1400.00", "1", "3600.00", "")
    assert accounts["union"] == ("5000.00", "1.0000", "4400.00", "1", "600.00", "")
