"""Settling claims against the stored year (一站式结算): the engine, run under the person's lock.

Every stored claim's net amounts are exactly the engine's amounts for that claim, given the
person's current identities and their claims of the year in settlement order (`setl_date`, then
arrival). A settle locks the person, re-runs the pure engine on their claims of the year with the
new claim in its place, and pays the new claim the engine's amounts for it. Whenever that run
moves another claim's amounts — the new claim is dated before claims that already arrived, or it
raises the year's entitlement by more than its own cost can take, so that the rest goes to earlier
claims (CONTRACT.md, No claim is paid beyond its own cost) — and likewise on a reversal (冲正) or when an identity is added or ended, each moved claim gets an
adjustment to the engine's amount (追回 when it falls, 补付 when it rises). The response lists the
adjustments the request caused. So the year always adds up to what `tuodi settle` computes on the
same claims, and no claim carries another's clawback.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Row

from tuodi.engine.explain import explain_settlement
from tuodi.engine.model import Claim, Settlement
from tuodi.engine.money import yuan
from tuodi.engine.settle import TIERS, TIER_COLUMN, settle as settle_all, settle_person
from tuodi.io.write import detail_rows
from tuodi.policy import Policy
from tuodi.policy.payers import FURTHER_COLUMN
from tuodi.service.errors import Conflict, Invalid, NotFound
from tuodi.store import repository as repo

TIER_PAID = tuple(TIER_COLUMN[t] for t in TIERS)  # hifmi_pay, maf_pay, tilt_pay
PAID = (*TIER_PAID, FURTHER_COLUMN)  # and oth_pay: the further payers' sum (each one's in JSON by payer id)
GIVEN = "given by the claim (hifmi_pay)"  # the engine's note on a tier amount the claim gives
BASE_COLUMN = {"critical_illness": "ci_base", "assistance": "assistance_base", "tilt": "tilt_base"}


@dataclass
class Rules:
    """What the service settles with: one policy, its statistics, and a cache of schedules."""

    policy: Policy
    stats: dict = field(default_factory=dict)
    schedules: dict = field(default_factory=dict)


@dataclass
class ClaimInput:
    """A claim as received and checked: the engine's claim plus what is stored beside it."""

    claim: Claim
    fulamt_ownpay_amt: int = 0
    overlmt_selfpay: int = 0
    preselfpay_amt: int = 0
    fixmedins_code: str | None = None

    def body_hash(self) -> str:
        """The normalised body: `"100.5"` and `"100.50"` are the same claim."""
        c = self.claim
        canon = [c.setl_id, c.psn_no, c.setl_date.isoformat(), c.med_type, c.medfee_sumamt,
                 c.inscp_scp_amt, c.hifp_pay, c.hifmi_pay, c.referred, c.in_province, c.out_of_area,
                 self.fulamt_ownpay_amt, self.overlmt_selfpay, self.preselfpay_amt, self.fixmedins_code]
        return hashlib.sha256(json.dumps(canon, ensure_ascii=False).encode()).hexdigest()

    def columns(self) -> dict[str, Any]:
        c = self.claim
        return dict(setl_id=c.setl_id, psn_no=c.psn_no, setl_date=c.setl_date, year=c.setl_date.year,
                    med_type=c.med_type, medfee_sumamt=c.medfee_sumamt,
                    fulamt_ownpay_amt=self.fulamt_ownpay_amt, overlmt_selfpay=self.overlmt_selfpay,
                    preselfpay_amt=self.preselfpay_amt, inscp_scp_amt=c.inscp_scp_amt,
                    hifp_pay=c.hifp_pay, hifmi_pay_given=c.hifmi_pay, referred=c.referred,
                    in_province=c.in_province, out_of_area=c.out_of_area,
                    fixmedins_code=self.fixmedins_code, body_hash=self.body_hash())


