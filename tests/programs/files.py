"""Run a `tuodi` command in-process on small tables written as CSV (shared by programs and
dashboard tests)."""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from tuodi.cli.main import app

CLAIM_HEADER = ["setl_id", "psn_no", "setl_date", "med_type", "medfee_sumamt", "hifp_pay", "hifmi_pay"]


def write_table(path: Path, rows, default_header=None) -> Path:
    rows = list(rows)
    if any(isinstance(r, dict) for r in rows):
        rows = [r if isinstance(r, dict) else dict(zip(default_header, r)) for r in rows]
        header = list(dict.fromkeys(k for r in rows for k in r))
        rows = [[r.get(k, "") for k in header] for r in rows]
    else:
        header = default_header
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


@dataclass
class Result:
    exit_code: int
    stderr: str
    folder: Path
    rows: list[dict] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)

    def by_psn(self, column: str) -> dict[str, str]:
        return {r["psn_no"]: r[column] for r in self.rows}

    def dec(self, psn_no: str, column: str) -> Decimal | None:
        v = self.by_psn(column)[psn_no]
        return None if v == "" else Decimal(v)


class Tuodi:
    """tuodi(command, policy, persons=…, identities=…, claims=…, stats=…, args=[…]) -> Result."""

    def __init__(self, tmp_path: Path):
        self.tmp_path, self.n = tmp_path, 0

    def __call__(self, command: str, policy: str, persons, identities=(), claims=None, stats=(),
                 args=(), out="out.csv") -> Result:
        self.n += 1
        d = self.tmp_path / f"run{self.n}"
        d.mkdir()
        argv = [command, "--policy", policy,
                "--persons", str(write_table(d / "persons.csv", persons, ["psn_no", "insutype"]))]
        argv += ["--identities", str(write_table(d / "identities.csv", identities,
                                                 ["psn_no", "category", "begndate", "enddate"]))]
        if claims is not None:
            argv += ["--claims", str(write_table(d / "claims.csv", claims, CLAIM_HEADER))]
        if stats:
            argv += ["--stats", str(write_table(d / "stats.csv", stats, ["name", "year", "value"]))]
        if out:
            argv += ["--out", str(d / out)]
        argv += [str(a).replace("{dir}", str(d)) for a in args]
        r = CliRunner().invoke(app, argv)
        res = Result(r.exit_code, r.stderr, d)
        if out and (d / out).exists() and out.endswith(".csv"):
            with open(d / out, encoding="utf-8-sig") as f:
                reader = csv.DictReader(f)
                res.rows, res.columns = list(reader), list(reader.fieldnames or [])
        return res


def one_line_refusal(r: Result, *words: str) -> None:
    """CONTRACT.md: non-zero exit, one line on stderr naming what is wrong, nothing written."""
    assert r.exit_code != 0, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    inputs = {"persons.csv", "identities.csv", "claims.csv", "stats.csv", "settlements.csv"}
    written = sorted(p.name for p in r.folder.iterdir() if p.name not in inputs)
    assert not written, written
