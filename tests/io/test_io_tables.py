"""Reading the contract's files: amounts exactly as the contract writes them, or a clear refusal."""
from __future__ import annotations

import pytest

from tuodi.io.tables import InconsistentAmounts, check_claim_amounts, certno_ok, parse_amount_fen


@pytest.mark.parametrize("text, fen", [("1234", 123400), ("1234.5", 123450), ("1234.50", 123450),
                                       ("0", 0), ("0.01", 1)])
def test_amounts_in_yuan_become_fen(text, fen):
    assert parse_amount_fen(text) == fen


@pytest.mark.parametrize("text, message", [
    ("12.3.4", "not an amount in yuan"), ("abc", "not an amount in yuan"), ("1e3", "not an amount in yuan"),
    ("+5", "not an amount in yuan"), ("１２", "not an amount in yuan"), ("NaN", "not an amount in yuan"),
    ("-5", "negative amount"), ("1.005", "at most two decimals"),
])
def test_other_spellings_are_refused_with_a_reason(text, message):
    """CONTRACT.md: amounts are yuan with at most two decimals (1234.5, 1234.50)."""
    with pytest.raises(ValueError, match=message):
        parse_amount_fen(text)


def test_claim_amounts_add_up():
    """inscp_scp_amt = medfee − fulamt_ownpay − overlmt − preselfpay: 10000 − 1000 − 500 − 300 = 8200."""
    assert check_claim_amounts(1_000_000, 100_000, 50_000, 30_000, None, 500_000, None) == 820_000
    with pytest.raises(InconsistentAmounts) as e:
        check_claim_amounts(1_000_000, 100_000, 50_000, 30_000, 830_000, 500_000, None)
    assert e.value.column == "inscp_scp_amt" and "8200.00" in str(e.value)
    with pytest.raises(InconsistentAmounts) as e:
        check_claim_amounts(1_000_000, 0, 0, 0, None, 600_000, 400_001)     # hifmi > 10000 − 6000
    assert e.value.column == "hifmi_pay"


def test_certno_check_digit():
    """GB 11643: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, check '10X98765432'[sum % 11]."""
    assert certno_ok("11010519491231002X")
    assert not certno_ok("110105194912310021")
    assert not certno_ok("1101051949123100")


def test_persons_carry_name_telephone_address_and_certno(tmp_path):
    """CONTRACT.md persons file: psn_name, tel, addr, certno are optional; read (and checked: the
    GB 11643 check digit) with the file, trimmed, None when empty or absent."""
    from tuodi.engine.model import Person
    from tuodi.io.tables import read_persons

    path = tmp_path / "persons.csv"
    path.write_text("psn_no,psn_name,tel,addr,certno\nN1, 张三 ,13800000000,道里区 1 号,11010519491231002X\n"
                    "N2,,,,\n", encoding="utf-8")
    persons = read_persons(path)
    assert (persons["N1"].psn_name, persons["N1"].tel, persons["N1"].addr, persons["N1"].certno) == (
        "张三", "13800000000", "道里区 1 号", "11010519491231002X")
    assert persons["N2"] == Person("N2")
    path.write_text("psn_no\nN3\n", encoding="utf-8")
    assert read_persons(path)["N3"].psn_name is None
