"""`tuodi subsidy | warn | grants | report` (CONTRACT.md; issue 5): premium subsidies, early
warnings to departments, one-off grants and the protection report. A thin layer: read, call the
pure programs and the dashboard, write atomically, print warnings."""
from __future__ import annotations

import datetime as dt
import os
import re
from contextlib import nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Optional

import typer

from tuodi.cli.main import (ClaimsOpt, IdentitiesOpt, OverlayOpt, PersonsOpt, PolicyOpt, Refusal,
                            StatsOpt, app, err, guarded, load_inputs, refuse_overwriting_inputs,
                            report_notes, run_settlement)
from tuodi.engine.model import Person
from tuodi.engine.money import yuan
from tuodi.io import (InputError, read_identities, read_persons, read_settlements, read_stats, read_table,
                      write_rows)
from tuodi.io.atomic import atomic_folder
from tuodi.io.safe import restore
from tuodi.io.tables import parse_amount_fen
from tuodi.policy import load_policy
from tuodi.programs import ProgramNotes, evaluate_warnings, grants_for_year, subsidies_for_year

StrictOpt = typer.Option(False, "--strict", help="an undefined rule is an error")
YearOpt = typer.Option(..., "--year", help="the calendar year (YYYY, 1900-2100)")
#: the years a --year may name: a calendar date must exist for every day of it, and no policy
#: or statistic Tuodi reads lies outside them
YEARS = range(1900, 2101)

SUBSIDY_COLUMNS = ["psn_no", "category", "share", "amount"]
WARNING_COLUMNS = ["psn_no", "year", "rule", "value", "threshold", "notify"]
GRANT_COLUMNS = ["psn_no", "grant", "amount"]
#: the policy whose targets the report shows when a policy sets none of its own
REFERENCE_TARGETS = "quzhou"
#: personal data the persons file may carry, pushed only with rules whose clause says so
CONTACT_COLUMNS = ["psn_name", "tel", "addr", "admdvs"]


def _share_text(share: Decimal | None) -> str:
    if share is None:
        return ""
    text = format(share.normalize(), "f")
    return text


def _parse_year(text: str) -> int:
    """--year as a calendar year YYYY between 1900 and 2100, or a one-line refusal naming it."""
    v = text.strip()
    if not re.fullmatch(r"[0-9]{4}", v) or int(v) not in YEARS:
        raise Refusal(f"--year {text!r}: not a year YYYY between {YEARS[0]} and {YEARS[-1]}")
    return int(v)


def _check_year(pol, year: int) -> None:
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    f = pol.model.in_force
    if f.start > last or (f.end is not None and f.end < first):
        raise Refusal(f"--year {year}: no policy in force for {pol.id} in {year} "
                      f"(in force {pol.in_force_text()})")


def _program_notes(policy_id: str, notes: ProgramNotes, strict: bool, left: str) -> None:
    lines = notes.lines(policy_id, left)
    if strict and lines:
        raise Refusal(f"--strict: {lines[0]}" + (f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""))
    for line in lines:
        err.print(f"tuodi: warning: {line}", markup=False)


def _persons_and_identities(policy: str, persons: Path, identities: Optional[Path], overlay: Optional[Path]):
    pol = load_policy(policy, overlay)
    psn = read_persons(persons)
    ids = read_identities(identities, psn) if identities else []
    return pol, psn, ids


@app.command()
@guarded
def subsidy(
    policy: str = PolicyOpt, persons: Path = PersonsOpt, identities: Optional[Path] = IdentitiesOpt,
    year_text: str = YearOpt,
    contribution: Optional[str] = typer.Option(None, "--contribution",
                                               help="the individual contribution in yuan (个人缴费标准)"),
    out_path: Path = typer.Option(..., "--out", help="subsidy file (.csv or .parquet)"),
    overlay: Optional[Path] = OverlayOpt, strict: bool = StrictOpt,
) -> None:
    """Premium subsidy (资助参保) per person for a year: the largest share over the identities held."""
    refuse_overwriting_inputs({"--out": out_path}, {"--persons": persons, "--identities": identities,
                                                    "--overlay": overlay})
    year = _parse_year(year_text)
    contribution_fen = None
    if contribution is not None:
        try:
            contribution_fen = parse_amount_fen(contribution.strip())
        except Exception as e:
            raise Refusal(f"--contribution {contribution!r}: {e.args[0] if e.args else 'not an amount in yuan'}")
    pol, psn, ids = _persons_and_identities(policy, persons, identities, overlay)
    _check_year(pol, year)
    notes = ProgramNotes()
    shares = subsidies_for_year(pol, psn, ids, year, contribution_fen, notes)
    _program_notes(pol.id, notes, strict, "share and amount left empty")
    write_rows(out_path, SUBSIDY_COLUMNS, (
        {"psn_no": s.psn_no, "category": s.category or "", "share": _share_text(s.share),
         "amount": yuan(s.amount)} for s in shares), amount_columns=("amount",))
    paid = sum(1 for s in shares if s.share)
    err.print(f"tuodi: {paid} of {len(shares)} person(s) subsidised in {year} under {pol.id}; "
              f"wrote {out_path}", markup=False)


