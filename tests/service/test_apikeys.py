"""API keys are listed and revoked from the command line (`tuodi apikey list | revoke`); a
revoked key is refused by the service, and the revocation is in the audit log."""
from __future__ import annotations

from typer.testing import CliRunner

from tuodi.cli.main import app
from tuodi.store import Database
from tuodi.store.repository import create_api_key

runner = CliRunner()


def test_a_revoked_key_is_refused(service):
    listed = runner.invoke(app, ["apikey", "list", "--db", service.url])
    assert listed.exit_code == 0, listed.output
    assert "auditor" in listed.output and "H0002" in listed.output
    # the fixture made the keys in this order: insurance_office, civil_affairs, auditor, hospital, other_hospital
    r = runner.invoke(app, ["apikey", "revoke", "3", "--db", service.url])
    assert r.exit_code == 0, r.output
    assert "key 3 (auditor" in r.output
    assert service.client.get("/v1/me", headers=service.h("auditor")).status_code == 401
    assert service.client.get("/v1/me", headers=service.h("hospital")).status_code == 200  # the others still work

    db = Database(service.url)
    with db.write() as conn:
        second_auditor = create_api_key(conn, "auditor")
    db.dispose()
    log = service.client.get("/v1/audit", headers={"Authorization": f"Bearer {second_auditor}"})
    assert log.status_code == 200, log.text
    assert [e["detail"] for e in log.json() if e["action"] == "apikey.revoke"] == ["key 3 (auditor, "
                                                                                    + service.keys["auditor"][:12] + "…)"]
    again = runner.invoke(app, ["apikey", "revoke", "3", "--db", service.url])
    assert again.exit_code == 0          # revoking twice changes nothing


def test_an_unknown_key_id_is_refused(service):
    r = runner.invoke(app, ["apikey", "revoke", "99", "--db", service.url])
    assert r.exit_code == 2
    assert "no API key 99" in r.output
