"""Who may do what, masking of personal data, the audit log, keys hashed at rest."""
from __future__ import annotations

from sqlalchemy import select

from tuodi.store import Database
from tuodi.store.tables import api_keys, audit_log

CLAIM = dict(setl_id="k1", psn_no="P1", setl_date="2023-05-01", med_type="inpatient",
             medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")


def person(service):
    service.put_person("P1", certno="11010519491231002X", psn_name="张桂兰", tel="13800001234",
                       addr="哈尔滨市道里区某街1号")


def test_missing_or_unknown_key_is_401(service):
    assert service.client.get("/v1/me").status_code == 401
    r = service.client.get("/v1/me", headers={"Authorization": "Bearer tdk_nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert service.client.get("/openapi.json").status_code == 200  # the schema needs no key


def test_roles_without_the_right_get_403(service):
    person(service)
    h = service.h
    assert service.settle(role="auditor", **CLAIM).status_code == 403
    assert service.settle(role="civil_affairs", **CLAIM).status_code == 403
    assert service.client.put("/v1/persons/P2", json={}, headers=h("hospital")).status_code == 403
    assert service.client.put("/v1/persons/P2", json={}, headers=h("auditor")).status_code == 403
    assert service.client.get("/v1/persons/P1/years/2023", headers=h("hospital")).status_code == 403
    assert service.client.get("/v1/audit", headers=h("insurance_office")).status_code == 403
    r = service.client.post("/v1/persons/P1/identities", json={"category": "dibao"}, headers=h("hospital"))
    assert r.status_code == 403


def test_a_hospital_settles_and_reads_only_its_own_claims(service):
    person(service)
    r = service.settle(**{**CLAIM, "fixmedins_code": "H0002"})
    assert r.status_code == 403 and "fixmedins_code" in r.json()["message"]
    assert service.settle(**CLAIM).status_code == 201
    other = service.h("other_hospital")
    # CONTRACT.md, Who sees what: another institution's settlement answers 404, as one that does not exist
    assert service.client.get("/v1/settlements/k1", headers=other).status_code == 404
    assert service.client.post("/v1/settlements/k1/reversal", headers=other).status_code == 404
    assert service.client.get("/v1/settlements/k1", headers=service.h("hospital")).status_code == 200


def test_personal_data_is_masked_for_roles_that_do_not_manage_persons(service):
    person(service)
    full = service.client.get("/v1/persons/P1", headers=service.h("civil_affairs")).json()
    assert (full["certno"], full["psn_name"]) == ("11010519491231002X", "张桂兰")
    masked = service.client.get("/v1/persons/P1", headers=service.h("auditor")).json()
    assert masked["certno"] == "110105********002X"
    assert masked["psn_name"] == "张**" and masked["tel"] == "138****1234"
    assert "道里区某街" not in masked["addr"]


def test_writes_and_reads_of_personal_data_are_audited_without_personal_data(service):
    person(service)
    service.add_identity("P1", "dibao")
    service.settle(**CLAIM)
    service.client.get("/v1/persons/P1", headers=service.h("auditor"))
    service.client.get("/v1/settlements/k1", headers=service.h("insurance_office"))
    service.year("P1", 2023)
    log = service.client.get("/v1/audit", params={"psn_no": "P1"}, headers=service.h("auditor")).json()
    actions = [e["action"] for e in reversed(log)]
    assert actions == ["person.create", "identity.add", "settle", "person.read", "settlement.read", "year.read"]
    assert {e["role"] for e in log} == {"insurance_office", "civil_affairs", "hospital", "auditor"}
    text = repr(log)
    assert "11010519491231002X" not in text and "张桂兰" not in text


def test_a_refused_write_leaves_nothing_behind(service):
    """One transaction per request: a refused settlement writes neither a claim nor an audit line."""
    person(service)
    db = Database(service.url)
    with db.read() as conn:
        before = len(list(conn.execute(select(audit_log))))
    assert service.settle(**{**CLAIM, "setl_date": "2019-01-01"}).status_code == 422
    with db.read() as conn:
        assert len(list(conn.execute(select(audit_log)))) == before
    db.dispose()


def test_keys_are_stored_hashed(service):
    db = Database(service.url)
    with db.read() as conn:
        stored = [r.key_hash for r in conn.execute(select(api_keys))]
    db.dispose()
    assert len(stored) == 5
    assert not any(k in stored for k in service.keys.values())
    assert all(len(h) == 64 for h in stored)
