"""`make demo`: settle the sample data of two jurisdictions end to end and show the split.

Runs the real `tuodi` command on the files in examples/, exactly as a user would, then prints a
summary per jurisdiction and one person's explanation (with the clauses).
"""
from __future__ import annotations

import csv
import subprocess
import sys
import tempfile
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).parent
TUODI = [str(Path(sys.executable).with_name("tuodi"))]
console = Console(highlight=False, width=None if sys.stdout.isatty() else 150)
FUNDS = ["hifp_pay", "hifmi_pay", "maf_pay", "tilt_pay"]


def files(j: str) -> list[str]:
    d = HERE / j
    args = ["--policy", j, "--persons", str(d / "persons.csv"), "--identities", str(d / "identities.csv"),
            "--claims", str(d / "claims.csv")]
    if (d / "stats.csv").exists():
        args += ["--stats", str(d / "stats.csv")]
    return args


def show(j: str, out: Path) -> None:
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    t = Table(title=f"{j}: {len(rows)} claims settled", title_justify="left")
    for c in ["setl_id", "psn_no", "setl_date", "category", "medfee_sumamt", *FUNDS, "psn_part_amt"]:
        t.add_column(c, justify="right" if c.endswith(("amt", "pay")) else "left")
    totals: dict[str, Decimal] = defaultdict(Decimal)
    empty = 0
    for r in rows:
        t.add_row(*[r[c] or "—" for c in ["setl_id", "psn_no", "setl_date", "category", "medfee_sumamt",
                                             *FUNDS, "psn_part_amt"]])
        for c in ["medfee_sumamt", *FUNDS]:
            totals[c] += Decimal(r[c] or 0)
        empty += any(r[c] == "" for c in FUNDS)
    console.print(t)
    funds = sum(totals[c] for c in FUNDS)
    console.print(f"  total cost {totals['medfee_sumamt']:,}  funds {funds:,} "
                  f"(basic {totals['hifp_pay']:,}, critical illness {totals['hifmi_pay']:,}, "
                  f"assistance {totals['maf_pay']:,}, tilted {totals['tilt_pay']:,}); "
                  f"{empty} claim(s) with an amount the seeds leave undefined (—)\n")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for j in ("harbin", "qinghai"):
            out = Path(tmp) / f"{j}.csv"
            r = subprocess.run([*TUODI, "settle", *files(j), "--out", str(out)], capture_output=True, text=True)
            if r.returncode != 0:
                console.print(r.stderr)
                return r.returncode
            console.rule(f"tuodi settle --policy {j}")
            for line in r.stderr.splitlines():
                console.print(f"[dim]{line}[/dim]")
            show(j, out)
        console.rule("tuodi explain --policy harbin --psn H004 (因病致贫, 12-month look-back, out-of-area)")
        r = subprocess.run([*TUODI, "explain", *files("harbin"), "--psn", "H004"], capture_output=True, text=True)
        console.print(r.stdout, markup=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
