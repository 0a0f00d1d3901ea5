"""Formula injection (issue 11, finding 1; OWASP "CSV Injection"): no CSV or XLSX cell Tuodi writes
is a formula or begins with `=`, `+`, `-`, `@`, tab or carriage return — whatever the persons file
says. The persons below are what a hostile or careless hand could type: a name that is a
HYPERLINK formula, a telephone `=1+2`, an address `@SUM(A1)`, person numbers `+1`, `=2`, `@3`.
Every writer runs: settle (both paths), warn with --split-by-department (CSV and XLSX), subsidy,
grants, report (XLSX and HTML). Text keeps its content behind one quote, and Tuodi reads its own
files back unchanged (`report --settlements`, `grants --paid`)."""
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from tuodi.cli.main import app
from tuodi.io.safe import neutralise, restore

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
HYPERLINK = '=HYPERLINK("http://x","y")'
HOSTILE_PERSONS = [
    {"psn_no": "+1", "insutype": "390", "psn_name": HYPERLINK, "tel": "=1+2", "addr": "@SUM(A1)",
     "admdvs": "-230102", "late_stage_major_disease": "true"},
    {"psn_no": "=2", "insutype": "390", "psn_name": "-2+3", "tel": "+86 138", "addr": "=cmd|' /C calc'!A0",
     "admdvs": "@x", "late_stage_major_disease": "true"},
    {"psn_no": "@3", "insutype": "390", "psn_name": "'=already quoted", "tel": "13800000000", "addr": "道里区 1 号",
     "admdvs": "230102", "late_stage_major_disease": "false"},
]
CLAIMS = [  # burden 30000 − 15000 − 2000 = 13000 > 10000 for the first two (哈政办规〔2022〕16号 三(四))
    {"setl_id": "=s1", "psn_no": "+1", "setl_date": "2023-02-01", "med_type": "inpatient",
     "medfee_sumamt": "30000", "hifp_pay": "15000", "hifmi_pay": "2000"},
    {"setl_id": "-s2", "psn_no": "=2", "setl_date": "2023-03-01", "med_type": "inpatient",
     "medfee_sumamt": "30000", "hifp_pay": "15000", "hifmi_pay": "2000"},
    {"setl_id": "@s3", "psn_no": "@3", "setl_date": "2023-04-01", "med_type": "inpatient",
     "medfee_sumamt": "3000", "hifp_pay": "1500", "hifmi_pay": "0"},
]
#: a hostile overlay: the report shows the policy's rule names (an overlay is text anyone can write)
OVERLAY = f"""warnings:
  - id: burden_over_10000
    name: '{HYPERLINK.replace("'", "''")}<script>alert(1)</script>'
"""


