"""`tuodi fund` (CONTRACT.md "fund file"): a further payer's accounts for a year from the detail file
and a sources file; 衢政办发〔2023〕1号 三(四): 财政资金部分原则上不超过40%. Computed by hand."""
from __future__ import annotations

import csv

from typer.testing import CliRunner

from conftest import write_csv
from tuodi.cli.main import app

DETAIL = ["setl_id", "psn_no", "setl_date", "fund_pay_type", "fund_pay_type_name", "fund_payamt"]


def run_fund(tmp_path, detail_rows, source_rows, year="2023"):
    write_csv(tmp_path / "detail.csv", DETAIL, detail_rows)
    write_csv(tmp_path / "sources.csv", ["fund", "source_type", "source", "amount", "date"], source_rows)
    r = CliRunner().invoke(app, ["fund", "--policy", "quzhou", "--detail", str(tmp_path / "detail.csv"),
                                 "--sources", str(tmp_path / "sources.csv"), "--year", year,
                                 "--out", str(tmp_path / "fund.csv")])
    rows = []
    if (tmp_path / "fund.csv").exists():
        with open(tmp_path / "fund.csv", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    return r, rows


def test_warm_heart_account_with_a_fiscal_share_breach_and_an_overspend(tmp_path):
    """Sources 2023: fiscal 5,000 + charity 3,000 + donation 2,000 = 10,000 raised; fiscal share
    5000 / 10000 = 0.5 > 0.4 (三(四)) -> breach fiscal_share. Paid: m1 2,800 + s1 2,280 (both of
    household Q, 2 persons) + x1 6,000 (X) = 11,080 > 10,000 -> overspent; balance −1,080. A 2024
    source and the tiers' rows (610100) are not this year's account; a 0 row helps nobody."""
    r, rows = run_fund(tmp_path, [
        ("m1", "M", "2023-03-01", "610100", "医疗救助", "11200.00"),
        ("m1", "M", "2023-03-01", "warm_heart", "医保暖心无忧专项基金", "2800.00"),
        ("s1", "S", "2023-06-01", "warm_heart", "医保暖心无忧专项基金", "2280.00"),
        ("x1", "X", "2023-07-01", "warm_heart", "医保暖心无忧专项基金", "6000.00"),
        ("y1", "Y", "2023-08-01", "warm_heart", "医保暖心无忧专项基金", "0.00"),
    ], [
        ("warm_heart", "fiscal", "市财政", "5000", "2023-01-10"),
        ("warm_heart", "charity", "市慈善总会", "3000", "2023-02-01"),
        ("warm_heart", "donation", "企业捐助", "2000", "2023-03-01"),
        ("warm_heart", "fiscal", "市财政", "9000", "2024-01-10"),
    ])
    assert r.exit_code == 0, r.stderr
    assert rows == [{"fund": "warm_heart", "year": "2023", "raised": "10000.00", "fiscal": "5000.00",
                     "fiscal_share": "0.5000", "paid": "11080.00", "persons": "3", "claims": "3",
                     "balance": "-1080.00", "fiscal_share_limit": "0.4000", "breach": "fiscal_share;overspent"}]
    assert "fiscal_share" in r.stderr and "overspent" in r.stderr


def test_an_unknown_fund_in_the_sources_is_refused(tmp_path):
    """CONTRACT.md: bad input names the file, row and column."""
    r, rows = run_fund(tmp_path, [], [("no_such_fund", "fiscal", "x", "1", "2023-01-01")])
    assert r.exit_code != 0 and not rows
    assert "row 1" in r.stderr and "column fund" in r.stderr
