"""`tuodi warn`: the early-warning rules (双预警) of the policy data, each with its line and the
departments it notifies; `--split-by-department` writes one CSV and one XLSX per department.

Critical-illness amounts computed here use Heilongjiang's 2022- schedule (黑医保发〔2021〕41号 二1):
threshold 12,000; 65% up to 20,000, 70% to 50,000 — e.g. r1 = 40,000 ->
(20000 − 12000) × 0.65 + (40000 − 20000) × 0.70 = 5200 + 14000 = 19200.
"""
from __future__ import annotations

from decimal import Decimal

import openpyxl

from programs.files import one_line_refusal, read_csv

HARBIN_STATS = [("per_capita_disposable_income", 2022, "40000")]


def _rows(r):
    return {(row["psn_no"], row["rule"]): row for row in r.rows}


def test_harbin_burden_over_10000_after_basic_and_critical_illness_insurance(tuodi):
    """哈政办规〔2022〕16号 三(四): 经基本医保、大病保险报销后，个人负担医疗费用超过1万元 -> civil
    affairs and rural revitalisation. Burden = medfee − hifp − hifmi over the year:
    N1: (18000 − 6000 − 0) + (16000 − 9000 − 0) = 12000 + 7000 = 19000 > 10000, fires;
    N2: 25000 − 15000 − 0 = 10000, not over (超过 is strict);
    N3: r1 = 40000 − 20000 = 20000, hifmi = (20000 − 12000) × 0.65 = 5200, 40000 − 20000 − 5200 = 14800."""
    persons = [("N1", "390"), ("N2", "390"), ("N3", "390")]
    claims = [("c1", "N1", "2023-02-01", "inpatient", "18000", "6000", "0"),
              ("c2", "N1", "2023-09-01", "outpatient", "16000", "9000", "0"),
              ("c3", "N2", "2023-03-01", "inpatient", "25000", "15000", "0"),
              {"setl_id": "c4", "psn_no": "N3", "setl_date": "2023-04-01", "med_type": "inpatient",
               "medfee_sumamt": "45000", "fulamt_ownpay_amt": "5000", "hifp_pay": "20000"}]
    r = tuodi("warn", "harbin", persons, claims=claims, stats=HARBIN_STATS)
    assert r.exit_code == 0, r.stderr
    assert r.columns == ["psn_no", "year", "rule", "value", "threshold", "notify"]  # CONTRACT.md warnings file
    rows = _rows(r)
    assert Decimal(rows[("N1", "burden_over_10000")]["value"]) == Decimal("19000")
    assert Decimal(rows[("N1", "burden_over_10000")]["threshold"]) == Decimal("10000")
    assert rows[("N1", "burden_over_10000")]["notify"] == "civil_affairs;rural_revitalization"
    assert ("N2", "burden_over_10000") not in rows
    # N3: medfee 45000 with 5000 全自费: in scope 40000; burden counts the whole bill:
    # 45000 − 20000 − 5200 = 19800
    assert Decimal(rows[("N3", "burden_over_10000")]["value"]) == Decimal("19800")


def test_harbin_monitored_persons_for_whom_critical_illness_started(tuodi):
    """哈政办规 三(四): 定期将启动大病保险的监测对象有关医疗费用信息推送至民政、乡村振兴部门.
    M1 (监测对象 from 2023-03-01): the yearly base after its March claim is 500 (January) + 20000 =
    20500 -> hifmi (20000 − 12000) × 0.65 + (20500 − 20000) × 0.70 = 5200 + 350 = 5550 > 0; its
    January claim (hifmi 0, before the identity) adds nothing to the figure. M2: r1 = 10000 < 12000,
    nothing started.
    M3 (no identity) with the same claim as M1: not a 监测对象."""
    persons = [("M1", "390"), ("M2", "390"), ("M3", "390")]
    identities = [("M1", "纳入监测范围的农村易返贫致贫人口", "2023-03-01", ""), ("M2", "monitored_rural", "", "")]
    claims = [("m0", "M1", "2023-01-10", "outpatient", "1000", "500", "0"),
              ("m1", "M1", "2023-03-10", "inpatient", "40000", "20000", ""),
              ("m2", "M2", "2023-03-10", "inpatient", "20000", "10000", ""),
              ("m3", "M3", "2023-03-10", "inpatient", "40000", "20000", "")]
    r = tuodi("warn", "harbin", persons, identities, claims, stats=HARBIN_STATS)
    assert r.exit_code == 0, r.stderr
    rows = _rows(r)
    row = rows[("M1", "monitored_ci_started")]
    assert (Decimal(row["value"]), Decimal(row["threshold"])) == (Decimal("5550"), Decimal("0"))
    assert ("M2", "monitored_ci_started") not in rows and ("M3", "monitored_ci_started") not in rows


