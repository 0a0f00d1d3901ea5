"""`tuodi` commands of the batch package (registered on the main app): `synth`, and the columnar
path `tuodi settle` takes for large claims files."""
from __future__ import annotations

import os
import resource
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import numpy as np
import pyarrow.parquet as pq
import typer

from tuodi.cli.main import app, err, guarded, report_notes
from tuodi.io import read_stats
from tuodi.io.tables import InputError
from tuodi.policy import JURISDICTIONS, load_policy

#: `tuodi settle` settles columnar from this many claims (Parquet rows, or CSV bytes / 80)
COLUMNAR_FROM_CLAIMS = 50_000


def use_columnar(claims: Path) -> bool:
    """TUODI_SETTLE=engine|columnar forces a path; otherwise large claims files go columnar."""
    choice = os.environ.get("TUODI_SETTLE", "auto")
    if choice in ("engine", "columnar"):
        return choice == "columnar"
    try:
        if claims.suffix.lower() in (".parquet", ".pq"):
            return pq.ParquetFile(claims).metadata.num_rows >= COLUMNAR_FROM_CLAIMS
        return claims.stat().st_size >= 80 * COLUMNAR_FROM_CLAIMS
    except Exception:
        return False  # the scalar reader gives the refusal


class _Phases:
    """With TUODI_PHASES=1, each phase's wall and CPU seconds and fresh pages on stderr (how
    `benchmarks/batch.py --phases` shows what dominates)."""

    def __init__(self):
        self.on = os.environ.get("TUODI_PHASES") == "1"
        self.last = self._now()

    @staticmethod
    def _now():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return time.perf_counter(), r.ru_utime + r.ru_stime, r.ru_minflt

    def __call__(self, name: str) -> None:
        if self.on:
            now = self._now()
            wall, cpu, faults = (a - b for a, b in zip(now, self.last))
            err.print(f"tuodi: phase {name}: {wall:.2f} s wall, {cpu:.2f} s cpu, "
                      f"{faults * 4 / 1024:.0f} MB fresh pages (at {time.time():.2f})", markup=False)
            self.last = now


def settle_columnar(policy: str, persons: Path, identities: Optional[Path], claims: Path, out_path: Path,
                    stats: Optional[Path], overlay: Optional[Path], strict: bool,
                    detail: Optional[Path] = None) -> bool:
    """`tuodi settle` through `tuodi.batch`; False when the scalar path is to settle instead.

    The kernels pay the whole chain: the three tiers and the further payers a policy declares
    (CONTRACT.md "Further payers": `hh_no` families, `reasonable_ownpay_amt`), and write the
    `--detail` file from columns. Only a value the columnar readers do not read (`files.Unusual`)
    sends the files to the scalar readers and the engine."""
    if not use_columnar(claims):
        return False
    phase = _Phases()
    # the three files decode on threads (polars releases the GIL) from the start, while the
    # batch modules are imported, their compiled kernels loaded and the policy validated; the
    # refusals still come in the order of a sequential reading (a failed read is left to the
    # reader of that file, which raises it again)
    from tuodi.io.tables import read_frame
    pool = ThreadPoolExecutor(4)
    pending = {p: pool.submit(read_frame, p) for p in (claims, persons, identities) if p}

    def frame_of(path):
        try:
            return pending.pop(path).result()
        except Exception:
            return None

    from tuodi.batch import files, kernels
    from tuodi.batch.columnar import settle_columns

    pool.submit(kernels.warm_up)
    pool.shutdown(wait=False)
    pol = load_policy(policy, overlay)
    families = any(p.unit == "family" for p in pol.further_payers)
    phase("start (imports, policy)")
    try:
        psn, insutype, *hh = files.read_persons(persons, frame_of(persons), households=families)
        if identities:
            ids = files.read_identities(identities, psn, frame_of(identities))
        else:
            ids = (np.zeros(0, np.int64), [], np.zeros(0, np.int32), np.zeros(0, np.int32))
        frame = frame_of(claims)   # the future no longer holds it: freed when read_claims is done
        phase("read persons, identities")
        clm = files.read_claims(claims, psn, pol, frame)
        del frame
        phase("read claims")
    except files.Unusual:
        return False
    except InputError:
        raise
    except Exception:
        # a reader met something it does not expect: the scalar readers read the files again and
        # settle or refuse with the file, row and column (never an internal error from an input);
        # forced columnar (TUODI_SETTLE=columnar, as the tests run it) lets the error show
        if os.environ.get("TUODI_SETTLE") == "columnar":
            raise
        return False
    sts = read_stats(stats) if stats else {}
    result = settle_columns(pol, files.inputs(insutype, ids, clm, hh[0] if hh else None), sts)
    phase("settle")
    report_notes(pol.id, result.notes, strict)
    if detail is not None:
        from tuodi.io.write import check_out_path
        check_out_path(detail)   # refused before anything is written
    files.write_settlements(out_path, clm, result)
    if detail is not None:
        files.write_detail(detail, clm, result, pol)
    phase("write")
    err.print(f"tuodi: settled {len(clm.person)} claim(s) of {files.person_count(clm)} "
              f"person(s) under {pol.id}; wrote {out_path}", markup=False)
    return True


@app.command()
@guarded
def synth(
    persons: int = typer.Option(..., "--persons", min=0, help="number of persons"),
    year: int = typer.Option(..., "--year", help="calendar year of the claims"),
    policy: str = typer.Option(..., "--policy", help=f"jurisdiction: {', '.join(JURISDICTIONS)}"),
    seed: int = typer.Option(0, "--seed", help="random seed: the same seed gives the same files"),
    out: Optional[Path] = typer.Option(None, "--out", help="folder for persons, identities and claims"),
    fmt: str = typer.Option("parquet", "--format", help="parquet or csv"),
    upstream: str = typer.Option("given", "--upstream",
                                 help="hifmi_pay: given (upstream amounts on every claim), computed "
                                      "(left to Tuodi) or mixed (half and half, for differential tests)"),
    stats: Optional[Path] = typer.Option(None, "--stats", help="statistics file for the profile's "
                                         "settlement (倾斜救助's line, warning lines)"),
    profile_only: bool = typer.Option(False, "--profile-only", help="print the profile, write no files"),
) -> None:
    """Write a synthetic population (persons, identities, a year of claims) in the contract formats,
    and print its profile: what each payer pays, the caps and warning lines it reaches."""
    import datetime as dt

    from tuodi.batch.profile import format_profile, profile
    from tuodi.batch.synth import UPSTREAM, Shape, generate, synth_files
    from tuodi.cli.main import Refusal

    if fmt not in ("parquet", "csv"):
        raise Refusal(f"--format {fmt!r}: use parquet or csv")
    if upstream not in UPSTREAM:
        raise Refusal(f"--upstream {upstream!r}: use one of {', '.join(UPSTREAM)}")
    if out is None and not profile_only:
        raise Refusal("--out is required (or --profile-only)")
    pol = load_policy(policy)
    if not (pol.in_force(dt.date(year, 1, 1)) and pol.in_force(dt.date(year, 12, 31))):
        raise Refusal(f"--year {year}: {pol.id} is in force {pol.in_force_text()}")
    sts = read_stats(stats) if stats else {}
    pop = generate(pol, persons, year, seed, Shape(upstream=upstream), stats=sts)
    if not profile_only:
        written = synth_files(pol, persons, year, seed, out, fmt, population=pop)
        for name, (path, rows) in written.items():
            err.print(f"tuodi: wrote {rows} {name} row(s) to {path}", markup=False)
    err.print(format_profile(profile(pol, pop, sts, upstream, outputs=pop.settled)), markup=False)
