"""The profile of a synthetic population (`tuodi synth` prints it with every run): what the
population exercises, settled by Tuodi's own columnar path (`tuodi.batch.columnar.settle_columns`,
the engine's amounts), so a reader sees at once whether the rules the seeds are about fire.

- persons and claims per identity category, and for their claims the share each tier pays more
  than 0 on;
- for each payer (`hifmi_pay`, `maf_pay`, `tilt_pay`) the share of claims it pays more than 0 on
  and the share it leaves empty (a rule the seeds do not quantify);
- persons whose yearly assistance or tilted assistance reached each yearly cap in force;
- persons over each early-warning line of the policy (`warnings:`), with the measures of
  `tuodi.programs.warnings` summed per person and year over the same settled claims;
- the targets of issue 20 for a default population, each met or not.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from tuodi.batch.columnar import Outputs, settle_columns
from tuodi.batch.synth import Population, three_tiers
from tuodi.engine.schedule import Schedule, resolve
from tuodi.policy import CATEGORY_NAMES, Policy
from tuodi.policy.schema import CATEGORIES
from tuodi.programs.warnings import warning_line

PAYERS = ("hifmi_pay", "maf_pay", "tilt_pay")


@dataclass
class CategoryRow:
    category: str             # slug, "(none)" or "(several)"
    persons: int
    claims: int
    paid: tuple[int, int, int]   # claims with hifmi, maf, tilt > 0


@dataclass
class WarningRow:
    rule: str
    line: int | None          # fen
    persons: int | None       # person-years over the line; None when the line is unknown
    unknown: int = 0          # person-years whose figure is unknown (an empty amount)
    why: str = ""


@dataclass
class Profile:
    policy: str
    upstream: str
    year: int
    persons: int
    claims: int
    categories: list[CategoryRow]
    paid: dict[str, int]                  # payer -> claims paid > 0
    empty: dict[str, int]                 # payer -> claims left empty
    holder_claims: int                    # claims dated while an identity holds
    holder_claims_maf: int                # ... of which maf_pay > 0
    tilt_persons: int                     # person-years with tilt_pay > 0
    caps: list[tuple[str, int, int]] = field(default_factory=list)   # (tier, cap fen, person-years at it)
    warnings: list[WarningRow] = field(default_factory=list)
    several: int = 0                      # persons with several identities

    def per_million(self, count: int) -> float:
        return count * 1e6 / max(self.persons, 1)

    def targets(self) -> list[tuple[str, bool]]:
        """Issue 20's targets for a default population."""
        maf_cap = max((c for t, c, _ in self.caps if t == "assistance"), default=None)
        at_cap = sum(k for t, c, k in self.caps if t == "assistance" and c == maf_cap)
        out = [
            (f"assistance pays on >= 5% of identity holders' claims: "
             f"{_pct(self.holder_claims_maf, self.holder_claims)}",
             self.holder_claims_maf >= 0.05 * self.holder_claims > 0),
            (f"tilted assistance pays >= 100 persons per million: {self.per_million(self.tilt_persons):,.0f}",
             self.per_million(self.tilt_persons) >= 100),
            (f"the yearly assistance cap ({_yuan(maf_cap) if maf_cap else 'none'}) reached by >= 1 person "
             f"per million: {self.per_million(at_cap):,.1f}", maf_cap is not None and self.per_million(at_cap) >= 1),
        ]
        if self.upstream == "given":
            worst = max(self.empty.values()) if self.empty else 0
            out.append((f"no payer empty on more than 5% of claims: at most {_pct(worst, self.claims)}",
                        worst <= 0.05 * self.claims))
        return out


def _pct(a: int, b: int) -> str:
    return f"{100 * a / b:.2f}%" if b else "-"


def _yuan(fen: int | None) -> str:
    return "-" if fen is None else f"{fen // 100:,}"