def _write_csv(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def _run(*argv) -> None:
    r = CliRunner().invoke(app, [str(a) for a in argv])
    assert r.exit_code == 0, r.stderr


def _csv_cells(path: Path) -> list[str]:
    with open(path, encoding="utf-8", newline="") as f:
        return [cell for row in csv.reader(f) for cell in row]


def _xlsx_cells(path: Path):
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                yield ws.title, cell


def _assert_no_formula(outputs: list[Path]) -> None:
    for path in outputs:
        assert path.exists(), path
        if path.suffix == ".csv":
            for cell in _csv_cells(path):
                assert not cell.startswith(DANGEROUS), (path.name, cell)
        elif path.suffix == ".xlsx":
            for title, cell in _xlsx_cells(path):
                assert cell.data_type != "f", (path.name, title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert not cell.value.startswith(DANGEROUS), (path.name, title, cell.coordinate, cell.value)


@pytest.fixture
def hostile(tmp_path):
    d = tmp_path
    _write_csv(d / "persons.csv", HOSTILE_PERSONS)
    _write_csv(d / "identities.csv", [
        {"psn_no": p, "category": c, "begndate": "", "enddate": ""}
        for p, c in [("+1", "dibao"), ("=2", "dibao"), ("@3", "near_dibao"),
                     ("+1", "registered_poor"), ("=2", "registered_poor")]])
    _write_csv(d / "claims.csv", CLAIMS)
    _write_csv(d / "stats.csv", [{"name": "per_capita_disposable_income", "year": "2022", "value": "40000"}])
    (d / "overlay.yaml").write_text(OVERLAY, encoding="utf-8")
    return d


def test_every_csv_and_xlsx_writer_neutralises_formula_cells(hostile, monkeypatch):
    """OWASP CSV injection: settle (scalar and columnar), warn (+ department CSV and XLSX),
    subsidy, grants, report XLSX — no cell is a formula or starts with = + - @ tab CR."""
    d = hostile
    base = ["--persons", d / "persons.csv", "--identities", d / "identities.csv"]
    harbin = ["--policy", "harbin", *base, "--claims", d / "claims.csv", "--stats", d / "stats.csv"]
    _run("settle", *harbin, "--out", d / "settlements.csv")
    monkeypatch.setenv("TUODI_SETTLE", "columnar")
    _run("settle", *harbin, "--out", d / "settlements-columnar.csv")
    monkeypatch.delenv("TUODI_SETTLE")
    _run("warn", *harbin, "--out", d / "warnings.csv", "--split-by-department", d / "dept")
    _run("subsidy", "--policy", "harbin", *base, "--year", "2023", "--contribution", "350",
         "--out", d / "subsidy.csv")
    _run("grants", "--policy", "changzhi", *base, "--year", "2018", "--out", d / "grants.csv")
    _run("report", *harbin, "--overlay", d / "overlay.yaml", "--xlsx", d / "report.xlsx",
         "--html", d / "report.html")
    depts = sorted((d / "dept").iterdir())
    assert [p.name for p in depts] == ["civil_affairs.csv", "civil_affairs.xlsx",
                                       "rural_revitalization.csv", "rural_revitalization.xlsx"]
    outputs = [d / "settlements.csv", d / "settlements-columnar.csv", d / "warnings.csv", *depts,
               d / "subsidy.csv", d / "grants.csv", d / "report.xlsx"]
    _assert_no_formula(outputs)

    # the content is kept, behind one quote; both settle paths write the same bytes
    assert (d / "settlements.csv").read_text().splitlines() == (d / "settlements-columnar.csv").read_text().splitlines()
    settled = list(csv.DictReader(open(d / "settlements.csv", encoding="utf-8")))
    assert [(r["setl_id"], r["psn_no"]) for r in settled] == [("'=s1", "'+1"), ("'-s2", "'=2"), ("'@s3", "'@3")]
    dept = list(csv.DictReader(open(d / "dept" / "civil_affairs.csv", encoding="utf-8")))
    assert [(r["psn_no"], r["psn_name"], r["tel"], r["addr"], r["admdvs"]) for r in dept] == [
        ("'+1", "'" + HYPERLINK, "'=1+2", "'@SUM(A1)", "'-230102"),
        ("'=2", "'-2+3", "'+86 138", "'=cmd|' /C calc'!A0", "'@x")]
    ws = openpyxl.load_workbook(d / "dept" / "civil_affairs.xlsx").active
    header = [c.value for c in ws[1]]
    first = dict(zip(header, ws[2]))
    assert first["psn_name"].value == "'" + HYPERLINK and first["psn_name"].data_type == "s"
    assert first["value"].value == 13000 and first["value"].data_type == "n"   # amounts stay numbers
    grants = list(csv.DictReader(open(d / "grants.csv", encoding="utf-8")))
    assert [(g["psn_no"], g["amount"]) for g in grants] == [("'+1", "5000.00"), ("'=2", "5000.00")]


def test_html_report_escapes_text(hostile):
    """The report page shows rule names an overlay may set: they are escaped, never markup."""
    d = hostile
    _run("report", "--policy", "harbin", "--persons", d / "persons.csv", "--identities", d / "identities.csv",
         "--claims", d / "claims.csv", "--stats", d / "stats.csv", "--overlay", d / "overlay.yaml",
         "--html", d / "report.html")
    page = (d / "report.html").read_text(encoding="utf-8")
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_tuodi_reads_its_quoted_files_back_as_they_were(hostile):
    """`report --settlements` finds person `+1` in the settlements file that wrote `'+1`, and
    `grants --paid` knows `+1` was granted in 2018 (长民发[2017]142号 三(二)2: once per person)."""
    d = hostile
    base = ["--persons", d / "persons.csv", "--identities", d / "identities.csv"]
    _run("settle", "--policy", "harbin", *base, "--claims", d / "claims.csv", "--out", d / "settlements.csv")
    _run("report", "--policy", "harbin", *base, "--settlements", d / "settlements.csv", "--xlsx", d / "r.xlsx")
    ws = openpyxl.load_workbook(d / "r.xlsx").worksheets[0]
    header = [c.value for c in ws[1]]
    total = [dict(zip(header, [c.value for c in row])) for row in ws.iter_rows(min_row=2)
             if row[0].value == "(all)"]
    assert total[0]["persons"] == 3 and total[0]["claims"] == 3
    _run("grants", "--policy", "changzhi", *base, "--year", "2018", "--out", d / "grants.csv")
    _run("grants", "--policy", "changzhi", *base, "--year", "2019", "--paid", d / "grants.csv",
         "--out", d / "grants-2019.csv")
    assert list(csv.DictReader(open(d / "grants-2019.csv", encoding="utf-8"))) == []


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "'=x", "''+x", "'", "", "a=b",
                                  "'abc", "1-2", "张三"])
def test_neutralise_quotes_only_formula_starts_and_is_undone_by_restore(text):
    """OWASP: prefix a quote to cells beginning = + - @ TAB CR; reversible for Tuodi's own reading."""
    safe = neutralise(text)
    assert not safe.startswith(DANGEROUS)
    assert safe == text if not text.lstrip("'").startswith(DANGEROUS) else safe == "'" + text
    assert restore(safe) == text
