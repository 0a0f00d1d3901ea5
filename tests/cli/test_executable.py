"""The `tuodi` executable (`tuodi.cli.main:main`) leaves with `os._exit`: what it printed must
still arrive, and its exit codes must be the app's."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "harbin"


def tuodi(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from tuodi.cli.main import main; main()", *args],
                          capture_output=True, text=True, timeout=120)


def test_output_is_flushed_before_the_exit():
    r = tuodi("policies")
    assert r.returncode == 0
    assert "harbin" in r.stdout and "quzhou" in r.stdout


def test_a_refusal_keeps_its_message_and_exit_code():
    r = tuodi("settle", "--policy", "nowhere", "--persons", "x.csv", "--claims", "y.csv", "--out", "z.csv")
    assert r.returncode == 2
    assert "unknown policy 'nowhere'" in r.stderr


@pytest.mark.parametrize("out", ["s.csv", "s.parquet"])
def test_a_settlement_is_written_whole(tmp_path, out):
    r = tuodi("settle", "--policy", "harbin", "--persons", f"{EXAMPLES}/persons.csv",
              "--identities", f"{EXAMPLES}/identities.csv", "--claims", f"{EXAMPLES}/claims.csv",
              "--out", str(tmp_path / out))
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stderr
    assert (tmp_path / out).stat().st_size > 0
