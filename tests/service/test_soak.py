"""A 60-second soak of the service on PostgreSQL (issue 11, "Prove": load): `benchmarks/service.py
--soak 60`, at 80% of the rate it measures first. No request may fail, the server's resident
memory may not grow more than 50 MB after the first 15 s (warm-up), no latency interval may stall,
and the burst after it pays nothing twice. The 10-minute soak of README is the same script run by
hand with `--soak 600`."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "service.py"
PG_URL = os.environ.get("TUODI_TEST_PG_URL")
SECONDS = float(os.environ.get("TUODI_SOAK_SECONDS", "60"))
RSS_GROWTH_MB = 50


@pytest.mark.soak
@pytest.mark.skipif(not PG_URL, reason="TUODI_TEST_PG_URL not set (the soak runs on PostgreSQL)")
def test_soak_60s_no_errors_no_memory_growth():
    run = subprocess.run([sys.executable, str(BENCH), "--db", PG_URL, "--persons", "200", "--settles", "800",
                          "--duplicates", "50", "--soak", str(SECONDS), "--interval", str(SECONDS / 4),
                          "--soak-persons", "300"],
                         capture_output=True, text=True, timeout=SECONDS + 240)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    print(run.stdout)
    figures = dict(part.split("=", 1) for part in run.stdout.strip().splitlines()[-1].split())
    assert int(figures["requests"]) > 10 * SECONDS, figures  # the soak did run
    assert int(figures["errors"]) == 0, run.stdout
    assert int(figures["double_payments"]) == 0, run.stdout
    assert float(figures["rss_growth_mb"]) < RSS_GROWTH_MB, run.stdout
    assert float(figures["p99_max_interval_ms"]) < 5000, run.stdout  # no interval stalled
