"""API keys are listed and revoked from the command line (`tuodi apikey list | revoke`); a
revoked key is refused by the service, and the revocation is in the audit log."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


def tuodi(*args: str) -> subprocess.CompletedProcess:
    """The `tuodi` command in a process of its own, as an administrator runs it beside the service."""
    exe = Path(sys.executable).with_name("tuodi")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=120)


def every_v1_request() -> list[tuple[str, str, dict | None]]:
    claim = dict(setl_id="v1", psn_no="V1", setl_date="2023-05-01", med_type="inpatient",
                 medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")
    return [("GET", "/v1/me", None), ("PUT", "/v1/persons/V2", {}), ("GET", "/v1/persons/V1", None),
            ("POST", "/v1/persons/V1/identities", {"category": "dibao"}),
            ("POST", "/v1/persons/V1/identities/1/end", {"enddate": "2023-12-31"}),
            ("POST", "/v1/settlements?dry_run=true", {**claim, "setl_id": "v2"}),
            ("POST", "/v1/settlements", {**claim, "setl_id": "v3"}), ("POST", "/v1/settlements", claim),
            ("GET", "/v1/settlements/v1", None), ("POST", "/v1/settlements/v1/reversal", None),
            ("GET", "/v1/persons/V1/years/2023", None), ("GET", "/v1/audit", None)]


def test_a_revoked_key_is_refused_on_the_next_request_despite_a_warm_cache(service):
    """CONTRACT.md, Who sees what: "A revoked key is refused on the next request (401)" — revoked by
    `tuodi apikey revoke` in another process while the service has the key in its lookup cache."""
    service.put_person("V1")
    service.add_identity("V1", "dibao")
    settled = service.settle(role="insurance_office", setl_id="v1", psn_no="V1", setl_date="2023-05-01",
                             med_type="inpatient", medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")
    assert settled.status_code == 201, settled.text
    for role in ("insurance_office", "auditor", "hospital"):  # warm the cache of each key
        assert service.client.get("/v1/me", headers=service.h(role)).status_code == 200
    # ids in the fixture's order: insurance_office 1, civil_affairs 2, auditor 3, hospital 4, other_hospital 5
    for key_id in ("1", "3", "4"):
        done = tuodi("apikey", "revoke", key_id, "--db", service.url)
        assert done.returncode == 0, done.stderr
    for role in ("insurance_office", "auditor", "hospital"):
        for method, path, body in every_v1_request():
            r = service.client.request(method, path, json=body, headers=service.h(role))
            assert r.status_code == 401, (role, method, path, r.status_code, r.text[:200])
            assert r.headers["www-authenticate"] == "Bearer"
    # nothing a refused request tried was stored
    civil = service.h("civil_affairs")
    assert service.client.get("/v1/persons/V2", headers=civil).status_code == 404
    assert service.client.get("/v1/persons/V1/years/2023", headers=civil).json()["totals"]["claims"] == 1
    assert service.client.get("/v1/me", headers=civil).status_code == 200  # the key not revoked still works
