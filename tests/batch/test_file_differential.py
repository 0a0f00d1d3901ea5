"""Both settlement paths on files as users write them (issue 18).

Hypothesis writes persons, identities and claims files the way hospital and office exports look
(CONTRACT.md, "Files" and the three file tables): CSV (with or without a BOM, LF or CRLF) or
Parquet (text columns, or typed columns: booleans, dates, decimals, with nulls); every optional
column absent, present and blank, or partly blank; booleans as `true/false`, `1/0`, `是/否`;
`med_type` as words, Chinese names and national codes; categories as slugs and Chinese names;
claims out of date order; now and then a bad cell or two; families (`hh_no`) and
`reasonable_ownpay_amt`, and now and then an overlay with further payers (a person-unit payer, a
family-unit payer and a family burden cap on the reasonable base, CONTRACT.md "Further payers")
and a `--detail` file. `tuodi settle` through the engine path and through the columnar path must
write byte-identical files (settlements and detail) and the same warnings, or refuse with the same
one-line message and exit status, writing nothing.
"""
from __future__ import annotations

import codecs
import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tuodi.cli.main import app
from tuodi.policy import CATEGORY_NAMES

# (policy, a year it is in force); Harbin's tilted assistance needs last year's income figure
POLICIES = [("harbin", 2023), ("qinghai", 2023), ("jiamusi", 2022), ("changzhi", 2017), ("quzhou", 2024)]
TRUE = ["true", "TRUE", "1", "是", "yes"]
FALSE = ["false", "False", "0", "否", "no"]
MED_TYPES = {"inpatient": ["inpatient", "住院", "21", "22", "23", "24"],
             "chronic": ["chronic", "门诊慢特病", "14"],
             "outpatient": ["outpatient", "普通门诊", "11", "12", "13"]}
# valid resident numbers (GB 11643 check digit)
CERTNOS = ["11010519491231002X", "440524188001010014", "230102199001011230"]
BAD_CELLS = [  # (file, column, value): refused by both paths
    ("claims", "medfee_sumamt", "-5"), ("claims", "setl_date", "2023-02-30"),
    ("claims", "med_type", "dental"), ("claims", "referred", "maybe"), ("claims", "hifp_pay", "1.234"),
    ("persons", "insutype", "999"), ("identities", "category", "martian"),
    ("identities", "begndate", "yesterday"), ("claims", "psn_no", "NOBODY"),
    ("claims", "setl_id", ""), ("claims", "hifp_pay", " "), ("identities", "category", ""),
    ("persons", "certno", "230102199001011236"), ("persons", "brdy", "1990/13/01"),
    ("claims", "reasonable_ownpay_amt", "-1"), ("claims", "reasonable_ownpay_amt", "99999999.00"),
]


def blanks(draw, values: list[str]) -> list[str]:
    """A column as exported: all filled, all blank, or partly blank."""
    mode = draw(st.sampled_from(["full", "blank", "partly"]))
    if mode == "blank":
        return [""] * len(values)
    if mode == "full":
        return values
    return [v if draw(st.booleans()) else draw(st.sampled_from(["", " "])) for v in values]


def optional(draw, table: dict[str, list[str]], column: str, values: list[str]) -> None:
    """An optional column: absent, or present (full, blank or partly blank)."""
    if draw(st.booleans()):
        table[column] = blanks(draw, values)


def yuan(fen: int, draw) -> str:
    """Yuan as exports write them: `1234.50`, and `1234.5` or `1234` where the fen allow."""
    text = f"{fen // 100}.{fen % 100:02d}"
    short = text.rstrip("0").rstrip(".") if fen % 10 == 0 else text
    return draw(st.sampled_from([text, short]))