def _read_paid(path: Path, pol) -> set[tuple[str, str]]:
    """The (psn_no, grant) pairs of a grants file written by earlier runs (`--paid`).

    Persons no longer in this year's persons file are accepted: the file is a history. A grant
    id the policy does not know is refused (a file from another jurisdiction, or a typo)."""
    t = read_table(path)
    t.require(*GRANT_COLUMNS)
    known = {g.id for g in pol.model.grants}
    out = set()
    for i, row in t.rows():
        values = {c: restore((row.get(c) or "").strip()) for c in GRANT_COLUMNS}
        for c in ("psn_no", "grant"):
            if not values[c]:
                raise InputError(t.path, "empty, a value is required", i, c)
        if values["grant"] not in known:
            raise InputError(t.path, f"{values['grant']!r}: not a grant of policy {pol.id} "
                             f"(its grants: {', '.join(sorted(known)) or 'none'})", i, "grant")
        if values["amount"]:
            try:
                parse_amount_fen(values["amount"])
            except ValueError as e:
                raise InputError(t.path, f"{values['amount']!r}: {e.args[0]}", i, "amount") from None
        out.add((values["psn_no"], values["grant"]))
    return out


@app.command()
@guarded
def grants(
    policy: str = PolicyOpt, persons: Path = PersonsOpt, identities: Optional[Path] = IdentitiesOpt,
    year_text: str = YearOpt, out_path: Path = typer.Option(..., "--out", help="grants file (.csv or .parquet)"),
    paid: Optional[Path] = typer.Option(None, "--paid", help="grants file of earlier runs (psn_no,grant,"
                                        "amount): once-per-person grants are not granted again"),
    overlay: Optional[Path] = OverlayOpt, strict: bool = StrictOpt,
) -> None:
    """One-off grants due in a year (e.g. 长治 大病关怀救助 5,000 yuan), once per person."""
    refuse_overwriting_inputs({"--out": out_path}, {"--persons": persons, "--identities": identities,
                                                    "--paid": paid, "--overlay": overlay})
    year = _parse_year(year_text)
    pol, psn, ids = _persons_and_identities(policy, persons, identities, overlay)
    _check_year(pol, year)
    already = _read_paid(paid, pol) if paid is not None else set()
    notes = ProgramNotes()
    due = grants_for_year(pol, psn, ids, year, notes, already)
    _program_notes(pol.id, notes, strict, "amount left empty")
    write_rows(out_path, GRANT_COLUMNS, ({"psn_no": g.psn_no, "grant": g.grant, "amount": yuan(g.amount)}
                                         for g in due), amount_columns=("amount",))
    err.print(f"tuodi: {len(due)} grant(s) due in {year} under {pol.id}; wrote {out_path}", markup=False)


def _contacts(persons: dict[str, Person]) -> dict[str, dict[str, str]]:
    """The contact data of the persons file (read and checked with it), for the department files."""
    return {psn_no: {c: getattr(p, c) or "" for c in CONTACT_COLUMNS} for psn_no, p in persons.items()}


def _check_folder(folder: Path) -> None:
    if not folder.parent.exists():
        raise InputError(folder, f"the folder {folder.parent} does not exist")
    if folder.exists() and not folder.is_dir():
        raise InputError(folder, "--split-by-department needs a folder, not a file")


