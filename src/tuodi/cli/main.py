"""The `tuodi` command line (CONTRACT.md, Commands): a thin layer that reads, settles, writes."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Iterable, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tuodi.engine import settle as engine_settle
from tuodi.engine.explain import explain_settlement
from tuodi.engine.settle import TIER_COLUMN, Notes
from tuodi.io import (InputError, read_claims, read_identities, read_persons, read_stats,
                      write_settlements)
from tuodi.io.write import write_detail
from tuodi.io.atomic import OutputError
from tuodi.policy import JURISDICTIONS, PolicyError, load_policy

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Tuodi (托底): one-stop settlement of the three-tier medical protection (三重制度).")
err = Console(stderr=True, highlight=False, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

PolicyOpt = typer.Option(..., "--policy", help=f"jurisdiction: {', '.join(JURISDICTIONS)}")
PersonsOpt = typer.Option(..., "--persons", help="persons file (CSV or Parquet)")
IdentitiesOpt = typer.Option(None, "--identities", help="identities file")
ClaimsOpt = typer.Option(..., "--claims", help="claims file")
StatsOpt = typer.Option(None, "--stats", help="statistics file: name,year,value")
OverlayOpt = typer.Option(None, "--overlay", help="policy overlay (YAML): changed or added values")


class Refusal(Exception):
    """A run that must stop with a one-line reason (exit status 2)."""


def fail(message: str, code: int = 2) -> None:
    err.print(f"tuodi: error: {message}", markup=False)
    raise typer.Exit(code)


def guarded(fn):
    """Turn every refusal into one line on stderr and a non-zero exit; never a traceback."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (InputError, OutputError, PolicyError, Refusal) as e:
            fail(str(e))
        except typer.Exit:
            raise
        except Exception as e:  # a bug: still one line, unless debugging
            if os.environ.get("TUODI_DEBUG"):
                raise
            fail(f"internal error ({type(e).__name__}: {e}); set TUODI_DEBUG=1 for details", 3)
    return wrapper


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)          # follows symbolic links
    except (OSError, ValueError):
        return None                 # not there (yet): nothing to overwrite
    return st.st_dev, st.st_ino     # the same for every hard link


def refuse_overwriting_inputs(outputs: dict[str, Optional[Path]] | Iterable[tuple[str, Path]],
                              inputs: dict[str, Optional[Path]]) -> None:
    """Refuse (one line, nothing read or written) an output that is one of the inputs: the same
    file under the same name, through a symbolic link or a hard link. Every command that writes
    a file calls this with its options, e.g. ({"--out": out}, {"--persons": persons, …}); the
    outputs may also be (option, path) pairs, several for one option."""
    seen = {}
    for option, path in inputs.items():
        if path is not None and (key := _identity(path)) is not None:
            seen.setdefault(key, (option, path))
    for option, path in outputs.items() if isinstance(outputs, dict) else outputs:
        if path is None:
            continue
        key = _identity(path)
        if key in seen:
            in_option, in_path = seen[key]
            raise Refusal(f"{option} {path} is the input file {in_option} {in_path}: it would be "
                          "overwritten; write the output to another file")


def load_inputs(policy: str, persons: Path, identities: Optional[Path], claims: Path,
                stats: Optional[Path], overlay: Optional[Path]):
    pol = load_policy(policy, overlay)
    psn = read_persons(persons)
    ids = read_identities(identities, psn) if identities else []
    clm = read_claims(claims, psn, pol)
    sts = read_stats(stats) if stats else {}
    return pol, psn, ids, clm, sts


def report_notes(policy_id: str, notes: Notes, strict: bool) -> None:
    """Warnings on stderr: undefined rules (with counts) and identities the policy ignores."""
    lines = []
    for (tier, rule_id, category), n in sorted(notes.undefined.items()):
        who = f" for {category}" if category else ""
        reason = notes.undefined_reason[(tier, rule_id, category)]
        column = notes.columns.get(tier) or TIER_COLUMN[tier]
        lines.append(f"policy {policy_id}: rule {tier}.{rule_id}{who} is undefined: "
                     f"{column} left empty on {n} claim(s) ({reason})")
    if strict and lines:
        raise Refusal(f"--strict: {lines[0]}" + (f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""))
    for category, n in sorted(notes.ignored_categories.items()):
        lines.append(f"policy {policy_id}: category {category} is not recognised there: "
                     f"{n} identity row(s) ignored")
    for line in lines:
        err.print(f"tuodi: warning: {line}", markup=False)