@st.composite
def files(draw):
    policy, year = draw(st.sampled_from(POLICIES))
    n_persons = draw(st.integers(1, 5))
    psn = [f"P{i}" for i in range(n_persons)]
    persons = {"psn_no": psn}
    optional(draw, persons, "insutype", [draw(st.sampled_from(["390", "310"])) for _ in psn])
    optional(draw, persons, "certno", [CERTNOS[i % len(CERTNOS)] for i in range(n_persons)])
    optional(draw, persons, "brdy", [f"19{draw(st.integers(30, 99))}-0{draw(st.integers(1, 9))}-1{draw(st.integers(0, 9))}"
                                     for _ in psn])
    optional(draw, persons, "late_stage_major_disease", [draw(st.sampled_from(TRUE + FALSE)) for _ in psn])
    optional(draw, persons, "psn_name", [f"名{i}" for i in range(n_persons)])
    optional(draw, persons, "hh_no", [draw(st.sampled_from(["H1", " H1", "H2", "h2", ""])) for _ in psn])

    idents = {"psn_no": [], "category": []}
    for p in psn:
        for _ in range(draw(st.integers(0, 2))):
            slug = draw(st.sampled_from(sorted(CATEGORY_NAMES)))
            idents["psn_no"].append(p)
            idents["category"].append(draw(st.sampled_from([slug, *CATEGORY_NAMES[slug]])))
    k = len(idents["psn_no"])
    begins = [dt.date(year, 1, 1) + dt.timedelta(days=draw(st.integers(-400, 300))) for _ in range(k)]
    optional(draw, idents, "begndate", [b.isoformat() for b in begins])
    if "begndate" in idents:
        optional(draw, idents, "enddate", [
            (b + dt.timedelta(days=draw(st.integers(0, 400)))).isoformat() if idents["begndate"][i].strip()
            else "" for i, b in enumerate(begins)])

    n_claims = draw(st.integers(1, 14))
    claims = {c: [] for c in ("setl_id", "psn_no", "setl_date", "med_type", "medfee_sumamt", "hifp_pay")}
    extra = {c: [] for c in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt",
                             "hifmi_pay", "referred", "in_province", "out_of_area", "reasonable_ownpay_amt")}
    for i in range(n_claims):
        med = draw(st.sampled_from(sorted(MED_TYPES)))
        medfee = draw(st.integers(0, 40_000_000))
        own = draw(st.integers(0, medfee // 10))
        over = draw(st.integers(0, medfee // 20))
        pre = draw(st.integers(0, medfee // 20))
        inscp = medfee - own - over - pre
        hifp = draw(st.integers(0, inscp))
        hifmi = draw(st.one_of(st.none(), st.integers(0, (inscp - hifp) // 3)))
        claims["setl_id"].append(f"s{i}")
        claims["psn_no"].append(draw(st.sampled_from(psn)))
        claims["setl_date"].append((dt.date(year, 1, 1) + dt.timedelta(days=draw(st.integers(0, 364)))).isoformat())
        claims["med_type"].append(draw(st.sampled_from(MED_TYPES[med])))
        claims["medfee_sumamt"].append(yuan(medfee, draw))
        claims["hifp_pay"].append(yuan(hifp, draw))
        extra["fulamt_ownpay_amt"].append(yuan(own, draw))
        extra["overlmt_selfpay"].append(yuan(over, draw))
        extra["preselfpay_amt"].append(yuan(pre, draw))
        extra["inscp_scp_amt"].append(yuan(inscp, draw))
        extra["hifmi_pay"].append("" if hifmi is None else yuan(hifmi, draw))
        extra["reasonable_ownpay_amt"].append(yuan(draw(st.integers(0, own + over + pre)), draw))
        for c in ("referred", "in_province", "out_of_area"):
            extra[c].append(draw(st.sampled_from(TRUE + FALSE)))
    # the self-paid parts come together: without them inscp_scp_amt's default is medfee_sumamt
    parts = draw(st.sampled_from(["none", "all", "all_blank"]))
    for c in ("fulamt_ownpay_amt", "overlmt_selfpay", "preselfpay_amt"):
        if parts == "all":
            claims[c] = extra[c]
        elif parts == "all_blank":
            claims[c] = [""] * n_claims
    if parts == "all" or draw(st.booleans()):
        if parts == "all":
            optional(draw, claims, "inscp_scp_amt", extra["inscp_scp_amt"])
        else:
            optional(draw, claims, "inscp_scp_amt", [m for m in claims["medfee_sumamt"]])
    optional(draw, claims, "hifmi_pay", extra["hifmi_pay"])
    if parts == "all":   # within the out-of-scope costs only when they are given
        optional(draw, claims, "reasonable_ownpay_amt", extra["reasonable_ownpay_amt"])
    for c in ("referred", "in_province", "out_of_area"):
        optional(draw, claims, c, extra[c])

    tables = {"persons": persons, "identities": idents, "claims": claims}
    # none, one or two bad cells (two in one row: both paths must name the same one)
    for name, column, value in draw(st.lists(st.sampled_from(BAD_CELLS), max_size=2)):
        t = tables[name]
        if t["psn_no"]:
            if column not in t:
                t[column] = [""] * len(t["psn_no"])
            t[column][draw(st.integers(0, len(t["psn_no"]) - 1))] = value
    fmt = draw(st.sampled_from(["csv", "csv-bom-crlf", "parquet-text", "parquet-typed"]))
    return policy, year, tables, fmt, draw(st.booleans())


def write(d: Path, name: str, table: dict[str, list[str]], fmt: str) -> Path:
    if fmt.startswith("csv"):
        path = d / f"{name}.csv"
        frame = pl.DataFrame(table, schema={c: pl.Utf8 for c in table})
        text = frame.write_csv(line_terminator="\r\n" if fmt == "csv-bom-crlf" else "\n")
        data = text.encode("utf-8")
        path.write_bytes((codecs.BOM_UTF8 if fmt == "csv-bom-crlf" else b"") + data)
        return path
    path = d / f"{name}.parquet"
    arrays, fields = [], []
    for c, values in table.items():
        cells = [v.strip() or None for v in values]
        typ, conv = pa.string(), (lambda v: v)
        if fmt == "parquet-typed":
            if c in ("setl_date", "begndate", "enddate", "brdy") and all(_is_date(v) for v in cells if v):
                typ, conv = pa.date32(), dt.date.fromisoformat
            elif c in ("referred", "in_province", "out_of_area", "late_stage_major_disease") \
                    and all(v in TRUE + FALSE for v in cells if v):
                typ, conv = pa.bool_(), (lambda v: v in TRUE)
            elif c.endswith(("_amt", "_pay", "_sumamt", "_selfpay")) and all(_is_amount(v) for v in cells if v):
                typ, conv = pa.decimal128(18, 2), Decimal
            elif c in ("med_type", "insutype") and all(v.isdigit() for v in cells if v):
                typ, conv = pa.int64(), int     # national codes exported as numbers
        arrays.append(pa.array([None if v is None else conv(v) for v in cells], type=typ))
        fields.append(pa.field(c, typ))
    pq.write_table(pa.Table.from_arrays(arrays, schema=pa.schema(fields)), path)
    return path


def _is_date(v: str) -> bool:
    try:
        dt.date.fromisoformat(v)
        return len(v) == 10
    except ValueError:
        return False


def _is_amount(v: str) -> bool:
    try:
        d = Decimal(v)
    except Exception:
        return False
    return d >= 0 and d == d.quantize(Decimal("0.01"))


def settle(d: Path, policy: str, year: int, paths: dict[str, Path], path_choice: str, out: str,
           payers: bool = False):
    """`tuodi settle`; with `payers`, under PAYER_OVERLAY's further payers and with a --detail file
    next to `out` (detail-OUT)."""
    stats = d / "stats.csv"
    extra = []
    if payers:
        from .conftest import PAYER_OVERLAY
        overlay = d / "payers.yaml"
        overlay.write_text(PAYER_OVERLAY, encoding="utf-8")
        extra = ["--overlay", str(overlay), "--detail", str(d / f"detail-{out}")]
    stats.write_text(f"name,year,value\nper_capita_disposable_income,{year - 1},30000\n", encoding="utf-8")
    before = os.environ.get("TUODI_SETTLE")
    os.environ["TUODI_SETTLE"] = path_choice
    try:
        return CliRunner().invoke(app, [
            "settle", "--policy", policy, "--persons", str(paths["persons"]),
            "--identities", str(paths["identities"]), "--claims", str(paths["claims"]),
            "--stats", str(stats), "--out", str(d / out), *extra])
    finally:
        if before is None:
            os.environ.pop("TUODI_SETTLE", None)
        else:
            os.environ["TUODI_SETTLE"] = before


@settings(max_examples=int(os.environ.get("TUODI_FILE_EXAMPLES", "80")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                 HealthCheck.data_too_large])
@given(case=files())
def test_both_paths_read_user_files_alike(tmp_path_factory, case):
    policy, year, tables, fmt, payers = case
    d = tmp_path_factory.mktemp("files")
    paths = {name: write(d, name, t, fmt) for name, t in tables.items()}
    out_ext = "parquet" if fmt.startswith("parquet") else "csv"
    a = settle(d, policy, year, paths, "engine", f"engine.{out_ext}", payers)
    b = settle(d, policy, year, paths, "columnar", f"columnar.{out_ext}", payers)
    assert "internal error" not in a.stderr and "internal error" not in b.stderr, (a.stderr, b.stderr)
    assert b.exit_code == a.exit_code, (a.stderr, b.stderr)
    assert b.stderr.replace("columnar.", "OUT.") == a.stderr.replace("engine.", "OUT."), (a.stderr, b.stderr)
    if a.exit_code:
        assert not (d / f"columnar.{out_ext}").exists() and not (d / f"engine.{out_ext}").exists()
        return
    for prefix in ("", "detail-") if payers else ("",):
        if out_ext == "csv":
            assert (d / f"{prefix}engine.csv").read_bytes() == (d / f"{prefix}columnar.csv").read_bytes()
        else:
            ta = pq.read_table(d / f"{prefix}engine.parquet")
            tb = pq.read_table(d / f"{prefix}columnar.parquet")
            assert ta.schema == tb.schema and ta.equals(tb)


def test_a_blank_referred_column_settles_on_the_default_path(tmp_path):
    """Issue 18's case: 60,000 claims whose `referred` column is present and blank on every row
    (CONTRACT.md: blank means the default, `true`) settle on the default path, which is the
    columnar one at that size, identical to the engine path."""
    n = 60_000
    (tmp_path / "persons.csv").write_text("psn_no,insutype\n" + "".join(f"P{i},390\n" for i in range(1000)),
                                          encoding="utf-8")
    (tmp_path / "identities.csv").write_text("psn_no,category,begndate,enddate\nP1,dibao,,\nP2,低保边缘家庭成员,,\n",
                                             encoding="utf-8")
    rows = "".join(f"s{i},P{i % 1000},2023-{1 + i % 12:02d}-{1 + i % 28:02d},{('21', '14', '11')[i % 3]},"
                   f"{1000 + i % 7000}.50,{300 + i % 500},,\n" for i in range(n))
    (tmp_path / "claims.csv").write_text(
        "setl_id,psn_no,setl_date,med_type,medfee_sumamt,hifp_pay,hifmi_pay,referred\n" + rows, encoding="utf-8")
    paths = {f: tmp_path / f"{f}.csv" for f in ("persons", "identities", "claims")}
    auto = settle(tmp_path, "harbin", 2023, paths, "auto", "auto.csv")
    engine = settle(tmp_path, "harbin", 2023, paths, "engine", "engine.csv")
    assert auto.exit_code == 0, auto.stderr
    assert engine.exit_code == 0, engine.stderr
    assert (tmp_path / "auto.csv").read_bytes() == (tmp_path / "engine.csv").read_bytes()
