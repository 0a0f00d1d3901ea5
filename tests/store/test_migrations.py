"""The schema ships inside the package and migrates with `tuodi db upgrade`, on SQLite and
PostgreSQL; `tuodi apikey create` prints the key alone on the last line and stores its hash."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, select, text
from typer.testing import CliRunner

from tuodi.cli.main import app
from tuodi.store import Database, upgrade
from tuodi.store.repository import hash_key
from tuodi.store.tables import api_keys, metadata

PG_URL = os.environ.get("TUODI_TEST_PG_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="TUODI_TEST_PG_URL not set"))])
def empty_db(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'new.db'}"
        return
    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def test_upgrade_creates_every_table_and_is_idempotent(empty_db):
    assert upgrade(empty_db) == "0003"
    assert upgrade(empty_db) == "0003"
    engine = create_engine(empty_db)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert set(metadata.tables) | {"alembic_version"} == tables


def test_migration_matches_the_declared_tables(empty_db):
    """No drift between tuodi.store.tables and the migrations: autogenerate finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade(empty_db)
    engine = create_engine(empty_db)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_cli_upgrade_and_apikey_create(empty_db):
    runner = CliRunner()
    r = runner.invoke(app, ["db", "upgrade", "--db", empty_db])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["apikey", "create", "--role", "hospital", "--hospital", "H0001", "--db", empty_db])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("tdk_") and len(key) > 40
    db = Database(empty_db)
    with db.read() as conn:
        row = conn.execute(select(api_keys)).one()
    db.dispose()
    assert (row.key_hash, row.role, row.hospital_code) == (hash_key(key), "hospital", "H0001")


def test_cli_refuses_a_bad_role_or_a_hospital_key_without_its_code(empty_db):
    runner = CliRunner()
    runner.invoke(app, ["db", "upgrade", "--db", empty_db])
    for args in (["--role", "doctor"], ["--role", "hospital"], ["--role", "auditor", "--hospital", "H1"]):
        r = runner.invoke(app, ["apikey", "create", *args, "--db", empty_db])
        assert r.exit_code != 0
        assert len(r.stderr.strip().splitlines()) == 1 and "tuodi: error:" in r.stderr


def test_cli_refuses_a_bad_database_url(tmp_path):
    r = CliRunner().invoke(app, ["db", "upgrade", "--db", "mysql://nobody@nowhere/x"])
    assert r.exit_code != 0 and "--db" in r.stderr
