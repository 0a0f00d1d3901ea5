"""How the service answers a database that cannot take a request (issue 11; CONTRACT.md, Service:
never a 500 for anything a client can send): down, restarting or out of connections is 503 with
Retry-After; a full disk is 507 (SQLite's SQLITE_FULL, PostgreSQL's disk_full 53100). The real
faults are in test_faults.py and test_full_disk.py; these pin the mapping of each error."""
from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError as PoolTimeout

from tuodi.service.errors import register_database_errors


class Orig(Exception):
    def __init__(self, sqlite_errorcode=None, sqlstate=None):
        super().__init__("database error")
        self.sqlite_errorcode, self.sqlstate = sqlite_errorcode, sqlstate


def invalidated() -> InterfaceError:
    e = InterfaceError("SELECT 1", {}, Orig())
    e.connection_invalidated = True
    return e


@pytest.mark.parametrize("exc, status", [
    (OperationalError("SELECT 1", {}, Orig(sqlstate="08006")), 503),       # connection failure
    (OperationalError("SELECT 1", {}, Orig(sqlstate="57P01")), 503),       # admin shutdown
    (OperationalError("SELECT 1", {}, Orig(sqlite_errorcode=5)), 503),     # SQLITE_BUSY
    (OperationalError("INSERT", {}, Orig(sqlite_errorcode=13)), 507),      # SQLITE_FULL
    (OperationalError("INSERT", {}, Orig(sqlstate="53100")), 507),         # PostgreSQL disk_full
    (invalidated(), 503),                                                   # dropped mid-request
    (PoolTimeout("QueuePool limit reached"), 503),                          # no free connection
])
def test_database_errors_are_clear_refusals(exc, status):
    app = FastAPI()
    register_database_errors(app)

    @app.get("/fail")
    def fail():
        raise exc

    r = TestClient(app, raise_server_exceptions=False).get("/fail")
    assert r.status_code == status
    assert "nothing was stored" in r.json()["message"]
    assert int(r.headers["retry-after"]) >= 1


def test_other_database_errors_stay_errors():
    """An error that is not the database's availability (a bug) is not disguised as a 503."""
    app = FastAPI()
    register_database_errors(app)

    @app.get("/fail")
    def fail():
        raise InterfaceError("SELECT 1", {}, Orig())

    assert TestClient(app, raise_server_exceptions=False).get("/fail").status_code == 500