def test_harbin_tilt_line_as_early_signal(tuodi):
    """哈政办规 三(二)2: 三重制度综合保障后政策范围内个人自付超过上年度人均可支配收入50%:
    line = 40000 × 0.5 = 20000. T1 (no identity, no assistance): r1 = 80000 − 40000 = 40000,
    hifmi = 19200, r3 = 40000 − 19200 − 0 = 20800 > 20000, fires (and its burden 20800 > 10000).
    T2 (低保, hifmi given 0): maf = 20000 × 0.9 = 18000, r3 = 2000, no tilt signal."""
    persons = [("T1", "390"), ("T2", "390")]
    claims = [("t1", "T1", "2023-05-01", "inpatient", "80000", "40000", ""),
              ("t2", "T2", "2023-05-01", "inpatient", "40000", "20000", "0")]
    r = tuodi("warn", "harbin", persons, [("T2", "dibao", "", "")], claims, stats=HARBIN_STATS)
    assert r.exit_code == 0, r.stderr
    rows = _rows(r)
    assert (Decimal(rows[("T1", "tilt_line")]["value"]), Decimal(rows[("T1", "tilt_line")]["threshold"])) == (
        Decimal("20800"), Decimal("20000"))
    assert ("T2", "tilt_line") not in rows
    assert Decimal(rows[("T2", "burden_over_10000")]["value"]) == Decimal("20000")   # 40000 − 20000 − 0


def test_missing_statistic_leaves_the_tilt_signal_unevaluated(tuodi):
    """CONTRACT.md statistics file: a rule whose figure is missing is undefined — warned, and with
    --strict an error that writes nothing."""
    claims = [("t1", "T1", "2023-05-01", "inpatient", "80000", "40000", "")]
    r = tuodi("warn", "harbin", [("T1", "390")], claims=claims)
    assert r.exit_code == 0, r.stderr
    assert "warnings.tilt_line is undefined" in r.stderr and "per_capita_disposable_income for 2022" in r.stderr
    assert [row["rule"] for row in r.rows] == ["burden_over_10000"]
    one_line_refusal(tuodi("warn", "harbin", [("T1", "390")], claims=claims, args=["--strict"]),
                     "--strict", "tilt_line")


def test_qinghai_employees_above_last_years_average_wage(tuodi):
    """青海 五(一): 参保职工个人年度累计负担医疗费用超过全省上年全口径城镇就业人员平均工资 -> 医保部门
    预警监测. average_wage 2022 = 100000. E1 (310): 150000 − 40000 − 5000 = 105000 > 100000, fires.
    R1 (390) with the same claim: not an employee. E2 (310) without hifmi_pay: 职工大额医疗费用补助 is not
    in the seeds, so the burden is unknown: not evaluated, warned."""
    persons = [("E1", "310"), ("R1", "390"), ("E2", "310")]
    claims = [("e1", "E1", "2023-06-01", "inpatient", "150000", "40000", "5000"),
              ("r1", "R1", "2023-06-01", "inpatient", "150000", "40000", "5000"),
              ("e2", "E2", "2023-06-01", "inpatient", "150000", "40000", "")]
    r = tuodi("warn", "qinghai", persons, claims=claims, stats=[("average_wage", 2022, "100000")])
    assert r.exit_code == 0, r.stderr
    assert [(row["psn_no"], row["rule"], row["value"], row["threshold"], row["notify"]) for row in r.rows] == [
        ("E1", "employee_over_average_wage", "105000.00", "100000.00", "medical_security")]
    assert "warnings.employee_over_average_wage cannot be evaluated" in r.stderr


def test_quzhou_monitoring_line_is_not_quantified(tuodi):
    """衢政办发〔2023〕1号 三(一): 科学设置不同群体的监测标准 — no line is given: undefined, warned; 按风险等级
    高低 … 共享 — the risk levels are policy data, named but not quantified: warned too."""
    r = tuodi("warn", "quzhou", [("Q", "390")], claims=[("q1", "Q", "2023-06-01", "inpatient", "50000", "20000", "0")])
    assert r.exit_code == 0, r.stderr
    assert r.rows == [] and "warnings.risk_monitoring is undefined" in r.stderr and "衢政办发〔2023〕1号" in r.stderr
    assert "warnings.risk_levels is undefined" in r.stderr


def test_split_by_department_csv_and_xlsx_with_contact_data_where_the_clause_sends_it(tuodi):
    """哈政办规 三(四): the push to 民政、乡村振兴 includes 个人实际负担医疗费用、户籍或居住地址、联系方式;
    one CSV and one XLSX per department, the same rows in both. N1's burden: 30000 − 15000 − 2000 = 13000."""
    persons = [{"psn_no": "N1", "psn_name": "张三", "tel": "13800000000", "addr": "道里区 1 号"},
               {"psn_no": "N2", "psn_name": "李四", "tel": "13900000000", "addr": "南岗区 2 号"}]
    claims = [("c1", "N1", "2023-02-01", "inpatient", "30000", "15000", "2000"),
              ("c2", "N2", "2023-02-01", "inpatient", "3000", "1500", "0")]
    r = tuodi("warn", "harbin", persons, claims=claims, stats=HARBIN_STATS,
              args=["--split-by-department", "{dir}/dept"])
    assert r.exit_code == 0, r.stderr
    files = sorted(p.name for p in (r.folder / "dept").iterdir())
    assert files == ["civil_affairs.csv", "civil_affairs.xlsx", "rural_revitalization.csv", "rural_revitalization.xlsx"]
    for dept in ("civil_affairs", "rural_revitalization"):
        rows = read_csv(r.folder / "dept" / f"{dept}.csv")
        assert [(x["psn_no"], x["rule"], x["value"], x["psn_name"], x["tel"], x["addr"]) for x in rows] == [
            ("N1", "burden_over_10000", "13000.00", "张三", "13800000000", "道里区 1 号")]
        assert "哈政办规〔2022〕16号 三(四)" in rows[0]["ref"]
        ws = openpyxl.load_workbook(r.folder / "dept" / f"{dept}.xlsx").active
        header = [c.value for c in ws[1]]
        values = dict(zip(header, [c.value for c in ws[2]]))
        assert (values["psn_no"], values["value"], values["tel"]) == ("N1", 13000, "13800000000")
        assert ws.max_row == 2


