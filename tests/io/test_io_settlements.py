"""Reading a settlements file back (`tuodi report --settlements`): io's parsers and refusals, and a
negative psn_part_amt where tilted assistance refunds (哈政办规〔2022〕16号 三(二)2)."""
from __future__ import annotations

import pytest

import tuodi.io
from tuodi.engine.model import Person
from tuodi.io import InputError, SETTLEMENT_COLUMNS, read_settlements

PERSONS = {"T1": Person("T1")}


def write(tmp_path, *rows):
    path = tmp_path / "settlements.csv"
    path.write_text("\n".join([",".join(SETTLEMENT_COLUMNS), *rows]) + "\n", encoding="utf-8")
    return path


def test_read_settlements_is_exported_by_io():
    assert "read_settlements" in tuodi.io.__all__


def test_a_tilted_assistance_refund_reads_as_a_negative_personal_part(tmp_path):
    """The claim that crosses the tilt line: medfee 1000, hifp 600, hifmi 0, maf 300, tilt 200 ->
    fund 600 + 0 + 300 + 200 = 1100, psn_part_amt 1000 − 1100 = −100 (a refund)."""
    path = write(tmp_path, "t1,T1,2023-05-01,dibao,1000.00,1000.00,600.00,0.00,300.00,200.00,0.00,1100.00,-100.00")
    [s] = read_settlements(path, PERSONS)
    assert (s.fund_pay_sumamt, s.psn_part_amt, s.category) == (110_000, -10_000, "dibao")


@pytest.mark.parametrize("column, index, text, message", [
    ("psn_part_amt", 12, "-1e2", "not an amount in yuan"),        # io's spelling rules, also for a refund
    ("psn_part_amt", 12, "-100.001", "at most two decimals"),
    ("maf_pay", 8, "-300.00", "negative amount"),                # only the personal part may be negative
    ("category", 3, "低保对象", "unknown category slug"),
])
def test_refusals_use_the_contract_spellings(tmp_path, column, index, text, message):
    cells = "t1,T1,2023-05-01,dibao,1000.00,1000.00,600.00,0.00,300.00,200.00,0.00,1100.00,-100.00".split(",")
    cells[index] = text
    with pytest.raises(InputError) as e:
        read_settlements(write(tmp_path, ",".join(cells)), PERSONS)
    assert (e.value.row, e.value.column) == (1, column) and message in str(e.value), str(e.value)


def test_a_settlements_file_without_oth_pay_reads_it_as_0(tmp_path):
    """A settlements file written before the further payers (issue 12) has no `oth_pay`: it is 0,
    and fund_pay_sumamt = 600 + 0 + 300 + 200 (+ 0) = 1100 still adds up."""
    path = tmp_path / "old.csv"
    columns = [c for c in SETTLEMENT_COLUMNS if c != "oth_pay"]
    path.write_text(",".join(columns) + "\nt1,T1,2023-05-01,dibao,1000.00,1000.00,600.00,0.00,300.00,200.00,"
                    "1100.00,-100.00\n", encoding="utf-8")
    [s] = read_settlements(path, PERSONS)
    assert (s.oth_pay, s.fund_pay_sumamt) == (0, 110_000)


def test_oth_pay_counts_in_fund_pay_sumamt(tmp_path):
    """CONTRACT.md settlements file: fund_pay_sumamt = hifp + hifmi + maf + tilt + oth_pay:
    600 + 0 + 300 + 0 + 50 = 950, psn_part_amt 1000 − 950 = 50; a sum without oth_pay is refused."""
    [s] = read_settlements(write(tmp_path, "t1,T1,2023-05-01,dibao,1000.00,1000.00,600.00,0.00,300.00,0.00,"
                                            "50.00,950.00,50.00"), PERSONS)
    assert (s.oth_pay, s.fund_pay_sumamt, s.psn_part_amt) == (5_000, 95_000, 5_000)
    with pytest.raises(InputError) as e:
        read_settlements(write(tmp_path, "t1,T1,2023-05-01,dibao,1000.00,1000.00,600.00,0.00,300.00,0.00,"
                                         "50.00,900.00,100.00"), PERSONS)
    assert e.value.column == "fund_pay_sumamt"
