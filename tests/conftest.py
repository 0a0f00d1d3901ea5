"""Shared helpers: run `tuodi settle` in-process on small tables written as CSV.

`--settle-path engine|columnar` runs every test with `TUODI_SETTLE` set, so the seed, CLI and
bad-input suites, whose files are small, can be run through the columnar path too
(`make test` runs them a second time that way)."""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuodi.cli.main import app


def write_csv(path: Path, header: list[str], rows: list[tuple | list]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str
    rows: list[dict] = field(default_factory=list)

    def row(self, setl_id: str) -> dict:
        for r in self.rows:
            if r["setl_id"] == setl_id:
                return r
        raise KeyError(setl_id)

    def amount(self, setl_id: str, column: str) -> Decimal | None:
        """The amount in a column, as Decimal; None when empty (an undefined rule)."""
        v = self.row(setl_id)[column]
        return None if v == "" else Decimal(v)


def pytest_addoption(parser):
    parser.addoption("--settle-path", choices=("auto", "engine", "columnar"), default=None,
                     help="settle every file through this path (sets TUODI_SETTLE for the session)")


@pytest.fixture(autouse=True, scope="session")
def settle_path(request):
    """The path `tuodi settle` takes in this session (TUODI_SETTLE), from --settle-path."""
    choice = request.config.getoption("--settle-path")
    if choice is None:
        yield os.environ.get("TUODI_SETTLE", "auto")
        return
    before = os.environ.get("TUODI_SETTLE")
    os.environ["TUODI_SETTLE"] = choice
    yield choice
    if before is None:
        os.environ.pop("TUODI_SETTLE", None)
    else:
        os.environ["TUODI_SETTLE"] = before


CLAIM_HEADER = ["setl_id", "psn_no", "setl_date", "med_type", "medfee_sumamt", "hifp_pay", "hifmi_pay"]


@pytest.fixture
def settle(tmp_path):
    """settle(policy, persons, claims, identities=..., stats=..., overlay=..., strict=...) -> Run.

    persons: [(psn_no, insutype)] or dicts; identities: [(psn_no, category, begndate, enddate)];
    claims: tuples in CLAIM_HEADER order, or dicts (any claims-file columns);
    stats: [(name, year, value)]; overlay: YAML text.
    """
    counter = {"n": 0}

    def run(policy, persons, claims, identities=(), stats=(), overlay=None, strict=False,
            extra_args=()) -> Run:
        counter["n"] += 1
        d = tmp_path / f"run{counter['n']}"
        d.mkdir()

        def table(name, default_header, rows):
            rows = list(rows)
            if rows and isinstance(rows[0], dict):
                header = list(dict.fromkeys(k for r in rows for k in r))
                rows = [[r.get(k, "") for k in header] for r in rows]
            else:
                header = default_header
            return write_csv(d / name, header, rows)

        args = ["settle", "--policy", policy,
                "--persons", str(table("persons.csv", ["psn_no", "insutype"], persons)),
                "--claims", str(table("claims.csv", CLAIM_HEADER, claims)),
                "--out", str(d / "out.csv")]
        args += ["--identities", str(table("identities.csv", ["psn_no", "category", "begndate", "enddate"], identities))]
        if stats:
            args += ["--stats", str(write_csv(d / "stats.csv", ["name", "year", "value"], stats))]
        if overlay is not None:
            (d / "overlay.yaml").write_text(overlay, encoding="utf-8")
            args += ["--overlay", str(d / "overlay.yaml")]
        if strict:
            args.append("--strict")
        args += list(extra_args)
        result = CliRunner().invoke(app, args)
        rows = []
        if (d / "out.csv").exists():
            with open(d / "out.csv", encoding="utf-8-sig") as f:
                rows = list(csv.DictReader(f))
        return Run(result.exit_code, result.stdout, result.stderr, rows)

    return run
