"""`tuodi grants`: one-off grants due in a year, once per person."""
from __future__ import annotations

from decimal import Decimal

from programs.files import one_line_refusal


def test_changzhi_major_disease_care_for_registered_poor_at_a_late_stage(tuodi):
    """长民发[2017]142号 三(二)2: 建档立卡贫困人口对象身患24类重特大疾病，且处于晚期，给予每人一次性的
    5000元大病关怀救助. G1 qualifies: 5000.00; G2 has no late-stage disease; G4 holds 建档立卡 twice
    (two rows): still one grant."""
    persons = [{"psn_no": "G1", "late_stage_major_disease": "是"}, {"psn_no": "G2", "late_stage_major_disease": "false"},
               {"psn_no": "G4", "late_stage_major_disease": "1"}]
    identities = [("G1", "建档立卡贫困人口", "", ""), ("G2", "registered_poor", "", ""),
                  ("G4", "registered_poor", "2016-01-01", "2018-03-31"), ("G4", "建档立卡贫困人口", "2018-06-01", "")]
    r = tuodi("grants", "changzhi", persons, identities, args=["--year", "2018"])
    assert r.exit_code == 0, r.stderr
    assert r.columns == ["psn_no", "grant", "amount"]
    assert [(x["psn_no"], x["grant"], x["amount"]) for x in r.rows] == [
        ("G1", "major_disease_care", "5000.00"), ("G4", "major_disease_care", "5000.00")]


def test_changzhi_major_disease_care_extends_from_key_persons_to_registered_poor(tuodi):
    """长民发[2017]142号 三(二)2: 大病关怀救助,要从重点对象扩展到建档立卡贫困人口对象 — the 重点对象 keep it.
    三(二) names them: 低保对象、特困供养人员 (then 建档立卡对象). All five persons have a late-stage major
    disease: K1 低保 5000.00, K2 特困供养人员 5000.00, K3 建档立卡 5000.00 — 3 × 5000 = 15000.00 in all;
    K4 低收入 and K5 重点优抚对象 are 医疗救助对象 (三(一)) but not 重点对象 of 三(二): nothing.
    Before this fix only K3 was granted (5000.00 in all)."""
    persons = [{"psn_no": f"K{i}", "late_stage_major_disease": "true"} for i in range(1, 6)]
    identities = [("K1", "低保对象", "", ""), ("K2", "extreme_poverty", "", ""), ("K3", "registered_poor", "", ""),
                  ("K4", "low_income", "", ""), ("K5", "entitled_veteran", "", "")]
    r = tuodi("grants", "changzhi", persons, identities, args=["--year", "2018"])
    assert r.exit_code == 0, r.stderr
    assert [(x["psn_no"], x["grant"], x["amount"]) for x in r.rows] == [
        ("K1", "major_disease_care", "5000.00"), ("K2", "major_disease_care", "5000.00"),
        ("K3", "major_disease_care", "5000.00")]
    assert sum(Decimal(x["amount"]) for x in r.rows) == Decimal("15000.00")


def test_no_grant_outside_the_identity_years_or_in_policies_without_grants(tuodi):
    """The identity must hold during the year; Harbin's notice names no one-off grant: a header only."""
    persons = [{"psn_no": "G1", "late_stage_major_disease": "true"}]
    r = tuodi("grants", "changzhi", persons, [("G1", "registered_poor", "2019-01-01", "")], args=["--year", "2018"])
    assert r.exit_code == 0 and r.rows == []
    r = tuodi("grants", "harbin", persons, [("G1", "registered_poor", "", "")], args=["--year", "2023"])
    assert r.exit_code == 0 and r.rows == [] and r.columns == ["psn_no", "grant", "amount"]


def test_bad_person_flag_is_refused(tuodi):
    """CONTRACT.md persons file: late_stage_major_disease is a boolean (true/false, 1/0, 是/否)."""
    r = tuodi("grants", "changzhi", [{"psn_no": "G1", "late_stage_major_disease": "maybe"}], args=["--year", "2018"])
    one_line_refusal(r, "persons.csv", "row 1", "column late_stage_major_disease")


PERSONS = [{"psn_no": "C1", "late_stage_major_disease": "true"}, {"psn_no": "C2", "late_stage_major_disease": "true"}]
IDENTITIES = [("C1", "registered_poor", "", ""), ("C2", "registered_poor", "", "")]


def test_once_per_person_grant_is_not_paid_again_in_a_later_year(tuodi):
    """长民发[2017]142号 三(二)2: 给予每人一次性的5000元大病关怀救助 — once per person, not once a year.
    C1 was granted 5000.00 in 2018 (the --paid file, the 2018 grants file); in 2019 only C2, who
    was not in it, is granted: C1 would otherwise be paid 5000 + 5000 = 10000."""
    r2018 = tuodi("grants", "changzhi", PERSONS[:1], IDENTITIES[:1], args=["--year", "2018"])
    assert r2018.exit_code == 0, r2018.stderr
    assert [(x["psn_no"], x["amount"]) for x in r2018.rows] == [("C1", "5000.00")]
    r2019 = tuodi("grants", "changzhi", PERSONS, IDENTITIES,
                  args=["--year", "2019", "--paid", str(r2018.folder / "out.csv")])
    assert r2019.exit_code == 0, r2019.stderr
    assert [(x["psn_no"], x["grant"], x["amount"]) for x in r2019.rows] == [
        ("C2", "major_disease_care", "5000.00")]


def test_paid_file_does_not_stop_a_grant_that_is_not_once_per_person(tuodi, tmp_path):
    """`once_per_person: false` (an overlay's yearly grant): the persons of --paid are granted again."""
    paid = tmp_path / "paid.csv"
    paid.write_text("psn_no,grant,amount\nC1,major_disease_care,5000.00\n", encoding="utf-8")
    overlay = tmp_path / "yearly.yaml"
    overlay.write_text("grants:\n  - id: major_disease_care\n    once_per_person: false\n", encoding="utf-8")
    r = tuodi("grants", "changzhi", PERSONS[:1], IDENTITIES[:1],
              args=["--year", "2019", "--paid", str(paid), "--overlay", str(overlay)])
    assert r.exit_code == 0, r.stderr
    assert [(x["psn_no"], x["amount"]) for x in r.rows] == [("C1", "5000.00")]


def test_bad_paid_file_is_refused(tuodi, tmp_path):
    """CONTRACT.md: a bad input names the file, the row and the column; nothing is written."""
    paid = tmp_path / "paid.csv"
    paid.write_text("psn_no,grant,amount\nC1,holiday_bonus,5000.00\n", encoding="utf-8")
    r = tuodi("grants", "changzhi", PERSONS[:1], IDENTITIES[:1], args=["--year", "2019", "--paid", str(paid)])
    one_line_refusal(r, "paid.csv", "row 1", "column grant", "holiday_bonus")
    paid.write_text("psn_no,grant,amount\nC1,major_disease_care,-5\n", encoding="utf-8")
    r = tuodi("grants", "changzhi", PERSONS[:1], IDENTITIES[:1], args=["--year", "2019", "--paid", str(paid)])
    one_line_refusal(r, "paid.csv", "row 1", "column amount")