def _stage_departments(tmp: Path, folder: Path, pol, alerts, contacts: dict[str, dict[str, str]],
                       inputs: dict[str, Optional[Path]]) -> list[str]:
    """One CSV and one XLSX per department notified, written into `tmp`, the temporary folder
    beside `folder` (`_place_departments` moves them into place); refused before anything is
    written when one of them would replace an input file."""
    from tuodi.dashboard.xlsx import Sheet, write_workbook

    rules = {r.id: r for r in pol.model.warnings}
    departments = list(dict.fromkeys(d for a in alerts for d in a.notify))
    refuse_overwriting_inputs([("--split-by-department", folder / f"{dept}{ext}")
                               for dept in departments for ext in (".csv", ".xlsx")], inputs)
    columns = ["psn_no", "year", "rule", "rule_name", "value", "threshold", *CONTACT_COLUMNS, "ref"]
    for dept in departments:
        rows = []
        for a in alerts:
            if dept not in a.notify:
                continue
            contact = contacts.get(a.psn_no, {}) if a.contact else {}
            rows.append({"psn_no": a.psn_no, "year": str(a.year), "rule": a.rule,
                         "rule_name": rules[a.rule].name, "value": yuan(a.value),
                         "threshold": yuan(a.threshold),
                         **{c: contact.get(c, "") for c in CONTACT_COLUMNS},
                         "ref": pol.cite(rules[a.rule].contact_ref or rules[a.rule].ref)})
        write_rows(tmp / f"{dept}.csv", columns, rows, amount_columns=("value", "threshold"))
        write_workbook(tmp / f"{dept}.xlsx", [Sheet(
            dept, columns, [[Decimal(r[c]) if c in ("value", "threshold") else r[c] for c in columns]
                            for r in rows], formats={"value": "#,##0.00", "threshold": "#,##0.00"})])
    return departments


def _place_departments(tmp: Path, folder: Path) -> None:
    """Move the staged department files into `folder`: the whole temporary folder is renamed
    when `folder` does not exist yet, else each file replaces its namesake (os.replace)."""
    if not folder.exists():
        os.replace(tmp, folder)
        return
    for f in sorted(tmp.iterdir()):
        os.replace(f, folder / f.name)


@app.command()
@guarded
def warn(
    policy: str = PolicyOpt, persons: Path = PersonsOpt, identities: Optional[Path] = IdentitiesOpt,
    claims: Path = ClaimsOpt, out_path: Path = typer.Option(..., "--out", help="warnings file (.csv or .parquet)"),
    stats: Optional[Path] = StatsOpt, overlay: Optional[Path] = OverlayOpt, strict: bool = StrictOpt,
    split: Optional[Path] = typer.Option(None, "--split-by-department",
                                         help="folder: one CSV and one XLSX per department notified"),
) -> None:
    """Early warnings (双预警): persons whose yearly figures cross a rule's line, and who is told."""
    inputs = {"--persons": persons, "--identities": identities, "--claims": claims, "--stats": stats,
              "--overlay": overlay}
    refuse_overwriting_inputs({"--out": out_path}, inputs)
    if split is not None:
        _check_folder(split)
    pol, psn, ids, clm, sts = load_inputs(policy, persons, identities, claims, stats, overlay)
    result = run_settlement(pol, psn, ids, clm, sts)
    report_notes(pol.id, result.notes, strict)
    notes = ProgramNotes()
    alerts = evaluate_warnings(pol, psn, ids, result.settlements, sts, notes)
    levels = pol.model.risk_levels
    if levels is not None and levels.levels == "undefined":
        for _ in {c.psn_no for c in clm}:
            notes.add("warnings", "risk_levels", None, f"levels named but not quantified ({pol.short_cite(levels.ref)})")
    _program_notes(pol.id, notes, strict, "not evaluated")
    contacts = _contacts(psn) if split is not None else {}
    # Nothing is written when the run fails (CONTRACT.md): the department files are staged first
    # (in a temporary folder, removed if anything fails), then --out is written (atomically), and
    # only then are the department files moved into place.
    departments: list[str] = []
    with atomic_folder(split) if split is not None else nullcontext() as staged:
        if split is not None:
            departments = _stage_departments(staged, split, pol, alerts, contacts, inputs)
        write_rows(out_path, WARNING_COLUMNS, (
            {"psn_no": a.psn_no, "year": str(a.year), "rule": a.rule, "value": yuan(a.value),
             "threshold": yuan(a.threshold),
             "notify": ";".join(a.notify)} for a in alerts), amount_columns=("value", "threshold"))
        if split is not None:
            try:
                _place_departments(staged, split)
            except BaseException:
                out_path.unlink(missing_ok=True)
                raise
    where = f" and {len(departments)} department file pair(s) in {split}" if split is not None else ""
    err.print(f"tuodi: {len(alerts)} warning(s) for {len({a.psn_no for a in alerts})} person(s) under "
              f"{pol.id}; wrote {out_path}{where}", markup=False)


def _check_out(path: Optional[Path], suffix: str, option: str) -> None:
    if path is None:
        return
    if path.suffix.lower() != suffix:
        raise InputError(path, f"{option} is written as {suffix}")
    if not path.parent.exists():
        raise InputError(path, f"the folder {path.parent} does not exist")


