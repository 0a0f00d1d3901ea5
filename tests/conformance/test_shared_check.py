"""`../shared/conformance/check.py` (the public worked examples of CONTRACT.md) on both settlement
paths: the same verdict, line for line (issue 18).

The check runs `tuodi` from PATH, so the test puts this environment's `tuodi` first. Every example
holds, the payer overlay (red_cross, a family unit, `oth_pay`, `--detail`; issue 12) included.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CHECK = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "check.py"

def run_check(path_choice: str) -> list[str]:
    env = dict(os.environ, TUODI_SETTLE=path_choice,
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    r = subprocess.run([sys.executable, str(CHECK)], capture_output=True, text=True, env=env, timeout=300)
    assert "Traceback" not in r.stdout + r.stderr, r.stdout + r.stderr
    return r.stdout.splitlines()


@pytest.mark.skipif(not CHECK.exists(), reason=f"{CHECK} not beside the repository")
def test_conformance_examples_hold_alike_on_both_paths():
    engine, columnar = run_check("engine"), run_check("columnar")
    assert engine == columnar
    failures = [line for line in engine if line.startswith("FAIL")]
    assert not failures, "\n".join(failures)
    assert engine[-1] == "conformance: all examples hold"
