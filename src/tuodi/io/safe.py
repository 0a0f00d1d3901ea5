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

import numpy as np
import polars as pl
import pyarrow as pa

#: first characters a spreadsheet reads as the start of a formula (OWASP)
FORMULA_STARTS = frozenset("=+-@\t\r")
QUOTE = "'"
#: the same test as `neutralise`, for columns of text in polars
_RISKY = r"^'*[=+\-@\t\r]"
#: first bytes that may begin a cell `neutralise` changes (the quote: `'=…` gets one more)
_FIRST_BYTES = np.zeros(256, dtype=bool)
_FIRST_BYTES[[ord(c) for c in (*FORMULA_STARTS, QUOTE)]] = True


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


def _may_need_quotes(column: pl.Series) -> bool:
    """Whether any cell begins with one of `_FIRST_BYTES`: on the first bytes alone, read from
    the Arrow string views in place (each 16-byte view holds the length, then the first bytes:
    10M ids in about 0.1 s, where a regular expression over the strings takes 0.5 s)."""
    array = column.to_arrow(compat_level=pl.CompatLevel.newest())
    for chunk in (array.chunks if isinstance(array, pa.ChunkedArray) else [array]):
        if chunk.type != pa.string_view():
            return True                   # another layout: let the exact test decide
        views = np.frombuffer(chunk.buffers()[1], dtype=np.uint32).reshape(-1, 4)
        views = views[chunk.offset:chunk.offset + len(chunk)]
        if (_FIRST_BYTES[views[:, 1] & 0xFF] & (views[:, 0] > 0)).any():
            return True
    return False


def neutralise_column(column: pl.Series) -> pl.Series:
    """`neutralise` over a column of text (nulls stay null); the columnar settlement writer's."""
    if not len(column) or not _may_need_quotes(column):
        return column
    name = column.name
    return column.to_frame().select(
        pl.when(pl.col(name).str.contains(_RISKY)).then(pl.lit(QUOTE) + pl.col(name))
        .otherwise(pl.col(name)).alias(name)).to_series()


__all__ = ["FORMULA_STARTS", "neutralise", "neutralise_column", "restore"]
