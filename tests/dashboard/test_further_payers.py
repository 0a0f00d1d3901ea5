"""`tuodi report` with the payer chain: every fund's spend, the further payers' sum (oth_pay)
included, and with `--sources` the further payers' accounts per year — what `tuodi fund` gives, the
statement the 暖心无忧 fund office 定期向社会公布 (衢政办发〔2023〕1号 三(四)). Quzhou through the
illustrative overlay (examples/overlay-quzhou-illustrative.yaml: made-up numbers, not the seeds'),
computed by hand."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from dashboard.test_report import dec, sheet_rows
from programs.files import one_line_refusal, read_csv, write_table

OVERLAY = Path(__file__).parents[2] / "examples" / "overlay-quzhou-illustrative.yaml"
PERSONS = [{"psn_no": "Q1", "insutype": "390", "hh_no": "F1"}, {"psn_no": "Q2", "insutype": "390", "hh_no": "F1"}]
IDENTITIES = [("Q1", "dibao", "", ""), ("Q2", "dibao", "", "")]
CLAIMS = [("q1", "Q1", "2023-03-01", "inpatient", "60000", "30000", ""),
          ("q2", "Q2", "2023-05-01", "inpatient", "30000", "10000", "")]
SOURCES = [("warm_heart", "fiscal", "市财政", "600", "2023-01-10"),
           ("warm_heart", "charity", "市慈善总会", "400", "2023-02-01"),
           ("civil_affairs", "social_assistance", "临时救助资金", "1000", "2023-01-05")]
SHEET = "further payers 梯次减负"


def sources_file(folder: Path, rows=SOURCES) -> Path:
    return write_table(folder / "sources.csv", rows, ["fund", "source_type", "source", "amount", "date"])


@pytest.fixture
def reported(tuodi, tmp_path):
    """The report settled on the fly with --sources, and `settle --detail` of the same inputs."""
    src = sources_file(tmp_path)
    r = tuodi("report", "quzhou", PERSONS, IDENTITIES, CLAIMS, out=None,
              args=["--overlay", OVERLAY, "--sources", src, "--xlsx", "{dir}/r.xlsx", "--html", "{dir}/r.html"])
    assert r.exit_code == 0, r.stderr
    s = tuodi("settle", "quzhou", PERSONS, IDENTITIES, CLAIMS, args=["--overlay", OVERLAY, "--detail", "{dir}/d.csv"])
    assert s.exit_code == 0, s.stderr
    return r, s, src


def test_each_funds_spend_follows_the_chain_and_includes_the_further_payers(reported):
    """Overlay numbers: 大病 above 10,000 at 60%; 医疗救助 0 / 70% / cap 50,000; 民政 临时救助 (低保)
    above 5,000 at 50%; 暖心无忧 a family burden cap at 8,000 on the reasonable base.
    q1: r1 = 60000 − 30000 = 30000, hifmi (30000 − 10000) × 0.6 = 12000; r2 18000, maf 12600; r4 5400;
    民政 (5400 − 5000) × 0.5 = 200; family F1's burden 5200 ≤ 8000: 0. oth_pay 200.
    q2: r1 20000, hifmi 6000; r2 14000, maf 9800; r4 4200; 民政 (Q2's own 4200 < 5000) 0; family burden
    5200 + 4200 = 9400 − 8000 = 1400. oth_pay 1400.
    dibao: hifp 40000, hifmi 18000, maf 22400, tilt 0, oth_pay 1600; funds 82000 = their sum; personal
    8000 = 90000 − 82000. Before the chain the report had no oth_pay column: the columns added up to
    80400, not 82000."""
    r, _, _ = reported
    wb = openpyxl.load_workbook(r.folder / "r.xlsx")
    header = [c.value for c in wb["by category 按身份"][1]]
    assert header[header.index("hifp_pay"):header.index("fund_pay_sumamt")] == [
        "hifp_pay", "hifmi_pay", "maf_pay", "tilt_pay", "oth_pay"]
    dibao = next(x for x in sheet_rows(wb, "by category 按身份") if x["category"] == "dibao")
    funds = [dec(dibao[c]) for c in ("hifp_pay", "hifmi_pay", "maf_pay", "tilt_pay", "oth_pay")]
    assert funds == [Decimal(v) for v in ("40000", "18000", "22400", "0", "1600")]
    assert dec(dibao["fund_pay_sumamt"]) == sum(funds) == Decimal("82000")
    assert dec(dibao["psn_part_amt"]) == Decimal("8000")
    page = (r.folder / "r.html").read_text("utf-8")
    assert 'data-series="oth_pay"' in page and "其他支出 further payers" in page
    assert "民政部门 (临时救助)、农业农村部门、工会" in page        # oth_pay's payers, in the chain's order


def test_accounts_section_equals_tuodi_fund_on_the_detail_file(reported, tmp_path):
    """衢政办发〔2023〕1号 三(四): 多渠道筹资, 财政资金部分原则上不超过40%. warm_heart: raised 600 (财政) + 400
    (慈善) = 1000; fiscal share 0.6 > 0.4: breach; paid 1400 (q2) > 1000: overspent, balance −400.
    civil_affairs: raised 1000 (社会救助基金), paid 200 (q1), balance 800. The section holds exactly the
    rows `tuodi fund` writes for 2023 from the detail file of `settle --detail`."""
    from typer.testing import CliRunner

    from tuodi.cli.main import app

    r, s, src = reported
    wb = openpyxl.load_workbook(r.folder / "r.xlsx")
    rows = {x["fund"]: x for x in sheet_rows(wb, SHEET) if x["year"] is not None}
    wh, ca = rows["warm_heart"], rows["civil_affairs"]
    assert (dec(wh["raised"]), dec(wh["raised_fiscal"]), dec(wh["raised_charity"]), dec(wh["paid"]),
            dec(wh["balance"]), wh["persons"], wh["claims"], wh["breach"]) == (
        Decimal("1000"), Decimal("600"), Decimal("400"), Decimal("1400"), Decimal("-400"), 1, 1,
        "fiscal_share;overspent")
    assert (dec(wh["fiscal_share"]), dec(wh["fiscal_share_limit"])) == (Decimal("0.60"), Decimal("0.40"))
    assert wh["fund_name"] == "医保暖心无忧专项基金" and "衢政办发〔2023〕1号 三(四)" in wh["ref"]
    assert (dec(ca["raised_social_assistance"]), dec(ca["paid"]), dec(ca["balance"]), ca["breach"]) == (
        Decimal("1000"), Decimal("200"), Decimal("800"), None)
    out = tmp_path / "fund.csv"
    f = CliRunner().invoke(app, ["fund", "--policy", "quzhou", "--overlay", str(OVERLAY), "--detail",
                                 str(s.folder / "d.csv"), "--sources", str(src), "--year", "2023", "--out", str(out)])
    assert f.exit_code == 0, f.stderr
    expected = [(x["fund"], x["year"], x["raised"], x["fiscal"], x["fiscal_share"], x["paid"], x["persons"],
                 x["claims"], x["balance"], x["fiscal_share_limit"], x["breach"]) for x in read_csv(out)]
    got = [(x["fund"], str(x["year"]), f"{dec(x['raised'])}", f"{dec(x['raised_fiscal'])}",
            "" if x["fiscal_share"] is None else f"{Decimal(str(x['fiscal_share'])):.4f}", f"{dec(x['paid'])}",
            str(x["persons"]), str(x["claims"]), f"{dec(x['balance'])}",
            "" if x["fiscal_share_limit"] is None else f"{Decimal(str(x['fiscal_share_limit'])):.4f}",
            x["breach"] or "") for x in sheet_rows(wb, SHEET) if x["year"] is not None]
    assert got == expected
    page = (r.folder / "r.html").read_text("utf-8")
    assert 'id="accounts"' in page and '<tr data-fund="warm_heart" data-year="2023">' in page
    assert "fiscal_share;overspent" in page and "定期向社会公布" in page
    assert "overspent" in r.stderr      # breaches are warnings, as in tuodi fund


def test_accounts_from_the_settlements_and_detail_files_equal_the_report_settled_on_the_fly(reported, tuodi):
    """--settlements needs --detail with --sources (the settlements file has only oth_pay, the sum);
    given both, the workbook and the page are the same as settling on the fly."""
    r, s, src = reported
    again = tuodi("report", "quzhou", PERSONS, IDENTITIES, None, out=None,
                  args=["--overlay", OVERLAY, "--settlements", s.folder / "out.csv", "--detail", s.folder / "d.csv",
                        "--sources", src, "--xlsx", "{dir}/r.xlsx", "--html", "{dir}/r.html"])
    assert again.exit_code == 0, again.stderr
    assert (again.folder / "r.html").read_text("utf-8") == (r.folder / "r.html").read_text("utf-8")
    a, b = openpyxl.load_workbook(r.folder / "r.xlsx"), openpyxl.load_workbook(again.folder / "r.xlsx")
    assert a.sheetnames == b.sheetnames and SHEET in a.sheetnames
    for title in a.sheetnames:
        assert sheet_rows(a, title) == sheet_rows(b, title), title
    no_detail = tuodi("report", "quzhou", PERSONS, IDENTITIES, None, out=None,
                      args=["--overlay", OVERLAY, "--settlements", s.folder / "out.csv", "--sources", src,
                            "--xlsx", "{dir}/r.xlsx"])
    one_line_refusal(no_detail, "--sources", "--detail")
    assert not (no_detail.folder / "r.xlsx").exists()


def test_no_sources_no_accounts_section_and_a_bad_source_is_refused(tuodi, tmp_path):
    """Without --sources the report has no accounts section; a source naming a payer the policy does
    not declare is refused with file, row and column (CONTRACT.md), nothing written."""
    r = tuodi("report", "quzhou", PERSONS, IDENTITIES, CLAIMS, out=None,
              args=["--overlay", OVERLAY, "--xlsx", "{dir}/r.xlsx", "--html", "{dir}/r.html"])
    assert r.exit_code == 0, r.stderr
    assert SHEET not in openpyxl.load_workbook(r.folder / "r.xlsx").sheetnames
    assert 'id="accounts"' not in (r.folder / "r.html").read_text("utf-8")
    bad = sources_file(tmp_path, [("no_such_fund", "fiscal", "x", "1", "2023-01-01")])
    r = tuodi("report", "quzhou", PERSONS, IDENTITIES, CLAIMS, out=None,
              args=["--overlay", OVERLAY, "--sources", bad, "--xlsx", "{dir}/r.xlsx", "--html", "{dir}/r.html"])
    one_line_refusal(r, "sources.csv", "row 1", "column fund")
    assert not (r.folder / "r.xlsx").exists() and not (r.folder / "r.html").exists()


def test_payer_names_are_escaped_in_the_page_and_never_formulas_in_the_workbook(tuodi, tmp_path):
    """A payer's name comes from an overlay: the page escapes it (no script runs, the page stays
    self-contained), the workbook neutralises it (OWASP CSV injection: a leading `'`)."""
    overlay = tmp_path / "names.yaml"
    text = OVERLAY.read_text("utf-8")
    assert "  - id: warm_heart\n    rules:" in text
    overlay.write_text(text.replace("  - id: warm_heart\n    rules:", "  - id: warm_heart\n    name: '=HYPERLINK(\"http:"
                                    "//x\",\"<script>alert(1)</script>\")'\n    rules:"), encoding="utf-8")
    r = tuodi("report", "quzhou", PERSONS, IDENTITIES, CLAIMS, out=None,
              args=["--overlay", overlay, "--sources", sources_file(tmp_path), "--xlsx", "{dir}/r.xlsx",
                    "--html", "{dir}/r.html"])
    assert r.exit_code == 0, r.stderr
    page = (r.folder / "r.html").read_text("utf-8")
    assert "<script" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    ws = openpyxl.load_workbook(r.folder / "r.xlsx")[SHEET]
    names = [row[1] for row in ws.iter_rows(min_row=2, values_only=True) if row[0] == "warm_heart"]
    assert names and names[0].startswith("'=HYPERLINK(")
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