@app.command()
@guarded
def report(
    policy: str = PolicyOpt, persons: Path = PersonsOpt, identities: Optional[Path] = IdentitiesOpt,
    settlements: Optional[Path] = typer.Option(None, "--settlements", help="settled claims (output of settle)"),
    claims: Optional[Path] = typer.Option(None, "--claims", help="claims file, settled on the fly"),
    stats: Optional[Path] = StatsOpt, overlay: Optional[Path] = OverlayOpt, strict: bool = StrictOpt,
    xlsx: Optional[Path] = typer.Option(None, "--xlsx", help="the report as an XLSX workbook"),
    html: Optional[Path] = typer.Option(None, "--html", help="the report as a self-contained HTML page"),
    sources: Optional[Path] = typer.Option(None, "--sources", help="sources file of the further payers "
                                           "(fund,source_type,source,amount,date): adds their accounts per year"),
    detail: Optional[Path] = typer.Option(None, "--detail", help="with --settlements and --sources: the detail "
                                          "file of the same `tuodi settle --detail` run (what each payer paid)"),
) -> None:
    """The protection report: per identity category and month — persons, claims, cost, each fund,
    综合保障率, 政策范围内保障率, 个人负担率, persons warned, and the targets; with --sources, the further
    payers' accounts per year (what `tuodi fund` gives)."""
    from tuodi.dashboard.page import write_report_html
    from tuodi.dashboard.tables import build_report
    from tuodi.dashboard.workbook import write_report_xlsx
    from tuodi.programs.fund import accounts, payments_of

    if (settlements is None) == (claims is None):
        raise Refusal("report: give either --settlements (output of settle) or --claims (settled on the fly)")
    if xlsx is None and html is None:
        raise Refusal("report: give --xlsx F, --html F or both")
    if detail is not None and (sources is None or claims is not None):
        raise Refusal("report: --detail goes with --settlements and --sources (with --claims the run's own "
                      "payments are used)")
    if sources is not None and settlements is not None and detail is None:
        raise Refusal("report: --sources with --settlements needs --detail F (the detail file of the same "
                      "settle run): the settlements file gives only oth_pay, the further payers' sum")
    refuse_overwriting_inputs({"--xlsx": xlsx, "--html": html},
                              {"--persons": persons, "--identities": identities, "--settlements": settlements,
                               "--claims": claims, "--stats": stats, "--overlay": overlay, "--sources": sources,
                               "--detail": detail})
    _check_out(xlsx, ".xlsx", "--xlsx")
    _check_out(html, ".html", "--html")
    if claims is not None:
        pol, psn, ids, clm, sts = load_inputs(policy, persons, identities, claims, stats, overlay)
        raised = _read_sources(sources, pol) if sources is not None else []
        paid = None     # the run's own payments (its steps), below
        result = run_settlement(pol, psn, ids, clm, sts)
        report_notes(pol.id, result.notes, strict)
        settled = result.settlements
    else:
        pol, psn, ids = _persons_and_identities(policy, persons, identities, overlay)
        raised = _read_sources(sources, pol) if sources is not None else []
        sts = read_stats(stats) if stats else {}
        settled = read_settlements(settlements, psn)
        paid = _read_fund_payments(detail, pol) if detail is not None else None
        for s in settled:
            if not pol.in_force(s.setl_date):
                raise InputError(settlements, f"no policy in force on {s.setl_date} for {pol.id} "
                                 f"(in force {pol.in_force_text()})", None, "setl_date")
    notes = ProgramNotes()
    alerts = evaluate_warnings(pol, psn, ids, settled, sts, notes)
    _program_notes(pol.id, notes, strict, "not evaluated")
    # A policy that sets no targets is compared with Quzhou's (衢政办发〔2023〕1号 二), the one seed
    # that quantifies them; the pure report builder is handed the loaded policy.
    reference = None if pol.model.targets else load_policy(REFERENCE_TARGETS)
    funds = None
    if sources is not None:
        paid = paid if paid is not None else payments_of(pol, settled)
        # every year the claims, the payments or the sources touch (tuodi fund gives one --year)
        years = sorted({s.setl_date.year for s in settled} | {p.setl_date.year for p in paid}
                       | {x.date.year for x in raised})
        funds = [a for y in years for a in accounts(pol, y, raised, paid)]
        _print_breaches(funds)
    rep = build_report(pol, settled, alerts, notes.lines(pol.id, "not evaluated"), reference, funds)
    if xlsx is not None:
        write_report_xlsx(xlsx, rep)
    if html is not None:
        write_report_html(html, rep)
    wrote = " and ".join(str(p) for p in (xlsx, html) if p is not None)
    err.print(f"tuodi: report on {rep.total.claims} claim(s) of {len(rep.total.persons)} person(s) under "
              f"{pol.id}; wrote {wrote}", markup=False)


