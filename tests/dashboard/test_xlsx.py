"""The XLSX cells: amounts are the Decimal of the CSV files, shown with two decimals."""
from __future__ import annotations

from decimal import Decimal

import openpyxl

from tuodi.dashboard.xlsx import AMOUNT_FORMAT, Sheet, build_workbook, write_workbook

SHEET = Sheet("s", ["psn_no", "value", "other"],
              [["A", Decimal("13000.00"), Decimal("0.10")], ["B", Decimal("1234.56"), Decimal("0.30")]],
              {"value": AMOUNT_FORMAT})


def test_amounts_are_handed_to_the_workbook_as_decimals():
    """No float on the way: the cells hold the Decimal amounts given (13000.00, 0.10, …)."""
    ws = build_workbook([SHEET]).active
    values = [ws.cell(r, c).value for r in (2, 3) for c in (2, 3)]
    assert values == [Decimal("13000.00"), Decimal("0.10"), Decimal("1234.56"), Decimal("0.30")]
    assert all(type(v) is Decimal for v in values)


def test_every_amount_is_shown_with_two_decimals(tmp_path):
    """A Decimal column with a format keeps it; one without gets the amount format #,##0.00."""
    path = tmp_path / "w.xlsx"
    write_workbook(path, [SHEET])
    ws = openpyxl.load_workbook(path).active
    assert [ws.cell(r, c).number_format for r in (2, 3) for c in (2, 3)] == ["#,##0.00"] * 4
    assert ws["C2"].value == 0.1 and ws["B3"].value == 1234.56