def _group_sums(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.add.reduceat(values, starts) if len(values) else np.zeros(0, values.dtype)


def _holds(pop: Population, cats: set[int], claim_date: np.ndarray, cpsn: np.ndarray) -> np.ndarray:
    """Per claim (person order): an identity of one of `cats` (category indexes) holds on its date."""
    inp = pop.inputs
    sel = np.isin(np.asarray(inp.ident_category), list(cats))
    k = len(cpsn)
    out = np.zeros(k, dtype=bool)
    if not sel.any() or not k:
        return out
    n = len(inp.person_insutype)
    first = np.searchsorted(cpsn, np.arange(n))
    count = np.searchsorted(cpsn, np.arange(n), side="right") - first
    psn = inp.ident_psn[sel]
    beg, end = inp.ident_begin[sel], inp.ident_end[sel]
    reps = count[psn]
    rows = np.repeat(np.arange(len(psn)), reps)
    claim = np.repeat(first[psn], reps) + (np.arange(len(rows)) - np.repeat(np.cumsum(reps) - reps, reps))
    d = claim_date[claim]
    ok = (beg[rows] <= d) & (d <= end[rows])
    out[claim[ok]] = True
    return out


def profile(policy: Policy, pop: Population, stats: dict | None = None, upstream: str = "given",
            year: int | None = None, outputs: Outputs | None = None) -> Profile:
    """Settle `pop` under `policy` on the columnar path and summarise what it exercises."""
    stats = stats or {}
    inp = pop.inputs
    out = outputs or settle_columns(three_tiers(policy), inp, stats)   # the three tiers' profile
    k, n = len(inp.claim_psn), len(inp.person_insutype)
    cpsn = inp.claim_psn
    amounts = {"hifmi_pay": (out.hifmi, out.hifmi_null), "maf_pay": (out.maf, out.maf_null),
               "tilt_pay": (out.tilt, out.tilt_null)}
    positive = {p: (a > 0) & ~e for p, (a, e) in amounts.items()}
    paid = {p: int(v.sum()) for p, v in positive.items()}
    empty = {p: int(e.sum()) for p, (_, e) in amounts.items()}

    # person-years: claims are in person, date order
    year_of = (inp.claim_date.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970) if k \
        else np.zeros(0, np.int64)
    new = np.ones(k, dtype=bool)
    if k:
        new[1:] = (cpsn[1:] != cpsn[:-1]) | (year_of[1:] != year_of[:-1])
    starts = np.flatnonzero(new)
    group_psn, group_year = cpsn[starts], year_of[starts]
    maf_year = _group_sums(np.where(out.maf_null, 0, out.maf), starts)
    tilt_year = _group_sums(np.where(out.tilt_null, 0, out.tilt), starts)
    first_year = int(year_of[0]) if k else (year or 0)

    # categories
    cat = np.asarray(inp.ident_category, dtype=np.int64)
    claims_of = np.bincount(cpsn, minlength=n) if k else np.zeros(n, np.int64)
    rows = []
    held = np.zeros(n, dtype=np.int64)
    if len(cat):
        np.add.at(held, inp.ident_psn, 1)
    several = 0
    if len(cat):
        # distinct categories per person
        pair = np.unique(inp.ident_psn * (len(CATEGORIES) + 1) + cat)
        distinct = np.bincount(pair // (len(CATEGORIES) + 1), minlength=n)
        several = int((distinct > 1).sum())
        for c in np.unique(cat):
            psn = np.unique(inp.ident_psn[cat == c])
            mask = np.zeros(n, dtype=bool)
            mask[psn] = True
            cm = mask[cpsn]
            rows.append(CategoryRow(CATEGORIES[c], len(psn), int(claims_of[psn].sum()),
                                    tuple(int((positive[p] & cm).sum()) for p in PAYERS)))
    none = held == 0
    cm = none[cpsn]
    rows.insert(0, CategoryRow("(none)", int(none.sum()), int(claims_of[none].sum()),
                               tuple(int((positive[p] & cm).sum()) for p in PAYERS)))

    holder = pop.identity_holds
    prof = Profile(policy.id, upstream, first_year, n, k, rows, paid, empty, int(holder.sum()),
                   int((holder & positive["maf_pay"]).sum()), int((tilt_year > 0).sum()), several=several)

    # caps in force on the first day of each year
    for tier, yearly in (("assistance", maf_year), ("tilt", tilt_year)):
        caps = set()
        for y in np.unique(group_year) if k else []:
            for rule in policy.rules(tier):
                s = resolve(policy, rule, dt.date(int(y), 1, 1), stats)
                if isinstance(s, Schedule) and s.cap is not None:
                    caps.add(s.cap)
        for c in sorted(caps):
            prof.caps.append((tier, c, int((yearly >= c).sum())))

    # early-warning lines
    hifmi_null, maf_null = out.hifmi_null, out.maf_null
    hifmi = np.where(hifmi_null, 0, out.hifmi)
    maf = np.where(maf_null, 0, out.maf)
    measures = {
        "burden_after_insurance": (inp.medfee - inp.hifp - hifmi, hifmi_null),
        "critical_illness_started": (hifmi, hifmi_null),
        "self_paid_in_scope_after_assistance": (inp.inscp - inp.hifp - hifmi - maf, hifmi_null | maf_null),
    }
    insutype = inp.person_insutype[group_psn] if k else np.zeros(0, np.int8)
    for rule in policy.model.warnings:
        value, unknown = measures[rule.measure]
        mine = np.ones(k, dtype=bool)
        if rule.categories is not None:
            mine = _holds(pop, {CATEGORIES.index(c) for c in rule.categories}, inp.claim_date, cpsn)
        v = _group_sums(np.where(mine, value, 0), starts)
        u = _group_sums((mine & unknown).astype(np.int64), starts) > 0
        has = _group_sums(mine.astype(np.int64), starts) > 0
        if rule.measure == "critical_illness_started":
            u &= v == 0      # something known paid decides it
        if rule.insutypes is not None:
            has &= np.isin(insutype, [0 if t == "390" else 1 for t in rule.insutypes])
        lines = {int(y): warning_line(policy, rule, int(y), stats) for y in np.unique(group_year)} if k else {}
        known = [ln for ln, _ in lines.values() if ln is not None]
        if lines and len(known) < len(lines):
            prof.warnings.append(WarningRow(rule.id, None, None,
                                            why=next(w for ln, w in lines.values() if ln is None)))
            continue
        line = np.array([lines[int(y)][0] for y in group_year], dtype=np.int64) if k else np.zeros(0, np.int64)
        prof.warnings.append(WarningRow(rule.id, known[0] if known else None,
                                        int((has & ~u & (v > line)).sum()), int((has & u).sum())))
    return prof


def format_profile(p: Profile) -> str:
    """The profile as the text `tuodi synth` prints."""
    lines = [f"profile: {p.persons:,} persons, {p.claims:,} claims under {p.policy} "
             f"(upstream {p.upstream}; settled by the columnar path)",
             f"  {'category':<22}{'persons':>10}{'claims':>12}{'hifmi>0':>9}{'maf>0':>9}{'tilt>0':>9}"]
    for r in p.categories:
        name = "" if r.category.startswith("(") else f"  {CATEGORY_NAMES[r.category][0]}"
        lines.append(f"  {r.category:<22}{r.persons:>10,}{r.claims:>12,}"
                     + "".join(f"{_pct(x, r.claims):>9}" for x in r.paid) + name)
    lines.append(f"  persons with several identities: {p.several:,}")
    lines.append(f"  {'payer':<22}{'paid > 0':>12}{'empty':>12}   (share of all claims)")
    for payer in PAYERS:
        lines.append(f"  {payer:<22}{_pct(p.paid[payer], p.claims):>12}{_pct(p.empty[payer], p.claims):>12}")
    lines.append(f"  identity holders' claims: {p.holder_claims:,}, maf_pay > 0 on "
                 f"{_pct(p.holder_claims_maf, p.holder_claims)}")
    lines.append(f"  persons with tilt_pay > 0: {p.tilt_persons:,} ({p.per_million(p.tilt_persons):,.0f} per million)")
    for tier, cap, k in p.caps:
        lines.append(f"  persons at the yearly {tier} cap of {_yuan(cap)} yuan: {k:,} "
                     f"({p.per_million(k):,.1f} per million)")
    for w in p.warnings:
        if w.persons is None:
            lines.append(f"  warning {w.rule}: line unknown ({w.why})")
        else:
            extra = f", {w.unknown:,} unknown (an amount left empty)" if w.unknown else ""
            lines.append(f"  warning {w.rule} (line {_yuan(w.line)}): {w.persons:,} persons over it{extra}")
    for text, ok in p.targets():
        lines.append(f"  target {'met' if ok else 'NOT met'}: {text}")
    return "\n".join(lines)


__all__ = ["Profile", "format_profile", "profile"]
