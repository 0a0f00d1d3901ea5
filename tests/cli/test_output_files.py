"""What a careless path, a crash and a full disk can do to Tuodi's output files (issue 11).

- An output path that is one of the inputs (the same name, a symbolic or a hard link) is refused
  before anything is read or written (finding 4).
- A `settle` killed with `kill -9` while writing leaves the old output as it was and no temporary
  file; one left by a run on a file system without O_TMPFILE is removed by the next run (finding 5).
- Files get 0666 less the umask, as any tool gives them, not 0600 (finding 5).
- A full disk gives one line naming the file and "no space left", the old output intact and no
  temporary file, on both settlement paths (Prove: a full disk).

CONTRACT.md, Commands: "non-zero with a one-line reason on stderr … Nothing is written to `--out`
when the run fails."
"""
from __future__ import annotations

import csv
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tuodi.cli.main import app
from tuodi.io import atomic

from disks import small_tmpfs

EXAMPLES = Path(__file__).parents[2] / "examples"
HARBIN = EXAMPLES / "harbin"
INPUT_NAMES = ("persons.csv", "identities.csv", "claims.csv", "stats.csv")


def _inputs(d: Path) -> dict[str, Path]:
    """A copy of the Harbin sample inputs in `d`."""
    out = {}
    for name in INPUT_NAMES:
        (d / name).write_bytes((HARBIN / name).read_bytes())
        out[name] = d / name
    return out


def _harbin_args(f: dict[str, Path]) -> list[str]:
    return ["--policy", "harbin", "--persons", str(f["persons.csv"]), "--identities", str(f["identities.csv"]),
            "--claims", str(f["claims.csv"]), "--stats", str(f["stats.csv"])]


def _invoke(*argv):
    return CliRunner().invoke(app, [str(a) for a in argv])


def _one_line(r, *words):
    assert r.exit_code != 0, r.stderr
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    for w in words:
        assert w.lower() in lines[0].lower(), (w, lines[0])


def _snapshot(d: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in d.iterdir() if p.is_file()}


# --- an output that is an input -----------------------------------------------------------------

def _commands(f: dict[str, Path], out: Path) -> list[tuple[str, list]]:
    """Every command that writes, with `out` as its output option."""
    base = ["--persons", f["persons.csv"], "--identities", f["identities.csv"]]
    return [
        ("settle --out", ["settle", *_harbin_args(f), "--out", out]),
        ("warn --out", ["warn", *_harbin_args(f), "--out", out]),
        ("subsidy --out", ["subsidy", "--policy", "harbin", *base, "--year", "2023", "--out", out]),
        ("grants --out", ["grants", "--policy", "harbin", *base, "--year", "2023", "--out", out]),
    ]


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "relative"])
def test_an_output_that_is_an_input_is_refused_and_the_input_untouched(tmp_path, how, monkeypatch):
    """issue 11 finding 4: `--out persons.csv` (or a link to it) overwrote the input."""
    f = _inputs(tmp_path)
    for target in ("claims.csv", "persons.csv", "stats.csv"):
        if how == "same":
            out = f[target]
        elif how == "symlink":
            out = tmp_path / f"link-{target}"
            out.unlink(missing_ok=True)
            out.symlink_to(f[target])
        elif how == "hardlink":
            out = tmp_path / f"hard-{target}"
            out.unlink(missing_ok=True)
            os.link(f[target], out)
        else:
            monkeypatch.chdir(tmp_path)
            out = Path(".") / "sub" / ".." / target
            (tmp_path / "sub").mkdir(exist_ok=True)
        before = _snapshot(tmp_path)
        for name, argv in _commands(f, out):
            if name.startswith("subsidy") or name.startswith("grants"):
                if target == "claims.csv" or target == "stats.csv":
                    continue          # not inputs of those commands
            r = _invoke(*argv)
            _one_line(r, str(out), "is the input file")
            assert _snapshot(tmp_path) == before, name


def test_columnar_settle_refuses_an_output_that_is_an_input(tmp_path, monkeypatch):
    """The columnar path (large files, or TUODI_SETTLE=columnar) refuses it the same way."""
    monkeypatch.setenv("TUODI_SETTLE", "columnar")
    f = _inputs(tmp_path)
    before = _snapshot(tmp_path)
    _one_line(_invoke("settle", *_harbin_args(f), "--out", f["claims.csv"]), "claims.csv", "--claims")
    assert _snapshot(tmp_path) == before


