"""What a key may see of claims (CONTRACT.md, "Who sees what").

A `hospital` key sees only the claims of its own `fixmedins_code`. Whatever a response would tell
it about another institution's claim is cut down here, on the way out, so that the ledger keeps
computing (and storing) the whole year:

- **adjustments** to other claims (a settlement dated before others, a reversal, an identity
  change): the hospital's own claims are listed as they are; those of other institutions are
  summed into one line `{"setl_id": null, "setl_date": null, "cause": "other institutions", …net
  amounts…}` (present when at least one such claim moved);
- **adjustments received** by its own claim (`GET /v1/settlements/{setl_id}`): those caused by
  another institution's claim (its settlement or reversal) are summed into one line
  `{"cause": "other institutions", "setl_id": null, "at": null, …net amounts…}`; those caused by
  an identity or a person's update, or by its own claims, stay as they are;
- **year totals** (a reversal's `year_totals`): over the hospital's own claims of the year only,
  marked with its `fixmedins_code`; no line for the others (the contract allows a net line for
  adjustments only);
- **the explanation**: the claim's own figures — its base, each tier's threshold, ratio, cap,
  amount, rule, identity and clauses — always; the year-to-date figures (年度累计, 年度应付 −
  本年已付) only when every claim of the person's year that arrived before it is the hospital's
  own, since otherwise they add up other institutions' claims (a line then says they are left
  out); the lines on the claims it moved, as in `adjustments` above.

What stays visible: the claim's own row, `category` included (the settlements-file column the
hospital prints on the settlement slip; the amounts tell it anyway), and that the person has
claims elsewhere this year (the net line, the left-out year-to-date figures). A claim of another
institution answers 404, as one that does not exist (`tuodi.service.app`).

Keys starting with `_` in the ledger's answers say whose claim an item concerns; they are dropped
here for every role.
"""
from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from tuodi.engine.explain import BASE_LABEL
from tuodi.service.ledger import ADJUSTMENT_BLOCK, PAID, REASON, adjustment_block, money, year_totals

OTHERS = "other institutions"
_UNKNOWN = object()  # an item that does not say whose claim it concerns: treated as another's
_BASE_LINES = tuple(f"      {label}" for label in BASE_LABEL.values())
_YEAR_TO_DATE = re.compile(r"^(      .+?: 本次 [^,;]+), 年度累计 [^;]+;(.*)$")
_SAFE_LINES = ("结算 ", "  医疗费总额 ", "      启动线 ", "      注: ", "      依据 ", "        - ",
               "  基金支付合计 ")
_TIER_HEAD = re.compile(r"^  \S+ (" + "|".join(PAID) + r") = ")
NO_CLAIMS = {"claims": 0, "medfee_sumamt": 0, "inscp_scp_amt": 0, "hifp_pay": 0, **{c: 0 for c in PAID}}
LEFT_OUT = "  (本人本年另有其他机构的结算: 年度累计与本年已付含其结算, 不予显示)"


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _net(items: list[dict[str, Any]], columns: tuple[str, ...]) -> dict[str, str | None]:
    """The sum of each amount over `items` (JSON amounts, strings of yuan); null if one is null."""
    out: dict[str, str | None] = {}
    for c in columns:
        values = [a.get(c) for a in items]
        out[c] = None if None in values else money(sum(int(Decimal(v) * 100) for v in values))
    return out


class View:
    """The claims one key may see: all of them, or one institution's (`institution`)."""

    def __init__(self, institution: str | None = None):
        self.institution = institution

    @property
    def sees_all(self) -> bool:
        return self.institution is None

    def owns(self, code: Any) -> bool:
        return self.sees_all or (code is not _UNKNOWN and code == self.institution)

    def moved(self, listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Adjustments to the person's claims that a request made (`setl_id`, `setl_date`, amounts)."""
        mine = [_public(a) for a in listed if self.owns(a.get("_fixmedins_code", _UNKNOWN))]
        others = [a for a in listed if not self.owns(a.get("_fixmedins_code", _UNKNOWN))]
        if others:
            mine.append({"setl_id": None, "setl_date": None, "cause": OTHERS,
                         **_net(others, (*PAID, "fund_pay_sumamt"))})
        return mine

    def received(self, adjustments: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Adjustments made to one claim, each with its cause."""
        def by_other(a: dict[str, Any]) -> bool:
            return "_claim_code" in a and not self.owns(a["_claim_code"])

        mine = [_public(a) for a in adjustments if not by_other(a)]
        others = [a for a in adjustments if by_other(a)]
        if others:
            mine.append({"cause": OTHERS, "setl_id": None, "at": None, **_net(others, PAID)})
        return mine

    def explanation(self, text: str, moved: list[dict[str, Any]], others_before: bool) -> str:
        """The stored explanation as this key may read it; `moved` is `self.moved(...)` of the
        claims the settlement moved, `others_before` whether claims of other institutions
        arrived in the person's year before this one."""
        if self.sees_all:
            return text
        own, _, block = text.partition("\n" + ADJUSTMENT_BLOCK)
        reasons = [line for line in block.split("\n") if line.startswith(REASON)]
        if others_before:
            own = "\n".join(_own_figures(own.split("\n")) + [LEFT_OUT])
        return own + adjustment_block(moved, reasons)

    def settlement(self, body: dict[str, Any], others_before: bool) -> dict[str, Any]:
        """A settlement answer (settle, pre-settle, repeat): `adjustments` are the claims it moved."""
        out = dict(body)
        if "adjustments" in out:
            out["adjustments"] = self.moved(body["adjustments"])
        if "explanation" in out:
            out["explanation"] = self.explanation(body["explanation"], out.get("adjustments", []), others_before)
        return out

    def reversal(self, body: dict[str, Any]) -> dict[str, Any]:
        out = _public(body)
        out["adjustments"] = self.moved(body["adjustments"])
        if not self.sees_all:
            # a reversal stored before the shares were kept has none: its totals are not shown
            shares = body.get("_year_totals_by_institution")
            own = (shares or {}).get(self.institution) or year_totals(NO_CLAIMS)
            if shares is None:
                own = {k: None for k in own}
            out["year_totals"] = {**own, "fixmedins_code": self.institution}
        return out


def _own_figures(lines: list[str]) -> list[str]:
    """The explanation's lines with the year-to-date figures left out. Only lines known to hold
    the claim's own figures are kept (a line of a new kind is left out, not shown)."""
    kept = []
    for line in lines:
        m = _YEAR_TO_DATE.match(line)
        if m:
            kept.append(f"{m.group(1)};{m.group(2)}")
        elif line.startswith(_BASE_LINES) and "年度累计" not in line:
            kept.append(line)
        elif line.startswith(_SAFE_LINES) or _TIER_HEAD.match(line):
            kept.append(line)
    return kept
