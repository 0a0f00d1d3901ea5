"""`tuodi` commands of the service package (registered on the main app):
`tuodi db upgrade | backup | restore`, `tuodi apikey create | list | revoke`, `tuodi serve` (CONTRACT.md, Service)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from tuodi.cli.main import Refusal, app, err, guarded
from tuodi.policy import JURISDICTIONS

DbOpt = typer.Option("sqlite:///tuodi.db", "--db", help="SQLAlchemy URL: sqlite:///tuodi.db (default) "
                     "or postgresql+psycopg://user:pw@host/db")

db_app = typer.Typer(add_completion=False, no_args_is_help=True, help="The service's database.")
apikey_app = typer.Typer(add_completion=False, no_args_is_help=True, help="API keys of the service.")
app.add_typer(db_app, name="db")
app.add_typer(apikey_app, name="apikey")


@db_app.command("upgrade")
@guarded
def db_upgrade(db: str = DbOpt) -> None:
    """Create or migrate the schema to the newest revision."""
    from tuodi.store import upgrade

    try:
        revision = upgrade(db)
    except ValueError as e:
        raise Refusal(f"--db: {e}") from None
    except Exception as e:  # the database refused: unreachable, wrong password, …
        raise Refusal(f"--db: cannot migrate {_safe(db)}: {str(e).splitlines()[0]}") from None
    err.print(f"tuodi: database {_safe(db)} at revision {revision}", markup=False)


@db_app.command("backup")
@guarded
def db_backup(out: Path = typer.Argument(..., help="the backup file to write"), db: str = DbOpt) -> None:
    """Back up the database while the service runs: SQLite's online backup, or pg_dump --format=custom."""
    from tuodi.store.backup import BackupError, backup

    try:
        done = backup(db, out)
    except (BackupError, ValueError) as e:
        raise Refusal(f"--db {_safe(db)}: {e}") from None
    err.print(f"tuodi: {done}", markup=False)


@db_app.command("restore")
@guarded
def db_restore(backup_file: Path = typer.Argument(..., help="a file written by `tuodi db backup`"),
               db: str = DbOpt) -> None:
    """Restore a backup into a fresh database (a new SQLite file, or an empty PostgreSQL database)."""
    from tuodi.store.backup import BackupError, restore

    try:
        done = restore(db, backup_file)
    except (BackupError, ValueError) as e:
        raise Refusal(f"--db {_safe(db)}: {e}") from None
    err.print(f"tuodi: {done}", markup=False)


@apikey_app.command("create")
@guarded
def apikey_create(
    role: str = typer.Option(..., "--role", help="hospital, insurance_office, civil_affairs or auditor"),
    hospital: Optional[str] = typer.Option(None, "--hospital", help="the hospital's fixmedins_code (role hospital)"),
    db: str = DbOpt,
) -> None:
    """Create an API key; it is printed once, alone on the last line, and only its hash is stored."""
    from tuodi.store import Database
    from tuodi.store.repository import create_api_key

    try:
        database = Database(db)
        with database.write() as conn:
            key = create_api_key(conn, role, hospital)
    except ValueError as e:
        raise Refusal(str(e)) from None
    except Exception as e:
        raise Refusal(f"--db: cannot create a key in {_safe(db)} ({str(e).splitlines()[0]}); "
                      "run `tuodi db upgrade` first") from None
    who = f" for hospital {hospital}" if hospital else ""
    err.print(f"tuodi: created a {role} key{who}; store it now, it is not shown again", markup=False)
    print(key)


@apikey_app.command("list")
@guarded
def apikey_list(db: str = DbOpt) -> None:
    """The keys: id, the key's first characters, role, hospital, when created and revoked."""
    from rich.table import Table

    from tuodi.cli.main import out
    from tuodi.store import Database
    from tuodi.store.repository import list_api_keys

    try:
        with Database(db).read() as conn:
            rows = list_api_keys(conn)
    except Exception as e:
        raise Refusal(f"--db: cannot read the keys of {_safe(db)} ({str(e).splitlines()[0]}); "
                      "run `tuodi db upgrade` first") from None
    table = Table("id", "key", "role", "hospital", "created", "revoked", title="Tuodi API keys")
    for r in rows:
        table.add_row(str(r.id), r.prefix + "…", r.role, r.hospital_code or "",
                      f"{r.created_at:%Y-%m-%d %H:%M}", f"{r.revoked_at:%Y-%m-%d %H:%M}" if r.revoked_at else "")
    out.print(table)


@apikey_app.command("revoke")
@guarded
def apikey_revoke(key_id: int = typer.Argument(..., help="the key's id (tuodi apikey list)"), db: str = DbOpt) -> None:
    """Revoke a key: the service refuses it from then on (within the 30 s its lookups are cached)."""
    from tuodi.store import Database
    from tuodi.store.repository import audit, revoke_api_key

    try:
        with Database(db).write() as conn:
            row = revoke_api_key(conn, key_id)
            audit(conn, None, None, "apikey.revoke", detail=f"key {row.id} ({row.role}, {row.prefix}…)")
    except ValueError as e:
        raise Refusal(str(e)) from None
    except Exception as e:
        raise Refusal(f"--db: cannot revoke a key in {_safe(db)} ({str(e).splitlines()[0]}); "
                      "run `tuodi db upgrade` first") from None
    err.print(f"tuodi: key {row.id} ({row.role}, {row.prefix}…) revoked at {row.revoked_at:%Y-%m-%d %H:%M}",
              markup=False)


@app.command()
@guarded
def serve(
    db: str = DbOpt,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
    policy: str = typer.Option("harbin", "--policy", help=f"jurisdiction: {', '.join(JURISDICTIONS)}"),
    stats: Optional[Path] = typer.Option(None, "--stats", help="statistics file: name,year,value"),
    overlay: Optional[Path] = typer.Option(None, "--overlay", help="policy overlay (YAML)"),
    workers: int = typer.Option(1, "--workers", min=1, max=32, help="server processes"),
) -> None:
    """Run the one-stop settlement API (OpenAPI at /docs). Migrates the database first."""
    import os

    import uvicorn

    from tuodi.io import read_stats
    from tuodi.policy import load_policy
    from tuodi.store import upgrade

    load_policy(policy, overlay)  # refuse a bad policy, overlay or statistics file before starting
    if stats:
        read_stats(stats)
    try:
        upgrade(db)
    except ValueError as e:
        raise Refusal(f"--db: {e}") from None
    except Exception as e:
        raise Refusal(f"--db: cannot open {_safe(db)}: {str(e).splitlines()[0]}") from None
    os.environ.update(TUODI_DB=db, TUODI_POLICY=policy)
    for name, value in (("TUODI_STATS", stats), ("TUODI_OVERLAY", overlay)):
        if value:
            os.environ[name] = str(Path(value).resolve())
        else:
            os.environ.pop(name, None)
    err.print(f"tuodi: serving policy {policy} from {_safe(db)} on http://{host}:{port} (docs at /docs)",
              markup=False)
    uvicorn.run("tuodi.service.app:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level="warning", access_log=False)


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the database"
