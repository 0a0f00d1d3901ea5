"""Backup and restore (issue 11, "Prove": backup and restore): a database filled through the
service, backed up with `tuodi db backup` while the service runs (SQLite's online backup;
pg_dump --format=custom), restored with `tuodi db restore` into a fresh database, answers every
person-year and every audit entry identically, holds the same rows in every table, and goes on
settling (its sequences restored too)."""
from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from tuodi.cli.main import app as cli
from tuodi.service.app import create_app
from tuodi.store.tables import metadata

from .conftest import PG_URL, STATS
from .live import PEOPLE, make_claims


@pytest.fixture
def fresh_url(db_url, tmp_path):
    """An empty database to restore into: a new SQLite file, or a new PostgreSQL database."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"r_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_url(db_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def table_rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: [tuple(r) for r in conn.execute(select(t).order_by(*t.primary_key.columns))]
                    for t in metadata.sorted_tables}
    finally:
        engine.dispose()


def snapshot(client: TestClient, service) -> tuple[list, dict]:
    """The audit log (read first: reading it is not audited) and every person-year."""
    audit = client.get("/v1/audit", params={"limit": 1000}, headers=service.h("auditor"))
    assert audit.status_code == 200
    years = {}
    for psn in PEOPLE:
        for year in (2023, 2024):
            r = client.get(f"/v1/persons/{psn}/years/{year}", headers=service.h("auditor"))
            assert r.status_code == 200, r.text
            years[(psn, year)] = r.json()
    return audit.json(), years


def test_backup_restore_answers_identically(service, fresh_url, tmp_path):
    for psn, category in PEOPLE.items():
        service.put_person(psn, psn_name="张桂兰", tel="13800001234")
        if category:
            service.add_identity(psn, category)
    bodies = make_claims(seed=31, per_person=4) + [
        {**b, "setl_id": "N" + b["setl_id"], "setl_date": b["setl_date"].replace("2023", "2024")}
        for b in make_claims(seed=32, per_person=2)]
    for i, body in enumerate(bodies):
        assert service.settle(**body).status_code == 201
        if i % 7 == 3:
            r = service.client.post(f"/v1/settlements/{body['setl_id']}/reversal", json={"reason": "冲正"},
                                    headers=service.h("hospital"))
            assert r.status_code == 200, r.text
    ended = service.add_identity("F03", "low_income", begndate="2023-03-01")
    r = service.client.post(f"/v1/persons/F03/identities/{ended['id']}/end", json={"enddate": "2023-09-30"},
                            headers=service.h("civil_affairs"))
    assert r.status_code == 200, r.text

    backup_file = tmp_path / "tuodi.backup"
    run = CliRunner().invoke(cli, ["db", "backup", str(backup_file), "--db", service.url])
    assert run.exit_code == 0, run.output
    before = table_rows(service.url)  # nothing has happened since the backup
    audit, years = snapshot(service.client, service)

    run = CliRunner().invoke(cli, ["db", "restore", str(backup_file), "--db", fresh_url])
    assert run.exit_code == 0, run.output
    assert table_rows(fresh_url) == before  # every row of every table, the audit log's included

    app = create_app(fresh_url, "harbin", STATS)
    try:
        with TestClient(app, raise_server_exceptions=False) as restored:
            audit_r, years_r = snapshot(restored, service)  # the same keys: their hashes were restored
            assert audit_r == audit
            assert years_r == years
            body = {**bodies[0], "setl_id": "AFTER-RESTORE"}
            r = restored.post("/v1/settlements", json=body, headers=service.h("hospital"))
            assert r.status_code == 201, r.text
            again = restored.post("/v1/settlements", json=bodies[1], headers=service.h("hospital"))
            assert again.status_code == 200  # still settled once: the idempotency survives a restore
    finally:
        app.state.db.dispose()


def test_restore_refuses_to_overwrite(db_url, tmp_path):
    """A restore never goes over an existing database: SQLite refuses an existing file,
    pg_restore (--single-transaction --exit-on-error) the existing schema, and nothing changes."""
    backup_file = tmp_path / "b.backup"
    assert CliRunner().invoke(cli, ["db", "backup", str(backup_file), "--db", db_url]).exit_code == 0
    before = table_rows(db_url)
    run = CliRunner().invoke(cli, ["db", "restore", str(backup_file), "--db", db_url])
    assert run.exit_code != 0 and "exists" in run.stderr, run.stderr
    assert table_rows(db_url) == before