def run_settlement(pol, psn, ids, clm, sts):
    with Progress(TextColumn("settling"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal or len(clm) < 20_000) as bar:
        task = bar.add_task("settle", total=len(clm))
        return engine_settle(pol, psn, ids, clm, sts, progress=lambda n: bar.advance(task, n))


@app.command()
@guarded
def policies() -> None:
    """List the policies, their jurisdictions and dates in force."""
    table = Table("policy", "jurisdiction", "in force", "documents", title="Tuodi policies")
    for name in JURISDICTIONS:
        p = load_policy(name)
        docs = "; ".join(d.number.split(" ")[0] for d in p.model.documents.values())
        table.add_row(p.id, p.name, p.in_force_text(), docs)
    out.print(table)


@app.command()
@guarded
def settle(
    policy: str = PolicyOpt, persons: Path = PersonsOpt, identities: Optional[Path] = IdentitiesOpt,
    claims: Path = ClaimsOpt, out_path: Path = typer.Option(..., "--out", help="settlements file (.csv or .parquet)"),
    stats: Optional[Path] = StatsOpt, overlay: Optional[Path] = OverlayOpt,
    strict: bool = typer.Option(False, "--strict", help="an undefined rule is an error"),
    detail: Optional[Path] = typer.Option(None, "--detail", help="detail file: one row per claim and payer (setldetail)"),
) -> None:
    """Settle every claim: basic insurance → critical illness → assistance → tilted assistance →
    the further payers the policy declares."""
    if detail is not None and out_path is not None and detail == out_path:
        raise Refusal(f"--detail {detail} is the --out file: write them to two files")
    refuse_overwriting_inputs({"--out": out_path, "--detail": detail},
                              {"--persons": persons, "--identities": identities,
                               "--claims": claims, "--stats": stats, "--overlay": overlay})
    if batch_commands.settle_columnar(policy, persons, identities, claims, out_path, stats, overlay, strict,
                                      detail):
        return  # large inputs: the columnar path (tuodi.batch), the same results
    pol, psn, ids, clm, sts = load_inputs(policy, persons, identities, claims, stats, overlay)
    result = run_settlement(pol, psn, ids, clm, sts)
    report_notes(pol.id, result.notes, strict)
    if detail is not None:
        from tuodi.io.write import check_out_path
        check_out_path(detail)   # refused before anything is written
    write_settlements(out_path, result.settlements)
    if detail is not None:
        write_detail(detail, result.settlements, pol)
    err.print(f"tuodi: settled {len(result.settlements)} claim(s) of {len({c.psn_no for c in clm})} "
              f"person(s) under {pol.id}; wrote {out_path}", markup=False)


@app.command()
@guarded
def explain(
    policy: str = PolicyOpt, persons: Path = PersonsOpt, identities: Optional[Path] = IdentitiesOpt,
    claims: Path = ClaimsOpt, psn: str = typer.Option(..., "--psn", help="the person (psn_no)"),
    stats: Optional[Path] = StatsOpt, overlay: Optional[Path] = OverlayOpt,
) -> None:
    """Explain, claim by claim, how one person's amounts were found and which clause says so."""
    pol, psn_map, ids, clm, sts = load_inputs(policy, persons, identities, claims, stats, overlay)
    if psn not in psn_map:
        raise Refusal(f"{persons}: unknown person {psn!r} (--psn)")
    # a family-unit payer's year is the household's: its members' claims are settled with the person's
    hh = psn_map[psn].hh_no if any(p.unit == "family" for p in pol.further_payers) else None
    family = {p for p, person in psn_map.items() if hh is not None and person.hh_no == hh} | {psn}
    mine = [c for c in clm if c.psn_no == psn]
    theirs = [c for c in clm if c.psn_no in family]
    result = engine_settle(pol, {p: psn_map[p] for p in family}, [i for i in ids if i.psn_no in family],
                           theirs, sts)
    med = {c.setl_id: c.med_type for c in mine}
    ordered = sorted((s for s in result.settlements if s.psn_no == psn), key=lambda s: s.setl_date)
    out.print(f"{pol.name} ({pol.id}) — 参保人 {psn}: {len(mine)} 笔结算", markup=False)
    for s in ordered:
        out.print("", markup=False)
        out.print(explain_settlement(s, pol, med[s.setl_id]), markup=False)
    report_notes(pol.id, result.notes, strict=False)


# Commands of the other packages register themselves on `app` (batch, service, report).
from tuodi.cli import batch_commands, report_commands, service_commands  # noqa: E402,F401


def main() -> None:
    """The `tuodi` executable: the app, then an exit that skips freeing the heap object by object.

    A settlement of 10M claims holds about 4 GB of columns; Python's finalisation frees them one by
    one before the kernel unmaps the rest, 0.2-0.3 s of a 6 s run. By then the command has
    written everything it produces (result files are renamed into place only when complete), so
    once stdout, stderr and logging are flushed the process leaves with `os._exit`. (Tests call
    `app` in-process, never this.)"""
    code: int = 0
    try:
        app()
    except SystemExit as e:
        if isinstance(e.code, str):
            print(e.code, file=sys.stderr)
            code = 1
        else:
            code = e.code or 0
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (| head), a closed stream
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    main()