def test_report_and_department_files_that_are_inputs_are_refused(tmp_path):
    """report --xlsx/--html and warn --split-by-department: the same refusal; nothing written."""
    f = _inputs(tmp_path)
    settled = tmp_path / "settlements.csv"
    r = _invoke("settle", *_harbin_args(f), "--out", settled)
    assert r.exit_code == 0, r.stderr
    link = tmp_path / "report.html"
    link.symlink_to(settled)
    before = _snapshot(tmp_path)
    r = _invoke("report", "--policy", "harbin", "--persons", f["persons.csv"], "--settlements", settled,
                "--html", link)
    _one_line(r, "--html", "report.html", "--settlements")
    assert _snapshot(tmp_path) == before
    # a department file of the folder would replace the persons file: refused, nothing written
    dept = tmp_path / "dept"
    dept.mkdir()
    (dept / "civil_affairs.csv").write_bytes(f["persons.csv"].read_bytes())
    before_dept = _snapshot(dept)
    r = _invoke("warn", *[a if a != str(f["persons.csv"]) else str(dept / "civil_affairs.csv")
                          for a in _harbin_args(f)],
                "--out", tmp_path / "warnings.csv", "--split-by-department", dept)
    _one_line(r, "--split-by-department", "civil_affairs.csv", "--persons")
    assert _snapshot(dept) == before_dept
    assert not (tmp_path / "warnings.csv").exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


# --- permissions ------------------------------------------------------------------------------

def test_files_get_the_permissions_of_the_umask(tmp_path):
    """issue 11 finding 5: files were 0600 whatever the umask; with umask 022 they are 0644 and
    the department folder 0755, like any tool's (0666 / 0777 less the umask)."""
    f = _inputs(tmp_path)
    old = os.umask(0o022)
    try:
        assert _invoke("settle", *_harbin_args(f), "--out", tmp_path / "s.csv").exit_code == 0
        assert _invoke("settle", *_harbin_args(f), "--out", tmp_path / "s.parquet").exit_code == 0
        assert _invoke("warn", *_harbin_args(f), "--out", tmp_path / "w.csv",
                       "--split-by-department", tmp_path / "dept").exit_code == 0
        assert _invoke("report", *_harbin_args(f), "--xlsx", tmp_path / "r.xlsx",
                       "--html", tmp_path / "r.html").exit_code == 0
        atomic.ANONYMOUS = False        # the fallback for file systems without O_TMPFILE
        try:
            assert _invoke("settle", *_harbin_args(f), "--out", tmp_path / "named.csv").exit_code == 0
        finally:
            atomic.ANONYMOUS = True
        os.umask(0o077)
        assert _invoke("settle", *_harbin_args(f), "--out", tmp_path / "private.csv").exit_code == 0
    finally:
        os.umask(old)
    modes = {p.relative_to(tmp_path).as_posix(): stat.S_IMODE(p.stat().st_mode)
             for p in [*tmp_path.iterdir(), *(tmp_path / "dept").iterdir()] if p.name not in INPUT_NAMES}
    assert modes == {"s.csv": 0o644, "s.parquet": 0o644, "w.csv": 0o644, "dept": 0o755,
                     "dept/civil_affairs.csv": 0o644, "dept/civil_affairs.xlsx": 0o644,
                     "dept/rural_revitalization.csv": 0o644, "dept/rural_revitalization.xlsx": 0o644,
                     "r.xlsx": 0o644, "r.html": 0o644, "named.csv": 0o644, "private.csv": 0o600}


# --- kill -9 while writing ----------------------------------------------------------------------

#: run `tuodi settle`, stopping (for the kill) in the middle of writing the settlements file: the
#: first rows are written and flushed, then the writer says so on stdout and sleeps
_PAUSED_SETTLE = r"""
import csv, os, sys, time
import polars as pl
from tuodi.io import atomic
atomic.ANONYMOUS = sys.argv[1] == "anonymous"

def pause():
    print("writing", flush=True)
    time.sleep(60)

def writerows(self, rows):
    for row in rows:
        self.writerow(row)
csv.DictWriter.writerows = writerows
def writerow(self, row, _n=[0]):
    _n[0] += 1
    if _n[0] == 3:
        self.writer.writerow(["partial"]); pause()
    return self.writer.writerow([row[k] for k in self.fieldnames])
csv.DictWriter.writerow = writerow

original_csv = pl.DataFrame.write_csv
def write_csv(self, file, **kw):
    original_csv(self.head(2), file, **kw); pause()
pl.DataFrame.write_csv = write_csv

from tuodi.cli.main import main
sys.argv = ["tuodi", *sys.argv[2:]]
main()
"""


def _settle_killed_mid_write(tmp_path: Path, f: dict[str, Path], out: Path, mode: str, env: dict) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _PAUSED_SETTLE, mode, "settle", *_harbin_args(f),
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, **env}, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "writing", proc.stderr.read()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL


@pytest.mark.parametrize("path", ["scalar", "columnar"])
def test_settle_killed_while_writing_leaves_the_old_output_and_no_temporary_file(tmp_path, path):
    """issue 11 finding 5: after `kill -9` mid-write the old settlements file is byte-identical
    and the folder holds nothing else (the temporary file is anonymous, O_TMPFILE)."""
    f = _inputs(tmp_path)
    out = tmp_path / "settlements.csv"
    out.write_text("the old settlements\n")
    before = _snapshot(tmp_path)
    _settle_killed_mid_write(tmp_path, f, out, "anonymous", {"TUODI_SETTLE": "columnar" if path == "columnar" else "engine"})
    assert _snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*INPUT_NAMES, "settlements.csv"])


def test_a_temporary_file_a_killed_run_left_is_removed_by_the_next_run(tmp_path):
    """Without O_TMPFILE the temporary file has a name; after `kill -9` it remains (old output
    intact), and the next run writing the same file removes it, leaving only the new output."""
    f = _inputs(tmp_path)
    out = tmp_path / "settlements.csv"
    out.write_text("the old settlements\n")
    _settle_killed_mid_write(tmp_path, f, out, "named", {"TUODI_SETTLE": "engine"})
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(left) == 1 and left[0].startswith(".settlements.csv.tuodi-"), left
    assert out.read_text() == "the old settlements\n"
    old = time.time() - 3600           # left by a run before this one (this process is the next run)
    os.utime(tmp_path / left[0], (old, old))
    # a temporary file of a run still going (this process) is not touched
    mine = tmp_path / atomic.temporary_name(out)
    mine.write_text("in progress")
    os.utime(mine, (old, old))
    r = _invoke("settle", *_harbin_args(f), "--out", out)
    assert r.exit_code == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [mine.name]
    assert out.read_text().startswith("setl_id,")


# --- a full disk --------------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 64 KiB tmpfs."""
    with small_tmpfs(tmp_path / "disk", "64k") as d:
        yield d


def _many_claims(d: Path, n: int) -> dict[str, Path]:
    """Harbin inputs with n claims (about 110 bytes a settlement row: n = 2000 is ~220 KB)."""
    f = _inputs(d)
    with open(d / "claims.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["setl_id", "psn_no", "setl_date", "med_type", "medfee_sumamt", "hifp_pay", "hifmi_pay"])
        for i in range(n):
            w.writerow([f"SETTLEMENT-{i:08d}", "H001", f"2023-{1 + i % 12:02d}-01", "inpatient", "1000", "600", "0"])
    return f


@pytest.mark.parametrize("path", ["engine", "columnar"])
def test_a_full_disk_is_one_line_naming_the_file_and_the_old_output_stays(tmp_path, small_disk, monkeypatch, path):
    """Prove, a full disk: settlements larger than the disk -> exit non-zero, one line naming the
    file and "no space left", the old output byte-identical, no temporary file."""
    monkeypatch.setenv("TUODI_SETTLE", path)
    f = _many_claims(tmp_path, 2000)
    out = small_disk / "settlements.csv"
    out.write_text("the old settlements\n")
    r = _invoke("settle", *_harbin_args(f), "--out", out)
    _one_line(r, str(out), "no space left")
    assert out.read_text() == "the old settlements\n"
    assert sorted(p.name for p in small_disk.iterdir()) == ["settlements.csv"]
    # and the same on the fallback without O_TMPFILE
    monkeypatch.setattr(atomic, "ANONYMOUS", False)
    r = _invoke("settle", *_harbin_args(f), "--out", out)
    _one_line(r, str(out), "no space left")
    assert sorted(p.name for p in small_disk.iterdir()) == ["settlements.csv"]
    assert out.read_text() == "the old settlements\n"


def test_a_full_disk_while_writing_department_files(tmp_path, small_disk):
    """warn --split-by-department on a full disk: one line, no folder, no --out, nothing left."""
    f = _inputs(tmp_path)
    (small_disk / "ballast").write_bytes(b"x" * (60 * 1024))
    r = _invoke("warn", *_harbin_args(f), "--out", small_disk / "warnings.csv",
                "--split-by-department", small_disk / "dept")
    _one_line(r, "no space left")
    assert sorted(p.name for p in small_disk.iterdir()) == ["ballast"]


def test_a_staging_folder_a_killed_warn_left_is_removed_by_the_next_run(tmp_path):
    """`warn --split-by-department` stages the department files (names, telephones, addresses:
    哈政办规〔2022〕16号 三(四)) in a folder beside the target; one a killed run left behind is
    removed by the next run into the same folder, not left lying about."""
    f = _inputs(tmp_path)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f".dept.tuodi-{dead.pid}-abcd1234.dir"
    left.mkdir()
    (left / "civil_affairs.csv").write_text("psn_no,psn_name,tel\nH001,张桂兰,13800000000\n")
    old = time.time() - 3600
    os.utime(left, (old, old))
    r = _invoke("warn", *_harbin_args(f), "--out", tmp_path / "w.csv", "--split-by-department", tmp_path / "dept")
    assert r.exit_code == 0, r.stderr
    assert not left.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