@app.command()
@guarded
def fund(
    policy: str = PolicyOpt,
    detail: Path = typer.Option(..., "--detail", help="detail file of `tuodi settle --detail`"),
    sources: Path = typer.Option(..., "--sources", help="sources file: fund,source_type,source,amount,date"),
    year_text: str = YearOpt, out_path: Path = typer.Option(..., "--out", help="fund file (.csv or .parquet)"),
    overlay: Optional[Path] = OverlayOpt,
) -> None:
    """The further payers' accounts for a year: raised by source, fiscal share, paid, balance, breaches."""
    from tuodi.programs.fund import FUND_COLUMNS, accounts, share_text

    refuse_overwriting_inputs({"--out": out_path}, {"--detail": detail, "--sources": sources, "--overlay": overlay})
    year = _parse_year(year_text)
    pol = load_policy(policy, overlay)
    rows = accounts(pol, year, _read_sources(sources, pol), _read_fund_payments(detail, pol))
    _print_breaches(rows)
    write_rows(out_path, FUND_COLUMNS, ({
        "fund": a.fund, "year": str(a.year), "raised": yuan(a.raised), "fiscal": yuan(a.fiscal),
        "fiscal_share": share_text(a.fiscal_share), "paid": yuan(a.paid), "persons": str(a.persons),
        "claims": str(a.claims), "balance": yuan(a.balance), "fiscal_share_limit": share_text(a.fiscal_share_limit),
        "breach": ";".join(a.breach)} for a in rows), amount_columns=("raised", "fiscal", "paid", "balance"))
    err.print(f"tuodi: {len(rows)} fund account(s) for {year} under {pol.id}; wrote {out_path}", markup=False)


def _read_sources(path: Path, pol) -> list:
    """The sources file (CONTRACT.md fund file): `fund` a further payer's id or fund code of the
    policy, `source_type` one of SOURCE_TYPES; a bad cell is refused with file, row and column."""
    from tuodi.io.tables import _cell, parse_date
    from tuodi.programs.fund import SOURCE_TYPES, Source, fund_ids

    ids = fund_ids(pol)

    def known_fund(v: str) -> str:
        if v not in ids:
            raise ValueError(f"not a further payer of {pol.id} (known: {', '.join(sorted(ids)) or 'none'})")
        return ids[v]

    def source_type(v: str) -> str:
        if v not in SOURCE_TYPES:
            raise ValueError(f"source_type is one of {', '.join(SOURCE_TYPES)}")
        return v

    t = read_table(path)
    t.require("fund", "source_type", "amount", "date")
    raised = []
    for i, row in t.rows():
        def cell(c, parse, required=True):
            return _cell(t, i, c, row.get(c), parse, required=required)
        raised.append(Source(cell("fund", known_fund), cell("source_type", source_type),
                             cell("source", restore, False), cell("amount", parse_amount_fen), cell("date", parse_date)))
    return raised


def _read_fund_payments(path: Path, pol) -> list:
    """The further payers' rows of a detail file (`settle --detail`); the tiers' rows are skipped."""
    from tuodi.io.tables import _cell, parse_date
    from tuodi.programs.fund import Payment, fund_ids

    ids = fund_ids(pol)
    d = read_table(path)
    d.require("setl_id", "psn_no", "setl_date", "fund_pay_type", "fund_payamt")
    paid = []
    for i, row in d.rows():
        kind = (row.get("fund_pay_type") or "").strip()
        if kind not in ids:
            continue   # a tier's row (hifmi, 610100, tilt): not a further payer's account
        def cell(c, parse, required=True):
            return _cell(d, i, c, row.get(c), parse, required=required)
        paid.append(Payment(ids[kind], cell("setl_id", restore), cell("psn_no", restore), cell("setl_date", parse_date),
                            cell("fund_payamt", parse_amount_fen, False)))
    return paid


def _print_breaches(rows) -> None:
    """Each breach of a fund account as a warning on stderr (CONTRACT.md fund file)."""
    from tuodi.programs.fund import share_text

    for a in rows:
        for b in a.breach:
            what = (f"fiscal share {share_text(a.fiscal_share)} above its limit {share_text(a.fiscal_share_limit)}"
                    if b == "fiscal_share" else f"paid {yuan(a.paid)} more than raised {yuan(a.raised)}")
            err.print(f"tuodi: warning: fund {a.fund} {a.year}: {what} ({b})", markup=False)
