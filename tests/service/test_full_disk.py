"""A full disk under the service (issue 11, "Prove": a full disk): the SQLite database on a small
tmpfs that fills up while hospitals settle. Each refused request gets a clear JSON answer (507 when
the disk is full, 503 when the database is otherwise unavailable; never a 500 or a hang), nothing
is half-written (every stored year still equals `tuodi settle` on its claims), the service keeps
answering, and once space is freed the same setl_id and body settle without paying twice.
"""
from __future__ import annotations

import errno
import os
import subprocess
import time

import httpx
import pytest

from disks import small_tmpfs

from .live import (LiveServer, PEOPLE, apikey, check_consistent, db_upgrade, make_claims, register,
                   stored_claim_counts)


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs for the database."""
    with small_tmpfs(tmp_path / "disk", "4m", mode="0700") as where:
        yield where


def fill(where, keep: int) -> "os.PathLike":
    """Fill the file system with a ballast file, then give back `keep` bytes."""
    ballast = where / "ballast"
    with open(ballast, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError as e:
            assert e.errno == errno.ENOSPC
        size = f.tell()
    with open(ballast, "r+b") as f:
        f.truncate(max(0, size - keep))
    return ballast


def test_full_disk_refuses_clearly_and_keeps_the_database_whole(small_disk, tmp_path):
    url = f"sqlite:///{small_disk / 'tuodi.db'}"
    db_upgrade(url)
    office, hospital = apikey(url, "insurance_office"), apikey(url, "hospital", "H0001")
    auditor = apikey(url, "auditor")
    server = LiveServer(url, tmp_path / "serve.log").start()
    try:
        register(server.base, office)
        ballast = fill(small_disk, keep=256 * 1024)
        bodies = make_claims(seed=21, per_person=40)
        client = httpx.Client(base_url=server.base, headers={"Authorization": f"Bearer {hospital}"}, timeout=20)
        acked, refused, statuses = {}, [], []
        for body in bodies:
            r = client.post("/v1/settlements", json=body)
            statuses.append(r.status_code)
            if r.status_code == 201:
                acked[body["setl_id"]] = r.json()
            else:
                assert r.status_code == 507, (r.status_code, r.text)
                assert r.headers["content-type"] == "application/json"
                assert "disk is full" in r.json()["message"]
                assert int(r.headers["retry-after"]) >= 1
                refused.append(body)
                if len(refused) >= 20:
                    break
        assert acked and len(refused) >= 20, statuses  # some fitted, then the disk was full

        # nothing half-written: what is stored is whole and equals `tuodi settle`
        check_consistent(url, tmp_path / "full")
        assert set(stored_claim_counts(url)) == set(acked)
        # the service still answers: health, the audit log, and reads answer (or refuse clearly,
        # when the read of personal data cannot be audited)
        assert httpx.get(f"{server.base}/health").status_code == 200
        audit = httpx.get(f"{server.base}/v1/audit", headers={"Authorization": f"Bearer {auditor}"})
        assert audit.status_code == 200 and audit.json()
        for psn in PEOPLE:
            r = httpx.get(f"{server.base}/v1/persons/{psn}/years/2023",
                          headers={"Authorization": f"Bearer {office}"})
            assert r.status_code in (200, 507), r.text

        # space freed: the refused claims, sent again, settle once
        os.unlink(ballast)
        time.sleep(0.1)
        for body in refused:
            r = client.post("/v1/settlements", json=body)
            assert r.status_code == 201, r.text
        for setl_id in list(acked)[:3]:
            body = next(b for b in bodies if b["setl_id"] == setl_id)
            r = client.post("/v1/settlements", json=body)
            assert r.status_code == 200 and r.json()["maf_pay"] == acked[setl_id]["maf_pay"]
        assert all(n == 1 for n in stored_claim_counts(url).values())
        check_consistent(url, tmp_path / "freed")
        client.close()
    finally:
        server.stop()
