"""XLSX workbooks an office opens as they are: typed cells (amounts as numbers with two decimals,
rates as percentages), bold frozen header, written atomically like every Tuodi output.

Amounts are written as the Decimal they are (openpyxl stores its digits), never through a float:
the sheet holds exactly the yuan and fen of the CSV files. Text is never a formula: openpyxl
would store a string beginning with `=` as one, so every text cell is neutralised first
(`tuodi.io.safe`, OWASP's CSV-injection guidance, the same for CSV and XLSX)."""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tuodi.io.atomic import atomic_output
from tuodi.io.safe import neutralise

AMOUNT_FORMAT = "#,##0.00"
RATE_FORMAT = "0.00%"


@dataclass
class Sheet:
    """A sheet: its title, header, rows of values; `formats` maps a column to a number format."""

    title: str
    columns: Sequence[str]
    rows: list[Sequence[Any]]
    formats: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _cell(value: Any) -> Any:
    """A text value as a cell that is text, never a formula; other values as they are."""
    return neutralise(value) if isinstance(value, str) else value


def build_workbook(sheets: Sequence[Sheet]) -> Workbook:
    """The workbook of the sheets, in memory. A Decimal in a column without a format of its own
    is an amount: two decimals (AMOUNT_FORMAT)."""
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in sheets:
        ws = wb.create_sheet(sheet.title[:31])
        ws.append(list(sheet.columns))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        for row in sheet.rows:
            ws.append([_cell(v) for v in row])
        for j, col in enumerate(sheet.columns, start=1):
            fmt = sheet.formats.get(col)
            letter = get_column_letter(j)
            width = max([len(str(col))] + [len(str(r[j - 1])) for r in sheet.rows if r[j - 1] is not None])
            ws.column_dimensions[letter].width = min(max(10, width + 2), 60)
            for (cell,) in ws.iter_rows(min_row=2, max_row=len(sheet.rows) + 1, min_col=j, max_col=j):
                if fmt:
                    cell.number_format = fmt
                elif isinstance(cell.value, Decimal):
                    cell.number_format = AMOUNT_FORMAT
        if sheet.notes:
            ws.append([])
            for note in sheet.notes:
                ws.append([_cell(note)])
    return wb


def write_workbook(path: str | Path, sheets: Sequence[Sheet]) -> None:
    """Write the sheets to `path` atomically (a temporary file beside it, renamed when complete)."""
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(f"{path}: a workbook is written as .xlsx")
    if not path.parent.exists():
        raise ValueError(f"{path}: the folder {path.parent} does not exist")
    wb = build_workbook(sheets)
    with atomic_output(path) as tmp:
        wb.save(tmp)
