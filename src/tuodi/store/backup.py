"""Backing up and restoring the service's database, online (the service may keep running while a
backup is taken; a restore goes into a fresh database, never over a live one).

- **SQLite**: SQLite's online backup API (`sqlite3.Connection.backup`, what the `sqlite3` shell's
  `.backup` does): a consistent copy of the database as of one transaction, WAL included.
- **PostgreSQL**: `pg_dump --format=custom` (one consistent snapshot; only the schema named by
  the URL's `search_path` option, when it names one) and `pg_restore --single-transaction
  --exit-on-error` into a fresh database.

A backup is written to a temporary file beside its destination and renamed when complete, so a
failed backup leaves no file that looks like one.
"""
from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(Exception):
    """A backup or restore that could not be done; the message says why and what to do."""


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _pg_tool(name: str) -> str:
    """pg_dump / pg_restore: on PATH (Debian's wrapper picks the newest), else the newest
    /usr/lib/postgresql/N/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if versions:
        return str(versions[-1])
    raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")


def _pg_target(url: URL) -> tuple[str, dict[str, str], str | None]:
    """A libpq connection URI without the password, the environment that carries it, and the
    schema named by the URL's search_path option (the schema of this service), if any."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    options = plain.query.get("options", "")
    options = options if isinstance(options, str) else " ".join(options)
    match = re.search(r"-c\s*search_path\s*=\s*([A-Za-z_][A-Za-z0-9_]*)", options)
    return plain.render_as_string(hide_password=False), env, match.group(1) if match else None


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    run = subprocess.run(args, capture_output=True, text=True, env=env)
    if run.returncode != 0:
        lines = (run.stderr or run.stdout).strip().splitlines()
        errors = [ln.split("error:", 1)[-1].strip() for ln in lines if "error:" in ln]
        reason = errors[0] if errors else lines[-1] if lines else f"exit status {run.returncode}"
        raise BackupError(f"{what} failed: {reason}")


def backup(db_url: str, out: Path) -> str:
    """Write a backup of `db_url` to `out`; returns what was written, for the user."""
    url = make_url(db_url)
    out = Path(out)
    if out.exists() and out.is_dir():
        raise BackupError(f"{out} is a directory; name the backup file")
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent or ".")
    os.close(fd)
    try:
        if url.get_backend_name() == "sqlite":
            source = _sqlite_path(url)
            if not source.exists():
                raise BackupError(f"no database at {source}")
            src = sqlite3.connect(source)
            dst = sqlite3.connect(tmp)
            try:
                with dst:
                    src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
                if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise BackupError("the copy failed its integrity check")
            finally:
                dst.close()
                src.close()
            what = f"SQLite backup of {source}"
        elif url.get_backend_name() == "postgresql":
            conninfo, env, schema = _pg_target(url)
            _run([_pg_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={tmp}",
                  *([f"--schema={schema}"] if schema else []), conninfo], env, "pg_dump")
            what = f"pg_dump (custom format) of {url.database}" + (f", schema {schema}" if schema else "")
        else:
            raise BackupError(f"unsupported database {url.get_backend_name()!r}")
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return f"{what} -> {out} ({out.stat().st_size:,} bytes)"


def restore(db_url: str, source: Path) -> str:
    """Restore the backup `source` into the fresh database `db_url`; returns what was done."""
    url = make_url(db_url)
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"no backup file {source}")
    if url.get_backend_name() == "sqlite":
        target = _sqlite_path(url)
        if target.exists() and target.stat().st_size > 0:
            raise BackupError(f"{target} exists: restore into a new file (never over a database in use), "
                              "then move it into place with the service stopped")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)  # a backup is one file (journal_mode DELETE)
        try:
            if src.execute("SELECT 1 FROM sqlite_master WHERE name = 'alembic_version'").fetchone() is None:
                raise BackupError(f"{source} is not a backup of a Tuodi database")
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
            os.close(fd)
            try:
                dst = sqlite3.connect(tmp)
                try:
                    with dst:
                        src.backup(dst)
                finally:
                    dst.close()
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        except sqlite3.DatabaseError as e:
            raise BackupError(f"{source} is not an SQLite backup ({e})") from None
        finally:
            src.close()
        return f"restored {source} into {target}"
    if url.get_backend_name() == "postgresql":
        conninfo, env, schema = _pg_target(url)
        _run([_pg_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner",
              f"--dbname={conninfo}", str(source)], env, "pg_restore")
        return f"restored {source} into {url.database}" + (f" (schema {schema})" if schema else "")
    raise BackupError(f"unsupported database {url.get_backend_name()!r}")
