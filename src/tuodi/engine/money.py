"""Exact money: integer fen (分) everywhere, ratios in basis points (万分之一).

The one rounding rule of Tuodi: an amount computed with a ratio is rounded half-up to the fen,
once, on the person's cumulative yearly amount (CONTRACT.md, settlement rules). Since every input
is whole fen and every ratio has at most four decimals, `fen x basis points` is an exact integer
and the rounding is `(x + 5000) // 10000` for the non-negative amounts Tuodi computes.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

BP = 10_000  # basis points in one


def to_fen(yuan: Decimal) -> int:
    """Yuan (at most two decimals) to integer fen; raises ValueError on a third decimal."""
    fen = yuan * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{yuan} has more than two decimals")
    return int(fen)


def to_bp(ratio: Decimal) -> int:
    """A ratio (0.65) to basis points (6500); policy validation allows at most four decimals."""
    bp = ratio * BP
    if bp != bp.to_integral_value():
        raise ValueError(f"ratio {ratio} has more than four decimals")
    return int(bp)


def round_bp(scaled: int) -> int:
    """fen x basis points -> fen, rounded half-up (amounts here are never negative)."""
    return (scaled + BP // 2) // BP


def yuan(fen: int | None) -> str:
    """Integer fen as a yuan string with two decimals (`123456` -> `"1234.56"`); None -> ``."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    q, r = divmod(abs(fen), 100)
    return f"{sign}{q}.{r:02d}"


def yuan_decimal(fen: int) -> Decimal:
    return (Decimal(fen) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ratio_text(bp: int) -> str:
    """Basis points as a percentage for people (`6500` -> `65%`)."""
    pct = Decimal(bp) / 100
    return f"{pct.normalize():f}%"
