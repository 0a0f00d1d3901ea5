"""Fixtures of the service tests: a migrated database (SQLite always, PostgreSQL when
TUODI_TEST_PG_URL is set, each test in its own schema), keys of every role, and clients."""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from tuodi.service.app import create_app
from tuodi.store import Database, upgrade
from tuodi.store.repository import create_api_key

PG_URL = os.environ.get("TUODI_TEST_PG_URL")
STATS = Path(__file__).parent / "stats.csv"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="TUODI_TEST_PG_URL not set"))]


def pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A freshly migrated database URL on each backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'tuodi.db'}"
        upgrade(url)
        yield url
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = pg_schema_url(schema)
    upgrade(url)
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@dataclass
class Service:
    client: TestClient
    keys: dict[str, str]
    url: str

    def h(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def put_person(self, psn_no: str, **fields):
        r = self.client.put(f"/v1/persons/{psn_no}", json=fields, headers=self.h("insurance_office"))
        assert r.status_code == 200, r.text
        return r.json()

    def add_identity(self, psn_no: str, category: str, begndate=None, enddate=None):
        body = {"category": category, "begndate": begndate, "enddate": enddate, "source_dept": "民政局"}
        r = self.client.post(f"/v1/persons/{psn_no}/identities", json={k: v for k, v in body.items() if v},
                             headers=self.h("civil_affairs"))
        assert r.status_code == 201, r.text
        return r.json()

    def settle(self, role: str = "hospital", dry_run: bool = False, **claim):
        params = {"dry_run": "true"} if dry_run else {}
        return self.client.post("/v1/settlements", json=claim, params=params, headers=self.h(role))

    def year(self, psn_no: str, year: int):
        r = self.client.get(f"/v1/persons/{psn_no}/years/{year}", headers=self.h("insurance_office"))
        assert r.status_code == 200, r.text
        return r.json()


def make_keys(url: str) -> dict[str, str]:
    db = Database(url)
    try:
        with db.write() as conn:
            keys = {role: create_api_key(conn, role) for role in ("insurance_office", "civil_affairs", "auditor")}
            keys["hospital"] = create_api_key(conn, "hospital", "H0001")
            keys["other_hospital"] = create_api_key(conn, "hospital", "H0002")
    finally:
        db.dispose()
    return keys


@pytest.fixture
def service(db_url):
    """The Harbin service on a fresh database, with a key of every role."""
    keys = make_keys(db_url)
    app = create_app(db_url, "harbin", STATS)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(client, keys, db_url)
    app.state.db.dispose()
