"""Text cells a spreadsheet must not run: CSV/formula injection (OWASP, "CSV Injection").

A persons file is filled in by many hands; a name like `=HYPERLINK("http://x","y")` or a telephone
`=1+2` would become a live formula in the department's spreadsheet when Tuodi hands it on. Every
CSV and XLSX cell of text that Tuodi writes goes through `neutralise`: a cell that begins with
`=`, `+`, `-`, `@`, tab or carriage return is prefixed with a single quote, which spreadsheets show
as text. Amounts and dates Tuodi formats itself are numbers, not text, and are left alone (a
refund `psn_part_amt` of `-12.50` stays a number).

The prefix is reversible: a cell that already begins with quotes followed by one of those
characters gets one more quote, so `restore` gives back exactly what was written when Tuodi reads
its own files again (`report --settlements`, `grants --paid`)."""
from __future__ import annotations

import polars as pl

#: first characters a spreadsheet reads as the start of a formula (OWASP)
FORMULA_STARTS = frozenset("=+-@\t\r")
QUOTE = "'"
#: the same test as `neutralise`, for columns of text in polars
_RISKY = r"^'*[=+\-@\t\r]"


def neutralise(text: str) -> str:
    """`text` as a cell no spreadsheet reads as a formula (a leading quote when it could be one)."""
    if text.lstrip(QUOTE)[:1] in FORMULA_STARTS:
        return QUOTE + text
    return text


def restore(text: str) -> str:
    """The text `neutralise` was given (for reading Tuodi's own files back)."""
    if text.startswith(QUOTE) and text.lstrip(QUOTE)[:1] in FORMULA_STARTS:
        return text[1:]
    return text


def neutralise_column(column: pl.Series) -> pl.Series:
    """`neutralise` over a column of text (nulls stay null); the columnar settlement writer's."""
    risky = column.str.contains(_RISKY)
    if not risky.any():
        return column
    return pl.select(pl.when(risky).then(pl.lit(QUOTE) + column).otherwise(column).alias(column.name)).to_series()


__all__ = ["FORMULA_STARTS", "neutralise", "neutralise_column", "restore"]
