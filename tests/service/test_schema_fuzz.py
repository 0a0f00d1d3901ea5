"""Never a 500 for anything a client can send: schemathesis generates requests from the OpenAPI
schema — valid ones and invalid ones (wrong types, bad amounts, unknown fields) — and every answer
must be below 500."""
from __future__ import annotations

import datetime as dt
import os
import uuid

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from sqlalchemy import create_engine, text

from tuodi.service.app import create_app
from tuodi.store import upgrade

from .conftest import PG_URL, STATS, make_keys, pg_schema_url

EXAMPLES = int(os.environ.get("TUODI_FUZZ_EXAMPLES", "25"))


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not PG_URL, reason="TUODI_TEST_PG_URL not set"))])
def fuzzed(request, tmp_path_factory):
    if request.param == "sqlite":
        url, drop = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'tuodi.db'}", None
    else:
        schema = f"f_{uuid.uuid4().hex[:12]}"
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        url, drop = pg_schema_url(schema), schema
    upgrade(url)
    keys = make_keys(url)
    app = create_app(url, "harbin", STATS)
    yield app, keys
    app.state.db.dispose()
    if drop:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {drop} CASCADE"))
        admin.dispose()


def operations(app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        yield result.ok()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_error(fuzzed, mode):
    app, keys = fuzzed
    ops = list(operations(app))
    assert {op.path for op in ops} >= {"/v1/settlements", "/v1/persons/{psn_no}"}
    for op in ops:
        @given(op.as_strategy(generation_mode=mode))
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def run(case):
            for role in ("insurance_office", "hospital"):
                response = case.call(headers={"Authorization": f"Bearer {keys[role]}"})
                assert response.status_code < 500, (role, case.method, case.formatted_path, case.body,
                                                     case.query, response.text[:300])
        run()


amounts = st.one_of(st.integers(0, 10**12).map(lambda f: f"{f // 100}.{f % 100:02d}"),
                    st.integers(0, 10**6).map(str), st.text(max_size=6))
claims = st.fixed_dictionaries(
    {"setl_id": st.sampled_from(["s1", "s2", "s3", "s4"]), "psn_no": st.sampled_from(["Z1", "Z2", "Z3"]),
     "setl_date": st.dates(dt.date(2022, 6, 1), dt.date(2028, 6, 1)).map(dt.date.isoformat),
     "med_type": st.sampled_from(["inpatient", "chronic", "outpatient", "21", "14", "11"]),
     "medfee_sumamt": amounts, "hifp_pay": amounts},
    optional={"hifmi_pay": st.one_of(st.none(), amounts), "fulamt_ownpay_amt": amounts,
              "inscp_scp_amt": amounts, "referred": st.sampled_from([True, False, "是", "否", "x"]),
              "out_of_area": st.booleans(), "in_province": st.booleans()})


def test_settling_random_claims_of_registered_persons_never_fails(fuzzed):
    """Claims that reach the engine and the ledger: amounts of any size, dates in and out of force,
    setl_ids that collide (200 or 409), persons with several identities."""
    app, keys = fuzzed
    client = TestClient(app)
    office = {"Authorization": f"Bearer {keys['insurance_office']}"}
    for psn, cats in {"Z1": ["dibao", "illness_poverty"], "Z2": ["near_dibao"], "Z3": []}.items():
        client.put(f"/v1/persons/{psn}", json={}, headers=office)
        for c in cats:
            client.post(f"/v1/persons/{psn}/identities", json={"category": c, "begndate": "2023-03-01"},
                        headers=office)

    seen: dict[int, int] = {}

    @given(claims, st.booleans())
    @settings(max_examples=EXAMPLES * 4, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    def run(body, dry_run):
        r = client.post("/v1/settlements", json=body, params={"dry_run": str(dry_run).lower()}, headers=office)
        assert r.status_code in (200, 201, 409, 422), (body, r.text[:300])
        seen[r.status_code] = seen.get(r.status_code, 0) + 1
        if r.status_code == 201:
            client.post(f"/v1/settlements/{body['setl_id']}/reversal", headers=office)
    run()
    assert seen.get(201, 0) > 0  # the generated claims do reach the ledger