def _minus(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a - b


def _sum(values) -> int | None:
    total = 0
    for v in values:
        if v is None:
            return None
        total += v
    return total


def money(fen: int | None) -> str | None:
    """Fen as a JSON amount: a string of yuan, or null when undefined."""
    return None if fen is None else yuan(fen)


def family_payers(rules: Rules) -> bool:
    """Whether the policy has a payer whose unit is the family (CONTRACT.md, Family unit)."""
    return any(p.unit == "family" for p in rules.policy.further_payers)


def lock_unit(conn: Connection, rules: Rules, psn_no: str) -> Row | None:
    """Lock the person, and under a family-unit payer their household first (`hh_no`), so that
    the claims of one family settle one at a time; returns the person's row (None: no such person).
    Every write that re-settles a household's year takes this lock."""
    if not family_payers(rules):
        return repo.get_person(conn, psn_no, lock=True)
    locked: set[str] = set()
    seen = repo.get_person(conn, psn_no)
    while True:
        if seen is not None and seen.hh_no and seen.hh_no not in locked:
            repo.lock_household(conn, seen.hh_no)
            locked.add(seen.hh_no)
        person = repo.get_person(conn, psn_no, lock=True)
        if person is None or not person.hh_no or person.hh_no in locked:
            return person
        seen = person  # the household changed before we held it: hold the new one too


def unit_of(conn: Connection, rules: Rules, person: Row) -> list[Row]:
    """The persons whose claims settle together with this person's: the household under a
    family-unit payer (`hh_no`, in `psn_no` order), else the person alone."""
    if person.hh_no and family_payers(rules):
        members = repo.household(conn, person.hh_no)
        if any(m.psn_no == person.psn_no for m in members):
            return members
    return [person]


def _run_unit(conn: Connection, rules: Rules, members: list[Row], year: int, extra: Claim | None = None,
              skip_seq: int | None = None) -> tuple[list[Row], list[Claim], list[Settlement]]:
    """Re-run the engine on the unit's settled claims of `year` (and `extra`, the claim arriving,
    last), without `skip_seq` (a claim being reversed): the stored rows, their claims, and the
    engine's settlements (by `setl_id`). Claims in `setl_date` order, then arrival."""
    rows = [r for m in members for r in repo.year_claims(conn, m.psn_no, year) if r.seq != skip_seq]
    rows.sort(key=lambda r: (r.setl_date, r.seq))
    stored = [repo.claim_of(r) for r in rows]
    ordered = sorted(stored + ([extra] if extra is not None else []), key=lambda c: c.setl_date)  # stable
    if len(members) == 1:
        person = members[0]
        settled = settle_person(rules.policy, repo.person_of(person),
                                [repo.identity_of(r) for r in repo.identities_of(conn, person.psn_no)],
                                ordered, rules.stats, schedules=rules.schedules)
    else:
        persons = {m.psn_no: repo.person_of(m) for m in members}
        idents = [repo.identity_of(r) for m in members for r in repo.identities_of(conn, m.psn_no)]
        settled = settle_all(rules.policy, persons, idents, ordered, rules.stats).settlements
    return rows, stored, settled


def _further(s: Settlement) -> dict[str, int | None]:
    """Each further payer's amount on a settled claim, by payer id (the steps after the tiers)."""
    return {st.tier: st.amount for st in s.steps[len(TIERS):]}


def _net_further(r: Row) -> dict[str, int | None]:
    return json.loads(r.net_payments) if r.net_payments else {}


def _save_years(conn: Connection, year: int, settled: list[Settlement], stored: list[Claim],
                psn_nos: list[str]) -> None:
    """Each person's accumulators of the year from the unit's re-run."""
    for psn in psn_nos:
        mine = [c for c in stored if c.psn_no == psn]
        exists = repo.get_person_year(conn, psn, year) is not None
        if mine or exists:
            repo.save_person_year(conn, psn, year, _year_values([s for s in settled if s.psn_no == psn], mine),
                                  exists=exists)


def _year_values(settled: list[Settlement], stored: list[Claim]) -> dict[str, Any]:
    """Accumulators of a year from its re-run: totals per fund and each tier's yearly base."""
    values: dict[str, Any] = {
        "claims": len(stored),
        "medfee_sumamt": sum(c.medfee_sumamt for c in stored),
        "inscp_scp_amt": sum(c.inscp_scp_amt for c in stored),
        "hifp_pay": sum(c.hifp_pay for c in stored),
    }
    for column in PAID:
        values[column] = _sum(getattr(s, column) for s in settled)
    for i, tier in enumerate(TIERS):
        values[BASE_COLUMN[tier]] = _yearly_base([s.steps[i] for s in settled])
    return values


def _yearly_base(steps: list) -> int | None:
    """A tier's yearly base (r1, r2, r3 of the claims eligible for it) after the year's last claim.

    The engine's own figure when its last step has one (the chosen rule's base); otherwise — the
    amount was given by the claim (hifmi_pay), or no rule of the tier applies — the sum of the
    claims' bases that counted: a given amount counts its claim's base, a claim no rule held
    counts 0. Null only when a base it needs is itself undefined.
    """
    if steps and steps[-1].base_year is not None:
        return steps[-1].base_year
    return _sum(s.base_claim if s.rule_id is not None or s.note == GIVEN else 0 for s in steps)


def _check_in_force(rules: Rules, claim: Claim) -> None:
    if not rules.policy.in_force(claim.setl_date):
        raise Invalid(f"no policy in force on {claim.setl_date} for {rules.policy.id} "
                      f"(in force {rules.policy.in_force_text()})", "setl_date")


ADJUSTMENT_BLOCK = "  本年其他结算的调整 (补付为正, 追回为负):"
REASON = "    原因: "
_REASON_EARLIER = REASON + "本次结算日期早于本年已结算的结算, 按结算日期重算本年"
_REASON_OWN_COST = (REASON + "本次结算使本年应付的增加超过本次结算自身的费用, 余额补付本年此前的结算, 各以其剩余基数为限"
                    " (docs/reference.md: No claim is paid beyond its own cost)")


def _explanation(rules: Rules, engine_row: Settlement, med_type: str, listed: list[dict[str, Any]]) -> str:
    text = explain_settlement(engine_row, rules.policy, med_type)
    day = engine_row.setl_date.isoformat()
    reasons = []
    if any(a["setl_date"] > day for a in listed):
        reasons.append(_REASON_EARLIER)
    if any(a["setl_date"] <= day for a in listed):
        reasons.append(_REASON_OWN_COST)
    return text + adjustment_block(listed, reasons)


def adjustment_block(listed: list[dict[str, Any]], reasons: list[str]) -> str:
    """The explanation's lines on the claims a settlement moved (empty when it moved none): why,
    then each claim; a line without `setl_id` is the net of other institutions' claims
    (`tuodi.service.views`)."""
    if not listed:
        return ""
    lines = ["", ADJUSTMENT_BLOCK, *reasons]
    for a in listed:
        moved = "   ".join(f"{c} {a[c] or '空'}" for c in PAID if a[c] != "0.00")
        which = f"{a['setl_id']} ({a['setl_date']})" if a.get("setl_id") else "其他机构的结算 (合计)"
        lines.append(f"      {which}: {moved}")
    return "\n".join(lines)


@dataclass
class Move:
    """A stored claim whose net amounts differ from the engine's on the year re-run."""

    row: Row
    new: dict[str, int | None]          # the engine's amounts per column (PAID)
    delta: dict[str, int | None]        # engine − net per column
    new_payers: dict[str, int | None]   # the engine's amount per further payer
    payers: dict[str, int | None]       # engine − net per further payer that moved


def _moves(rows: list[Row], settled: list[Settlement]) -> list[Move]:
    by_id = {s.setl_id: s for s in settled}
    out = []
    for r in rows:
        s = by_id[r.setl_id]
        new = {c: getattr(s, c) for c in PAID}
        net = {c: getattr(r, f"net_{c}") for c in PAID}
        new_p, net_p = _further(s), _net_further(r)
        payers = {k: _minus(new_p.get(k, 0), net_p.get(k, 0)) for k in {**net_p, **new_p}
                  if new_p.get(k, 0) != net_p.get(k, 0)}
        if new != net or payers:
            out.append(Move(r, new, {c: _minus(new[c], net[c]) for c in PAID}, new_p, payers))
    return out


def _listed(r: Row, delta: dict[str, int | None], payers: dict[str, int | None] | None, cause: str) -> dict[str, Any]:
    """One moved claim as a response lists it, with its `cause` (CONTRACT.md, Service: settlement,
    reversal, identity.add, identity.end, person.update); `_fixmedins_code` (whose claim it is) is
    for `tuodi.service.views` and never leaves the service. `payers`: the change of each further payer."""
    out = {"setl_id": r.setl_id, "setl_date": r.setl_date.isoformat(), "cause": cause,
           **{c: money(delta[c]) for c in PAID},
           "fund_pay_sumamt": money(_sum(delta[c] for c in PAID)), "_fixmedins_code": r.fixmedins_code}
    if payers:
        out["payers"] = {k: money(v) for k, v in payers.items()}
    return out


def _listed_move(m: Move, cause: str) -> dict[str, Any]:
    return _listed(m.row, m.delta, m.payers, cause)


def _apply(conn: Connection, moves: list[Move], reversal_id: int | None = None,
           revision_id: int | None = None) -> None:
    for m in moves:
        repo.set_net(conn, m.row.seq, m.new, json.dumps(m.new_payers) if m.new_payers else None)
    repo.insert_adjustments(conn, reversal_id, [
        {"seq": m.row.seq, **m.delta, "payments": json.dumps(m.payers) if m.payers else None} for m in moves],
        revision_id=revision_id)


def settlement_json(row: Row | dict, adjustments: list[Row] | None = None) -> dict[str, Any]:
    """A stored settlement as the API returns it: the settlements-file columns, then the rest."""
    g = row._mapping if isinstance(row, Row) else row
    oth = g.get("oth_pay", 0)
    parts = (g["hifp_pay"], g["hifmi_pay"], g["maf_pay"], g["tilt_pay"], oth)
    fund = _sum(parts)
    out = {
        "setl_id": g["setl_id"], "psn_no": g["psn_no"], "setl_date": g["setl_date"].isoformat(),
        "category": g["category"], "medfee_sumamt": money(g["medfee_sumamt"]),
        "inscp_scp_amt": money(g["inscp_scp_amt"]), "hifp_pay": money(g["hifp_pay"]),
        "hifmi_pay": money(g["hifmi_pay"]), "maf_pay": money(g["maf_pay"]), "tilt_pay": money(g["tilt_pay"]),
        "oth_pay": money(oth), "fund_pay_sumamt": money(fund), "psn_part_amt": money(_minus(g["medfee_sumamt"], fund)),
        "explanation": g["explanation"],
        "med_type": g["med_type"], "fixmedins_code": g["fixmedins_code"], "policy": g["policy"],
        "status": g.get("status", "settled"),
        "setldetail": _setldetail(g.get("setldetail")),
    }
    if "net_hifmi_pay" in g:
        net = {c: g.get(f"net_{c}") for c in PAID}
        net_fund = _sum((g["hifp_pay"], *net.values()))
        out["net"] = {**{c: money(v) for c, v in net.items()}, "fund_pay_sumamt": money(net_fund),
                      "psn_part_amt": money(_minus(g["medfee_sumamt"], net_fund))}
        if g.get("net_payments"):
            out["net"]["payers"] = {k: money(v) for k, v in json.loads(g["net_payments"]).items()}
    if adjustments is not None:
        out["adjustments"] = received(adjustments)
    return out


def _setldetail(value: str | list | None) -> list[dict[str, Any]]:
    """The claim's detail-file rows (`tuodi.io.write.detail_rows`, as `tuodi settle --detail`
    writes them), amounts as JSON amounts (null when undefined); stored as JSON text."""
    rows = json.loads(value) if isinstance(value, str) else (value or [])
    return [{**r, "fund_payamt": r["fund_payamt"] or None} for r in rows]


def received(adjustments: list[Row]) -> list[dict[str, Any]]:
    """The adjustments made to one claim (`repository.adjustments_of`), as the API lists them."""
    return [_received(a) for a in adjustments]


def caused_by(conn: Connection, seq: int) -> list[dict[str, Any]]:
    """The adjustments a settlement caused to the person's other claims, as its answer listed them."""
    return [_listed(a, {c: getattr(a, c) for c in PAID}, json.loads(a.payments) if a.payments else None,
                    "settlement")
            for a in repo.adjustments_caused_by(conn, seq)]


def _received(a: Row) -> dict[str, Any]:
    """One adjustment made to a claim, and what caused it."""
    amounts: dict[str, Any] = {c: money(getattr(a, c)) for c in PAID}
    if a.payments:
        amounts["payers"] = {k: money(v) for k, v in json.loads(a.payments).items()}
    # `_claim_code`: the institution of the claim that caused it, for `tuodi.service.views`
    if a.reversal_id is not None:
        return {"cause": "reversal", "reversal_of": a.reversed_setl_id, "at": a.reversed_at.isoformat(), **amounts,
                "_claim_code": a.reversed_code}
    if a.cause == "settlement":
        return {"cause": a.cause, "setl_id": a.caused_by_setl_id, "at": a.revised_at.isoformat(), **amounts,
                "_claim_code": a.caused_by_code}
    by = {"identity_id": a.identity_id} if a.identity_id is not None else {}
    return {"cause": a.cause, **by, "at": a.revised_at.isoformat(), **amounts}


def settlement_response(row: Row | dict, caused: list[dict[str, Any]]) -> dict[str, Any]:
    """A settlement's answer: its row and explanation, then the adjustments it caused."""
    out: dict[str, Any] = {}
    for k, v in settlement_json(row).items():
        out[k] = v
        if k == "explanation":
            out["adjustments"] = caused
    return out


@dataclass
class Outcome:
    status: int  # 201 settled now, 200 the stored result (or a pre-settlement)
    body: dict[str, Any]
    psn_no: str
    settled: bool = False
    seq: int | None = None  # the claim's arrival number (None for a pre-settlement)
    year: int | None = None
    # the institutions of the year's claims it was settled with, when known without a query
    institutions: frozenset | None = None


def repeat(conn: Connection, ci: ClaimInput, owner_check=None) -> Outcome | None:
    """The answer to a `setl_id` already settled: its stored result (200) when the body is the
    same, 409 when it is another; None when the `setl_id` is new."""
    existing = repo.claim_by_setl_id(conn, ci.claim.setl_id)
    if existing is None:
        return None
    # Another institution's claim answers as one settled with another body (a hospital's body
    # names its own fixmedins_code, so it cannot be the same body): nothing of it is shown.
    if (owner_check is not None and not owner_check(existing)) or existing.body_hash != ci.body_hash():
        raise Conflict(f"setl_id {ci.claim.setl_id!r} was already settled with another body; "
                       "a correction is a reversal and a new setl_id", "setl_id")
    return Outcome(200, settlement_response(existing, caused_by(conn, existing.seq)), existing.psn_no,
                   seq=existing.seq, year=existing.year)


def settle(conn: Connection, rules: Rules, ci: ClaimInput, key_id: int | None, dry_run: bool = False,
           owner_check=None) -> Outcome:
    """Settle (or pre-settle) one claim inside the caller's write transaction."""
    claim = ci.claim
    _check_in_force(rules, claim)
    person = lock_unit(conn, rules, claim.psn_no) if not dry_run else repo.get_person(conn, claim.psn_no)
    if person is None:
        raise Invalid(f"unknown person {claim.psn_no!r}: register them first (PUT /v1/persons/{{psn_no}})", "psn_no")
    done = repeat(conn, ci, owner_check)
    if done is not None:
        return done

    year = claim.setl_date.year
    members = unit_of(conn, rules, person)
    stored_rows, stored, settled = _run_unit(conn, rules, members, year, extra=claim)
    engine_row = next(s for s in settled if s.setl_id == claim.setl_id)
    moves = _moves(stored_rows, settled)
    listed = [_listed_move(m, "settlement") for m in moves]
    pay = {c: getattr(engine_row, c) for c in PAID}
    explanation = _explanation(rules, engine_row, claim.med_type, listed)
    detail = detail_rows(engine_row, rules.policy)
    row = {**ci.columns(), "category": engine_row.category, **pay, "explanation": explanation,
           "policy": rules.policy.id, "status": "settled" if not dry_run else "pre-settlement",
           "setldetail": detail}
    institutions = frozenset(r.fixmedins_code for r in stored_rows)
    if dry_run:
        return Outcome(200, settlement_response(row, listed), claim.psn_no, year=year, institutions=institutions)
    row.update({f"net_{c}": pay[c] for c in PAID})
    further = _further(engine_row)
    seq = repo.insert_claim(conn, ci.columns(), key_id)
    repo.insert_settlement(conn, seq, {"policy": rules.policy.id, "category": engine_row.category, **pay,
                                       "explanation": explanation, "setldetail": json.dumps(detail, ensure_ascii=False),
                                       "net_payments": json.dumps(further) if further else None})
    if moves:
        _apply(conn, moves, revision_id=repo.insert_revision(conn, claim.psn_no, "settlement", seq=seq, by=key_id))
    _save_years(conn, year, settled, stored + [claim], [m.psn_no for m in members])
    return Outcome(201, settlement_response(row, listed), claim.psn_no, settled=True, seq=seq, year=year,
                   institutions=institutions)


def revise_person(conn: Connection, rules: Rules, person: Row, cause: str, identity_id: int | None,
                  key_id: int | None, also: list[str] | None = None) -> list[dict[str, Any]]:
    """Re-settle every year of the person (and of their household under a family-unit payer)
    after an identity was added or ended, or the person's own fields changed (insutype, hh_no, …),
    under the unit's lock: adjust each claim whose engine amounts moved; returns those adjustments.
    `also`: persons of another household whose years to re-settle too (the household the person
    left)."""
    listed: list[dict[str, Any]] = []
    revision_id = None
    units = [unit_of(conn, rules, person)]
    for psn in also or []:
        other = repo.get_person(conn, psn)
        if other is not None and all(m.psn_no != psn for u in units for m in u):
            units.append(unit_of(conn, rules, other))
    for members in units:
        years = sorted({y for m in members for y in repo.claim_years(conn, m.psn_no)})
        for year in years:
            rows, stored, settled = _run_unit(conn, rules, members, year)
            moves = _moves(rows, settled)
            if moves:
                if revision_id is None:
                    revision_id = repo.insert_revision(conn, person.psn_no, cause, identity_id=identity_id, by=key_id)
                _apply(conn, moves, revision_id=revision_id)
                listed += [_listed_move(m, cause) for m in moves]
            _save_years(conn, year, settled, stored, [m.psn_no for m in members])
    return listed


def reverse(conn: Connection, rules: Rules, setl_id: str, reason: str | None, key_id: int | None,
            owner_check=None) -> Outcome:
    """Reverse a settlement: claw back its payments and re-settle the year's other claims (the
    household's, under a family-unit payer)."""
    found = repo.claim_by_setl_id(conn, setl_id)
    if found is None or (owner_check is not None and not owner_check(found)):
        raise NotFound(f"no settlement {setl_id!r}", "setl_id")  # another institution's: as if none
    person = lock_unit(conn, rules, found.psn_no)
    target = repo.claim_by_setl_id(conn, setl_id)  # again, under the lock
    if target.status == "reversed":
        done = repo.reversal_of(conn, target.seq)
        return Outcome(200, json.loads(done.result), target.psn_no)

    year = target.setl_date.year
    members = unit_of(conn, rules, person)
    others, stored, settled = _run_unit(conn, rules, members, year, skip_seq=target.seq)

    reversal_id = repo.insert_reversal(conn, target.seq, reason, key_id)
    clawback = {c: _minus(0, getattr(target, f"net_{c}")) for c in PAID}
    claw_payers = {k: _minus(0, v) for k, v in _net_further(target).items() if v != 0}
    repo.mark_reversed(conn, target.seq)
    repo.set_net(conn, target.seq, {c: 0 for c in PAID},
                 json.dumps({k: 0 for k in _net_further(target)}) if target.net_payments else None)
    repo.insert_adjustments(conn, reversal_id, [{"seq": target.seq, **clawback,
                                                 "payments": json.dumps(claw_payers) if claw_payers else None}])
    moves = _moves(others, settled)
    _apply(conn, moves, reversal_id=reversal_id)
    listed = [_listed_move(m, "reversal") for m in moves]
    _save_years(conn, year, settled, stored, [m.psn_no for m in members])
    own = [c for c in stored if c.psn_no == target.psn_no]
    values = _year_values([s for s in settled if s.psn_no == target.psn_no], own)
    by_code = {r.setl_id: r.fixmedins_code for r in others if r.psn_no == target.psn_no}
    paid = {s.setl_id: s for s in settled}
    result = {
        "setl_id": setl_id, "psn_no": target.psn_no, "year": year, "status": "reversed", "reason": reason,
        "reversed": {**{c: money(v) for c, v in clawback.items()},
                     "fund_pay_sumamt": money(_sum(clawback.values()))},
        "adjustments": listed,
        "year_totals": year_totals(values),
        # each institution's share of the year, for a hospital's view (never sent as such)
        "_year_totals_by_institution": {
            code or "": year_totals(_subset_values([paid[c.setl_id] for c in own if by_code[c.setl_id] == code],
                                                   [c for c in own if by_code[c.setl_id] == code]))
            for code in sorted(set(by_code.values()), key=lambda v: v or "")},
    }
    if claw_payers:
        result["reversed"]["payers"] = {k: money(v) for k, v in claw_payers.items()}
    repo.set_reversal_result(conn, reversal_id, json.dumps(result, ensure_ascii=False))
    return Outcome(200, result, target.psn_no, settled=True)


def _subset_values(settled: list[Settlement], stored: list[Claim]) -> dict[str, Any]:
    """The year's totals over some of its claims (no yearly bases: those are the person's)."""
    return {"claims": len(stored), "medfee_sumamt": sum(c.medfee_sumamt for c in stored),
            "inscp_scp_amt": sum(c.inscp_scp_amt for c in stored), "hifp_pay": sum(c.hifp_pay for c in stored),
            **{c: _sum(getattr(s, c) for s in settled) for c in PAID}}


def year_totals(values: Any) -> dict[str, Any]:
    g = values._mapping if isinstance(values, Row) else values
    fund = _sum((g["hifp_pay"], *(g[c] for c in PAID)))
    return {
        "claims": g["claims"], "medfee_sumamt": money(g["medfee_sumamt"]),
        "inscp_scp_amt": money(g["inscp_scp_amt"]), "hifp_pay": money(g["hifp_pay"]),
        **{c: money(g[c]) for c in PAID}, "fund_pay_sumamt": money(fund),
        "psn_part_amt": money(_minus(g["medfee_sumamt"], fund)),
    }


def person_year(conn: Connection, psn_no: str, year: int) -> dict[str, Any]:
    acc = repo.get_person_year(conn, psn_no, year)
    rows = repo.year_claims(conn, psn_no, year, status=None)
    empty = {"claims": 0, "medfee_sumamt": 0, "inscp_scp_amt": 0, "hifp_pay": 0,
             **{c: 0 for c in PAID}, **{b: 0 for b in BASE_COLUMN.values()}}
    g = acc._mapping if acc is not None else empty
    return {
        "psn_no": psn_no, "year": year,
        "totals": year_totals(g),
        "accumulators": {t: {"paid": money(g[TIER_COLUMN[t]]), "base": money(g[BASE_COLUMN[t]])} for t in TIERS},
        "settlements": [settlement_json(r) for r in rows],
    }