def test_split_files_carry_no_contact_data_for_rules_that_do_not_send_it(tuodi):
    """青海 五(一) names no contact data: the medical_security file leaves psn_name, tel, addr empty."""
    persons = [{"psn_no": "E1", "insutype": "310", "psn_name": "王五", "tel": "13700000000"}]
    claims = [("e1", "E1", "2023-06-01", "inpatient", "150000", "40000", "5000")]
    r = tuodi("warn", "qinghai", persons, claims=claims, stats=[("average_wage", 2022, "100000")],
              args=["--split-by-department", "{dir}/dept"])
    assert r.exit_code == 0, r.stderr
    rows = read_csv(r.folder / "dept" / "medical_security.csv")
    assert [(x["psn_no"], x["psn_name"], x["tel"]) for x in rows] == [("E1", "", "")]


def test_bad_claims_are_refused_and_nothing_is_written(tuodi):
    """CONTRACT.md: a negative amount is refused naming file, row and column; no --out, no folder."""
    claims = [("c1", "N1", "2023-02-01", "inpatient", "30000", "-1", "0")]
    r = tuodi("warn", "harbin", [("N1", "390")], claims=claims, stats=HARBIN_STATS,
              args=["--split-by-department", "{dir}/dept"])
    one_line_refusal(r, "claims.csv", "row 1", "column hifp_pay")
    r = tuodi("warn", "harbin", [("N1", "390")], claims=[("c1", "N1", "2023-02-01", "inpatient", "3", "1", "0")],
              stats=[("per_capita_disposable_income", "last", "40000")])
    one_line_refusal(r, "stats.csv", "row 1", "column year")


def test_nothing_is_written_when_a_department_file_fails(tuodi, monkeypatch):
    """CONTRACT.md: nothing is written to --out when the run fails — nor to the department folder.
    The XLSX of a department cannot be written here: the run fails, and neither warnings.csv
    nor dept/ exists afterwards (nor a temporary folder beside them)."""
    import tuodi.dashboard.xlsx as xlsx

    def broken(path, sheets):
        raise OSError("disk full")

    monkeypatch.setattr(xlsx, "write_workbook", broken)
    claims = [("c1", "N1", "2023-02-01", "inpatient", "30000", "15000", "2000")]
    r = tuodi("warn", "harbin", [("N1", "390")], claims=claims, stats=HARBIN_STATS, out="warnings.csv",
              args=["--split-by-department", "{dir}/dept"])
    one_line_refusal(r, "disk full")


def test_no_department_files_when_out_cannot_be_written(tuodi):
    """--out with an unknown file type fails the run after the warnings are known: the department
    files, already prepared, are not left behind."""
    claims = [("c1", "N1", "2023-02-01", "inpatient", "30000", "15000", "2000")]
    r = tuodi("warn", "harbin", [("N1", "390")], claims=claims, stats=HARBIN_STATS, out="warnings.txt",
              args=["--split-by-department", "{dir}/dept"])
    one_line_refusal(r, "warnings.txt", ".csv or .parquet")


def test_each_row_names_its_year(tuodi):
    """CONTRACT.md warnings file: one row per person, year and rule (`psn_no, year, rule, …`).
    哈政办规〔2022〕16号 三(四): burden after basic + critical-illness insurance over 10,000. Y1's
    burden is 18000 − 6000 = 12000 in 2023 and 30000 − 18000 − 0 = 12000 in 2024 (r1 = 12000 is not
    above the 12,000 critical-illness threshold): two rows, told apart by their year."""
    claims = [("y1", "Y1", "2023-02-01", "inpatient", "18000", "6000", "0"),
              ("y2", "Y1", "2024-03-01", "inpatient", "30000", "18000", "")]
    r = tuodi("warn", "harbin", [("Y1", "390")], claims=claims,
              stats=HARBIN_STATS + [("per_capita_disposable_income", 2023, "42000")])
    assert r.exit_code == 0, r.stderr
    got = [(row["psn_no"], row["year"], row["rule"], row["value"]) for row in r.rows
           if row["rule"] == "burden_over_10000"]
    assert got == [("Y1", "2023", "burden_over_10000", "12000.00"), ("Y1", "2024", "burden_over_10000", "12000.00")]
