"""Benchmark of batch settlement (issue 3): a city's year of claims, Parquet in -> Parquet out.

    .venv/bin/python benchmarks/batch.py [--sizes 1000000,10000000] [--runs 3] [--policy harbin]

For each size it synthesises a population with about ten claims per person (`tuodi synth`, not
timed: the default city of issue 20, `--upstream given`, i.e. `hifmi_pay` given on every claim as
the national platform sends it, so critical illness is taken as given and assistance and tilted
assistance are computed on it; `--upstream computed` leaves critical illness to Tuodi as well), then times `tuodi settle` end to end in a fresh process (start-up, reading and checking
the three files, settling, writing the settlements file), with its peak memory from
`/usr/bin/time -v` (or the children's rusage). In the same run it times:

- the scalar engine (`tuodi.engine.settle`, objects already read) on a 100,000-claim sample of
  whole persons, per claim: the `scalar_speedup` is columnar claims/s over engine claims/s;
- a bare numpy floor: claims already in memory as arrays, argsort by person and date, three
  cumulative threshold/ratio/cap tiers per person-year, differences (`floor compute`); and the
  same with the Parquet reading of the columns it needs and the writing of three amount columns
  (`floor io`). `floor_ratio` is the end-to-end seconds over the `floor io` seconds.

With `--payers` (issue 12) each size is also settled under PAYERS_OVERLAY, two further payers
after the three tiers (a person-unit 慈善 payer on the in_scope base, and a family-unit burden cap
on the reasonable base over `hh_no`, like Quzhou's 暖心无忧 fund), in the same run: `payers x` is
its seconds over the three-tier run's (target: within 1.3x).

The medians of `--runs` runs are printed; the last line is machine-readable.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# the floor and the scalar engine measured with the memory settings `tuodi` itself runs with
from tuodi.batch.memory import tune_allocator  # noqa: E402

tune_allocator()

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.parquet as pq  # noqa: E402

from tuodi.batch.synth import Shape, synth_files  # noqa: E402
from tuodi.engine import settle as engine_settle  # noqa: E402
from tuodi.io import read_claims, read_identities, read_persons, read_stats  # noqa: E402
from tuodi.policy import load_policy  # noqa: E402

TUODI = str(Path(sys.executable).parent / "tuodi")
# two further payers (CONTRACT.md "Further payers"), one of them family-unit; illustrative numbers
PAYERS_OVERLAY = """payers:
  - id: charity_bench
    name: 慈善总会 (benchmark)
    unit: person
    rules:
      - id: charity_poor
        categories: [dibao, extreme_poverty, low_income, near_dibao]
        med_types: [inpatient, chronic]
        threshold: [{from: 2015-01-01, value: 1000, ref: "benchmark"}]
        ratio: [{from: 2015-01-01, value: 0.5, ref: "benchmark"}]
        cap: [{from: 2015-01-01, value: 3000, ref: "benchmark"}]
  - id: family_cap_bench
    name: 家庭负担封顶 (benchmark)
    base: reasonable
    unit: family
    rules:
      - id: family_cap_all
        categories: general
        med_types: [inpatient, chronic, outpatient]
        threshold: [{from: 2015-01-01, value: 8000, ref: "benchmark"}]
        ratio: [{from: 2015-01-01, value: 1, ref: "benchmark"}]
        cap: [{from: 2015-01-01, value: 30000, ref: "benchmark"}]
