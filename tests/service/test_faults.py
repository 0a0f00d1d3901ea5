"""Faults under load (issue 11, "Prove": faults on PostgreSQL, the same for SQLite): the server
killed with SIGKILL in a burst of settlements and reversals, and PostgreSQL itself restarted under
load. CONTRACT.md, Service: the same `setl_id` and body again returns the stored result and pays
nothing again; every stored claim's amounts are what `tuodi settle` computes on the person's claims.
"""
from __future__ import annotations

import time

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text

from tuodi.service.app import create_app
from tuodi.store import upgrade
from tuodi.store.backup import backup
from tuodi.store.tables import person_years

from .conftest import STATS, make_keys
from .live import (Burst, LiveServer, PEOPLE, PrivatePostgres, apikey, db_upgrade, check_acknowledged, check_consistent,
                   make_claims, pg_bindir, register, retry_unacknowledged)


def test_kill9_during_settlements_and_reversals(db_url, tmp_path):
    """SIGKILL of `tuodi serve` mid-burst (PostgreSQL and SQLite): after a restart every
    acknowledged settlement and reversal is stored once with the amounts it was told, every stored
    year equals `tuodi settle` on its claims, and the unacknowledged requests sent again with the
    same setl_id and body succeed without paying twice."""
    office, hospital = apikey(db_url, "insurance_office"), apikey(db_url, "hospital", "H0001")
    server = LiveServer(db_url, tmp_path / "serve.log").start()
    try:
        register(server.base, office)
        bodies = make_claims(seed=11, per_person=12)
        burst = Burst(server.base, hospital, bodies, threads=4).start()
        deadline = time.monotonic() + 60
        while len(burst.acked) < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill9()
        burst.join()
        assert len(burst.acked) >= 40 and burst.queue, "the kill did not land inside the burst"
        assert not burst.refusals, burst.refusals[:3]

        server.start()
        check_acknowledged(db_url, burst)
        check_consistent(db_url, tmp_path / "after-kill")
        retried = retry_unacknowledged(server.base, hospital, db_url, burst)
        assert retried >= 1  # at least one request was cut off by the kill
        # the rest of the day's claims, on the restarted server
        rest = Burst(server.base, hospital, burst.queue, threads=4).start()
        rest.join()
        assert not rest.unacked and not rest.refusals
        counts = check_consistent(db_url, tmp_path / "after-retry")
        assert counts["claims"] == len(bodies)
        assert counts["live"] < counts["claims"]  # reversals were part of it
    finally:
        server.stop()


@pytest.fixture
def private_pg():
    """A PostgreSQL cluster of this test's own (never the shared one on 5432)."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (/usr/lib/postgresql/N/bin/initdb, pg_ctl) are not installed")
    pg = PrivatePostgres(bindir).init()
    try:
        pg.start()
        yield pg
    finally:
        pg.destroy()


def test_postgres_restart_under_load(private_pg, tmp_path):
    """PostgreSQL stopped (immediate: as in a crash) and started again under load: meanwhile the
    service answers 503 with a JSON message and Retry-After (never 500, never a hang); clients that
    send the same setl_id and body again then succeed, nothing is paid twice, and every stored year
    equals `tuodi settle` on its claims."""
    url = private_pg.url
    db_upgrade(url)
    office, hospital = apikey(url, "insurance_office"), apikey(url, "hospital", "H0001")
    server = LiveServer(url, tmp_path / "serve.log").start()
    try:
        register(server.base, office)
        bodies = make_claims(seed=12, per_person=12)
        burst = Burst(server.base, hospital, bodies, threads=4, retry_503=True).start()
        deadline = time.monotonic() + 60
        while len(burst.acked) < 30 and time.monotonic() < deadline:
            time.sleep(0.01)
        private_pg.stop("immediate")
        time.sleep(2.0)  # an outage long enough for every client to meet it
        outage_acks = len(burst.acked)
        private_pg.start()
        burst.join()

        statuses = {s for s, _b, _h in burst.refusals}
        assert statuses == {503}, statuses
        assert len(burst.refusals) >= 4  # every client met the outage
        for _status, body, headers in burst.refusals:
            assert body["message"] and "retry" in body["message"], body
            assert int(headers["retry-after"]) >= 1
        assert not burst.unacked
        assert len(burst.acked) == len(bodies) > outage_acks
        assert burst.reversed
        check_acknowledged(url, burst)
        counts = check_consistent(url, tmp_path / "after-restart")
        assert counts["claims"] == len(bodies) and counts["live"] == len(bodies) - len(burst.reversed)
        assert set(PEOPLE) == {k for k, _y in _years(url)}

        # restarted while the service is idle: its pooled connections are all dead, and yet the
        # first requests after the restart succeed (each connection is checked before use)
        private_pg.stop("fast")
        private_pg.start()
        client = httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {hospital}"}, timeout=20)
        for body in make_claims(seed=13, per_person=1, prefix="R"):
            r = client.post("/v1/settlements", json=body)
            assert r.status_code == 201, r.text
        client.close()
        check_consistent(url, tmp_path / "after-idle-restart")
    finally:
        server.stop()


def _years(url: str):
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(person_years.c.psn_no, person_years.c.year)).all()
    engine.dispose()
    return rows


def test_the_consistency_check_finds_a_wrong_amount_a_half_row_and_a_stale_year(tmp_path):
    """The check the fault tests rely on fails on each kind of damage a crash could leave: a
    claim's net amount off by one fen, a claim without its settlement, a year's accumulator that
    does not add up."""
    url = f"sqlite:///{tmp_path / 'tuodi.db'}"
    upgrade(url)
    keys = make_keys(url)
    app = create_app(url, "harbin", STATS)
    with TestClient(app) as client:
        register_in(client, keys["insurance_office"])
        for body in make_claims(seed=41, per_person=2):
            r = client.post("/v1/settlements", json=body, headers={"Authorization": f"Bearer {keys['hospital']}"})
            assert r.status_code == 201, r.text
    app.state.db.dispose()
    check_consistent(url, tmp_path / "whole")

    damage = [
        "UPDATE settlements SET net_maf_pay = net_maf_pay + 1 WHERE seq = (SELECT MIN(seq) FROM settlements "
        "WHERE net_maf_pay > 0)",
        "UPDATE person_years SET hifmi_pay = hifmi_pay + 100 WHERE hifmi_pay IS NOT NULL",
        "DELETE FROM settlements WHERE seq = (SELECT MAX(seq) FROM settlements)",
    ]
    for i, statement in enumerate(damage):
        copy = tmp_path / f"damaged{i}.db"
        backup(url, copy)
        engine = create_engine(f"sqlite:///{copy}")
        with engine.begin() as conn:
            assert conn.execute(text(statement)).rowcount >= 1
        engine.dispose()
        with pytest.raises(AssertionError):
            check_consistent(f"sqlite:///{copy}", tmp_path / f"damaged{i}")


def register_in(client, office_key: str) -> None:
    for psn, category in PEOPLE.items():
        h = {"Authorization": f"Bearer {office_key}"}
        assert client.put(f"/v1/persons/{psn}", json={}, headers=h).status_code == 200
        if category:
            assert client.post(f"/v1/persons/{psn}/identities", json={"category": category}, headers=h).status_code == 201
