"""`tuodi subsidy`: the share of the individual resident premium paid (资助参保), per person-year.

Each test cites the clause that gives the share; `amount = share × --contribution`.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from programs.files import one_line_refusal


def test_harbin_shares_by_category(tuodi):
    """哈政办规〔2022〕16号 三(一): 特困人员、孤儿、事实无人抚养儿童 全额资助 (1); 低保对象、返贫致贫人口
    60%; 纳入监测范围的农村易返贫致贫人口 60% in the transition period. 低保边缘家庭成员 are not named: 0.
    With a contribution of 350: 1 × 350 = 350.00, 0.6 × 350 = 210.00."""
    persons = [("A", "390"), ("B", "390"), ("C", "390"), ("D", "390"), ("E", "390"), ("F", "390"),
               ("G", "390"), ("H", "390")]
    identities = [("A", "特困人员", "", ""), ("B", "orphan", "", ""), ("C", "事实无人抚养儿童", "", ""),
                  ("D", "dibao", "", ""), ("E", "返贫致贫人口", "", ""), ("F", "监测对象", "", ""),
                  ("G", "near_dibao", "", "")]
    r = tuodi("subsidy", "harbin", persons, identities, args=["--year", "2023", "--contribution", "350"])
    assert r.exit_code == 0, r.stderr
    assert r.columns == ["psn_no", "category", "share", "amount"]
    assert [row["psn_no"] for row in r.rows] == list("ABCDEFGH")        # the persons' order
    assert r.by_psn("share") == {"A": "1", "B": "1", "C": "1", "D": "0.6", "E": "0.6", "F": "0.6",
                                 "G": "0", "H": "0"}
    assert r.by_psn("category") == {"A": "extreme_poverty", "B": "orphan", "C": "unsupported_child",
                                    "D": "dibao", "E": "returned_poverty", "F": "monitored_rural",
                                    "G": "", "H": ""}
    assert r.dec("A", "amount") == Decimal("350.00")                    # 1 × 350
    assert r.dec("D", "amount") == Decimal("210.00")                    # 0.6 × 350
    assert r.dec("H", "amount") == Decimal("0.00")


def test_largest_share_over_identities_and_identities_held_during_the_year(tuodi):
    """哈政办规 三(一) with 就高不就低 (CONTRACT.md subsidy file: the identity giving the largest share):
    低保 0.6 and 特困 1 -> 1. An identity that ended on 2022-12-31 does not count for 2023; one
    recognised on 2023-06-01 does (the whole year's premium: 0.6 × 320 = 192.00)."""
    persons = [("P1", "390"), ("P2", "390"), ("P3", "390")]
    identities = [("P1", "dibao", "", ""), ("P1", "extreme_poverty", "2023-03-01", ""),
                  ("P2", "extreme_poverty", "2020-01-01", "2022-12-31"),
                  ("P3", "dibao", "2023-06-01", "")]
    r = tuodi("subsidy", "harbin", persons, identities, args=["--year", "2023", "--contribution", "320"])
    assert r.exit_code == 0, r.stderr
    assert (r.by_psn("category")["P1"], r.by_psn("share")["P1"], r.dec("P1", "amount")) == (
        "extreme_poverty", "1", Decimal("320.00"))
    assert (r.by_psn("share")["P2"], r.dec("P2", "amount")) == ("0", Decimal("0.00"))
    assert (r.by_psn("share")["P3"], r.dec("P3", "amount")) == ("0.6", Decimal("192.00"))   # 0.6 × 320


def test_amount_is_empty_without_contribution_and_employees_pay_no_resident_premium(tuodi):
    """CONTRACT.md: `amount` empty without --contribution. 哈政办规 三(一) subsidises the 城乡居民
    基本医保个人缴费: an employee (310) holding 低保 has no resident premium to subsidise: share 0."""
    r = tuodi("subsidy", "harbin", [("R", "390"), ("W", "310")],
              [("R", "dibao", "", ""), ("W", "dibao", "", "")], args=["--year", "2024"])
    assert r.exit_code == 0, r.stderr
    assert r.by_psn("share") == {"R": "0.6", "W": "0"}
    assert r.by_psn("amount") == {"R": "", "W": ""}


def test_qinghai_near_dibao_minors_under_18_on_1_january(tuodi):
    """青海 三(一): 低保边缘家庭成员中的未成年人 … 按当年个人缴费标准的50%给予资助. A minor is under 18
    on 1 January of the year: born 2005-01-02 is 17 on 2023-01-01 -> 0.5 × 380 = 190.00; born
    2005-01-01 turns 18 that day -> 0. Without a birth date the age is unknown: share empty, warned."""
    persons = [{"psn_no": "Y", "brdy": "2005-01-02"}, {"psn_no": "Z", "brdy": "2005-01-01"},
               {"psn_no": "U", "brdy": ""}]
    identities = [(p, "低保边缘家庭成员", "", "") for p in "YZU"]
    r = tuodi("subsidy", "qinghai", persons, identities, args=["--year", "2023", "--contribution", "380"])
    assert r.exit_code == 0, r.stderr
    assert (r.by_psn("share")["Y"], r.dec("Y", "amount")) == ("0.5", Decimal("190.00"))   # 0.5 × 380
    assert (r.by_psn("share")["Z"], r.dec("Z", "amount")) == ("0", Decimal("0.00"))
    assert (r.by_psn("category")["U"], r.by_psn("share")["U"], r.by_psn("amount")["U"]) == ("near_dibao", "", "")
    assert "subsidy.subsidy_near_dibao_minor for near_dibao is undefined" in r.stderr and "brdy" in r.stderr


def test_qinghai_monitored_rural_steps_down_2022_to_2025_then_undefined(tuodi):
    """青海 三(一): 2022年至2025年，农村易返贫致贫人口 … 逐年按80%、70%、60%、50%递减. With 380:
    0.8 × 380 = 304, 0.7 × 380 = 266, 0.6 × 380 = 228, 0.5 × 380 = 190. 2026 is not given: the
    share is undefined — empty with a warning, and an error with --strict (CONTRACT.md)."""
    expected = {2022: ("0.8", "304.00"), 2023: ("0.7", "266.00"), 2024: ("0.6", "228.00"), 2025: ("0.5", "190.00")}
    for year, (share, amount) in expected.items():
        r = tuodi("subsidy", "qinghai", [("M", "390")], [("M", "农村易返贫致贫人口", "", "")],
                  args=["--year", str(year), "--contribution", "380"])
        assert r.exit_code == 0, r.stderr
        assert (r.by_psn("share")["M"], r.by_psn("amount")["M"]) == (share, amount), year
    r = tuodi("subsidy", "qinghai", [("M", "390")], [("M", "monitored_rural", "", "")],
              args=["--year", "2026", "--contribution", "380"])
    assert r.exit_code == 0, r.stderr
    assert (r.by_psn("share")["M"], r.by_psn("amount")["M"]) == ("", "")
    assert "policy qinghai: rule subsidy.subsidy_monitored for monitored_rural is undefined" in r.stderr
    strict = tuodi("subsidy", "qinghai", [("M", "390")], [("M", "monitored_rural", "", "")],
                   args=["--year", "2026", "--strict"])
    one_line_refusal(strict, "--strict", "subsidy_monitored")


def test_changzhi_full_subsidy_and_unquantified_veterans(tuodi):
    """长民发[2017]142号 三(一)2: 城乡低保对象、特困供养人员 全额资助 (1); 建档立卡贫困人口 全额资助 (1);
    重点优抚对象 按照优抚对象医疗救助政策执行 — not quantified: empty. A veteran who is also 低保 gets
    1: no share exceeds the whole premium, so the unknown one cannot change the largest."""
    persons = [("V", "390"), ("VD", "390"), ("RP", "390")]
    identities = [("V", "重点优抚对象", "", ""), ("VD", "entitled_veteran", "", ""), ("VD", "低保对象", "", ""),
                  ("RP", "建档立卡贫困人口", "", "")]
    r = tuodi("subsidy", "changzhi", persons, identities, args=["--year", "2018", "--contribution", "150"])
    assert r.exit_code == 0, r.stderr
    assert r.by_psn("share") == {"V": "", "VD": "1", "RP": "1"}
    assert r.by_psn("amount") == {"V": "", "VD": "150.00", "RP": "150.00"}
    assert "subsidy.subsidy_veteran for entitled_veteran is undefined" in r.stderr


def test_jiamusi_lifted_poverty_subsidy_named_for_2021_2022_only(tuodi):
    """佳木斯 二3: 2021年、2022年继续按规定对脱贫人口给予资助参保 — no share given: empty in 2022;
    the clause names only those years, so 2023 has no subsidy (0)."""
    r22 = tuodi("subsidy", "jiamusi", [("L", "390")], [("L", "脱贫人口", "", "")], args=["--year", "2022"])
    assert r22.exit_code == 0 and r22.by_psn("share") == {"L": ""}
    r23 = tuodi("subsidy", "jiamusi", [("L", "390")], [("L", "脱贫人口", "", "")], args=["--year", "2023"])
    assert r23.exit_code == 0 and r23.by_psn("share") == {"L": "0"}


def test_refusals_name_file_row_column_and_write_nothing(tuodi):
    """CONTRACT.md: a bad input exits non-zero with one line naming the file, row and column."""
    one_line_refusal(tuodi("subsidy", "harbin", [("A", "390")], args=["--year", "2022"]),
                     "--year 2022", "harbin")
    one_line_refusal(tuodi("subsidy", "harbin", [("A", "390")], args=["--year", "2023", "--contribution", "-5"]),
                     "--contribution", "negative")
    one_line_refusal(tuodi("subsidy", "harbin", [("A", "390")], [("A", "乡贤", "", "")], args=["--year", "2023"]),
                     "identities.csv", "row 1", "column category")
    one_line_refusal(tuodi("subsidy", "harbin", [("A", "390")], [("B", "dibao", "", "")], args=["--year", "2023"]),
                     "identities.csv", "row 1", "column psn_no", "'B'")
    one_line_refusal(tuodi("subsidy", "qinghai", [{"psn_no": "A", "brdy": "2005-13-01"}], args=["--year", "2023"]),
                     "persons.csv", "row 1", "column brdy")


@pytest.mark.parametrize("command, policy", [("subsidy", "harbin"), ("grants", "changzhi")])
@pytest.mark.parametrize("year", ["99999", "-5", "1899", "2101", "abc", "20a3"])
def test_year_out_of_range_is_refused_in_one_line(tuodi, command, policy, year):
    """CONTRACT.md: bad input is a one-line refusal, never an internal error: --year is a calendar
    year YYYY between 1900 and 2100."""
    r = tuodi(command, policy, [("A", "390")], args=[f"--year={year}"])
    one_line_refusal(r, "--year", year, "1900", "2100")
    assert r.exit_code == 2 and "internal error" not in r.stderr