"""
STATS = ROOT / "examples" / "harbin" / "stats.csv"


def machine() -> str:
    cpu = "unknown cpu"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    return f"{os.cpu_count()} cores, {cpu}, {mem:.0f} GB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def prepare(d: Path, size: int, policy: str, year: int, upstream: str = "given") -> None:
    """A synthetic population with exactly `size` claims (about ten per person) in `d`."""
    synth_files(load_policy(policy), max(size // 10 * 102 // 100, 1), year, 1, d, shape=Shape(upstream=upstream))
    table = pq.read_table(d / "claims.parquet")
    if table.num_rows > size:  # exactly `size` claims: drop the last ones of December
        pq.write_table(table.slice(0, size), d / "claims.parquet")


def settle_once(d: Path, policy: str, phases: bool = False, overlay: Path | None = None) -> tuple[float, float, str]:
    """One end-to-end `tuodi settle`: (seconds, peak MB, its TUODI_PHASES lines if `phases`)."""
    out = d / "settlements.parquet"
    cmd = [TUODI, "settle", "--policy", policy, "--persons", str(d / "persons.parquet"),
           "--identities", str(d / "identities.parquet"), "--claims", str(d / "claims.parquet"),
           "--stats", str(STATS), "--out", str(out), *(["--overlay", str(overlay)] if overlay else [])]
    timed = Path("/usr/bin/time").exists()
    if timed:
        cmd = ["/usr/bin/time", "-v", *cmd]
    t = time.perf_counter()
    env = {**os.environ, "TUODI_PHASES": "1"} if phases else None
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - t
    if r.returncode != 0:
        raise SystemExit(f"tuodi settle failed: {r.stderr[-2000:]}")
    if timed:
        peak_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1))
    else:  # pragma: no cover
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    lines = "".join(f"  {line[len('tuodi: phase '):]}\n" for line in r.stderr.splitlines()
                    if line.startswith("tuodi: phase "))
    return seconds, peak_kb / 1024, lines


def floor(d: Path, runs: int) -> tuple[float, float]:
    """The bare numpy baseline: (compute seconds, seconds with Parquet read and write)."""
    def compute(psn_key, day, r1):
        order = np.argsort((psn_key << np.uint64(16)) | day.astype(np.uint64), kind="stable")
        p, base = psn_key[order], r1[order]
        new = np.r_[True, p[1:] != p[:-1]]
        starts = np.flatnonzero(new)
        local = np.cumsum(new) - 1
        out = []
        for threshold, bp, cap in ((1_200_000, 6_500, None), (0, 9_000, 10_000_000), (0, 5_000, 2_000_000)):
            cs = np.cumsum(base)
            cum = cs - (cs - base)[starts][local]
            amount = (np.maximum(cum - threshold, 0) * bp + 5_000) // 10_000
            if cap is not None:
                amount = np.minimum(amount, cap)
            prev = np.empty_like(amount)
            prev[1:] = amount[:-1]
            prev[starts] = 0
            paid = amount - prev
            out.append(paid)
            base = base - paid
        result = np.empty((3, len(order)), dtype=np.int64)
        result[:, order] = out
        return result

    claims = pl.read_parquet(d / "claims.parquet", columns=["psn_no", "setl_date", "inscp_scp_amt", "hifp_pay"])
    psn_key = (claims["psn_no"].hash().to_numpy() >> np.uint64(20))
    day = claims["setl_date"].cast(pl.Int32).to_numpy() - 18_000
    r1 = ((claims["inscp_scp_amt"] - claims["hifp_pay"]) * 100).cast(pl.Int64).to_numpy()
    compute_times, io_times = [], []
    for _ in range(runs):
        t = time.perf_counter()
        compute(psn_key, day, r1)
        compute_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        c = pl.read_parquet(d / "claims.parquet", columns=["psn_no", "setl_date", "inscp_scp_amt", "hifp_pay"])
        res = compute(c["psn_no"].hash().to_numpy() >> np.uint64(20),
                      c["setl_date"].cast(pl.Int32).to_numpy() - 18_000,
                      ((c["inscp_scp_amt"] - c["hifp_pay"]) * 100).cast(pl.Int64).to_numpy())
        pq.write_table(pa.table({n: res[i] for i, n in enumerate(("hifmi", "maf", "tilt"))}), d / "floor.parquet")
        io_times.append(time.perf_counter() - t)
    return statistics.median(compute_times), statistics.median(io_times)


def scalar(d: Path, policy: str, sample: int) -> float:
    """The scalar engine's claims per second on a sample of whole persons (objects in memory)."""
    pol = load_policy(policy)
    claims = pl.read_parquet(d / "claims.parquet")
    counts = claims.group_by("psn_no", maintain_order=True).len()
    keep = counts.filter(pl.col("len").cum_sum() <= sample)["psn_no"]
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        claims.filter(pl.col("psn_no").is_in(keep.implode())).write_parquet(t / "claims.parquet")
        pl.read_parquet(d / "persons.parquet").filter(pl.col("psn_no").is_in(keep.implode())).write_parquet(t / "persons.parquet")
        pl.read_parquet(d / "identities.parquet").filter(pl.col("psn_no").is_in(keep.implode())).write_parquet(t / "identities.parquet")
        psn = read_persons(t / "persons.parquet")
        ids = read_identities(t / "identities.parquet", psn)
        clm = read_claims(t / "claims.parquet", psn, pol)
    stats = read_stats(STATS)
    start = time.perf_counter()
    engine_settle(pol, psn, ids, clm, stats)
    return len(clm) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--policy", default="harbin")
    ap.add_argument("--year", type=int, default=2023)
    ap.add_argument("--sample", type=int, default=100_000)
    ap.add_argument("--workdir", default=None)
    ap.add_argument("--phases", action="store_true",
                    help="also print where one run of the largest size spends its time (TUODI_PHASES=1)")
    ap.add_argument("--upstream", default="given", choices=("given", "computed", "mixed"),
                    help="the population's hifmi_pay (tuodi synth --upstream)")
    ap.add_argument("--payers", action="store_true",
                    help="also settle each size under PAYERS_OVERLAY (two further payers, one family-unit)")
    ap.add_argument("--prepare", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.prepare is not None:
        prepare(Path(args.workdir), args.prepare, args.policy, args.year, args.upstream)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(args.workdir or tempfile.mkdtemp(prefix="tuodi-bench-"))
    print(f"machine: {machine()}")
    print(f"policy {args.policy}, year {args.year}, population `tuodi synth --upstream {args.upstream}`, "
          f"medians of {args.runs} run(s); work in {work}")
    # the inputs are made in child processes and every `tuodi settle` is timed before this process
    # reads anything large itself: on a virtual machine, memory the parent holds leaves the child
    # only pages the host has not backed yet, and the timings then grow by up to 10%
    dirs = {}
    for size in sizes:
        d = dirs[size] = work / f"claims-{size}"
        if not (d / "claims.parquet").exists():
            subprocess.run([sys.executable, __file__, "--prepare", str(size), "--policy", args.policy,
                            "--year", str(args.year), "--upstream", args.upstream, "--workdir", str(d)], check=True)
    overlay = work / "payers.yaml"
    overlay.write_text(PAYERS_OVERLAY, encoding="utf-8")
    timed, with_payers = {}, {}
    for size, d in dirs.items():   # the two runs alternate, so that a change of load hits both
        for _ in range(args.runs):
            timed.setdefault(size, []).append(settle_once(d, args.policy))
            if args.payers:
                with_payers.setdefault(size, []).append(settle_once(d, args.policy, overlay=overlay))
    if args.phases:
        print(f"phases of one run on {sizes[-1]:,} claims:")
        print(settle_once(dirs[sizes[-1]], args.policy, phases=True)[2], end="")
    scalar_rate = scalar(dirs[sizes[0]], args.policy, args.sample)
    rows = []
    for size, d in dirs.items():
        n = pq.ParquetFile(d / "claims.parquet").metadata.num_rows
        seconds = statistics.median(r[0] for r in timed[size])
        peak = max(r[1] for r in timed[size])
        f_compute, f_io = floor(d, args.runs)
        rate = n / seconds
        rows.append((size, n, seconds, rate, peak, f_compute, f_io, seconds / f_io, rate / scalar_rate))
    print(f"scalar engine: {scalar_rate:,.0f} claims/s on a {args.sample:,}-claim sample (settle only)")
    print(f"{'target':>10} {'claims':>10} {'seconds':>8} {'claims/s':>11} {'peak MB':>8} "
          f"{'floor s':>8} {'floor io s':>10} {'floor x':>8} {'vs scalar':>9}")
    for size, n, seconds, rate, peak, fc, fi, ratio, speedup in rows:
        print(f"{size:>10,} {n:>10,} {seconds:>8.2f} {rate:>11,.0f} {peak:>8,.0f} {fc:>8.2f} {fi:>10.2f} "
              f"{ratio:>8.2f} {speedup:>8.0f}x")
    print("routed to the scalar engine: 0 persons (every case has its columnar form)")
    for size in with_payers:
        three = statistics.median(r[0] for r in timed[size])
        more = statistics.median(r[0] for r in with_payers[size])
        print(f"{size:>10,} claims: three tiers {three:.2f} s; with two further payers (one family-unit) "
              f"{more:.2f} s, peak {max(r[1] for r in with_payers[size]):,.0f} MB: payers x {more / three:.2f}")
    size, n, seconds, rate, peak, fc, fi, ratio, speedup = rows[-1]
    print(f"claims={n} seconds={seconds:.2f} claims_per_s={rate:.0f} peak_mb={peak:.0f} "
          f"floor_ratio={ratio:.2f} scalar_speedup={speedup:.0f}")


if __name__ == "__main__":
    main()
