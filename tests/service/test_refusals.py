"""Refusals in the documented shape (CONTRACT.md, Service: "Bad input: 422 naming the field"; issue 11):
a body that is not JSON is bad input like any other, and a JSON number for an amount is refused
("Amounts in JSON are strings; a JSON number for an amount is refused (422)")."""
from __future__ import annotations

import jsonschema_rs  # schemathesis brings it
import pytest

JSON = {"content-type": "application/json"}
CLAIM = dict(setl_id="n1", psn_no="N1", setl_date="2023-05-01", med_type="inpatient",
             medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")


def documented(service, path: str, method: str, status: int) -> dict:
    """The schema the OpenAPI document gives for this answer, with its components to resolve $refs."""
    doc = service.client.get("/openapi.json").json()
    response = doc["paths"][path][method]["responses"][str(status)]
    schema = response["content"]["application/json"]["schema"]
    return {**schema, "components": doc["components"]}


@pytest.mark.parametrize("body", [b"{bad", b'{"setl_id": "x",}', b"\xff\xfe\xfa", b"[" * 100_000,
                                  b'{"a":' * 50_000, b"\xed\xa0\x80"])
def test_a_body_that_is_not_json_is_a_documented_422(service, body):
    """Not 400 in FastAPI's own shape: 422 `{message, detail[{field: "body", …}]}`, as the OpenAPI lists."""
    h = {**service.h("insurance_office"), **JSON}
    for method, path, doc_path in (("post", "/v1/settlements", "/v1/settlements"),
                                   ("put", "/v1/persons/N1", "/v1/persons/{psn_no}"),
                                   ("post", "/v1/persons/N1/identities", "/v1/persons/{psn_no}/identities")):
        r = service.client.request(method.upper(), path, content=body, headers=h)
        assert r.status_code == 422, (path, r.status_code, r.text[:200])
        jsonschema_rs.validate(documented(service, doc_path, method, 422), r.json())
        assert [d["field"] for d in r.json()["detail"]] == ["body"]
        assert "not valid JSON" in r.json()["message"]


@pytest.mark.parametrize("field", ["medfee_sumamt", "hifp_pay", "hifmi_pay", "fulamt_ownpay_amt",
                                   "overlmt_selfpay", "preselfpay_amt", "inscp_scp_amt"])
@pytest.mark.parametrize("number", [15000, 1234.5, 0, 0.1])
def test_a_json_number_for_an_amount_is_refused_naming_the_field(service, field, number):
    service.put_person("N1")
    for dry_run in (True, False):
        r = service.settle(dry_run=dry_run, **{**CLAIM, field: number})
        assert r.status_code == 422, r.text
        assert [d["field"] for d in r.json()["detail"]] == [field]
        assert "JSON number" in r.json()["message"]
    assert service.settle(**CLAIM).status_code == 201  # the same claim with string amounts is settled


def test_every_refusal_is_in_the_documented_shape(service):
    """401, 403, 404, 409 and 422 all answer `Refusal`, as the OpenAPI document says."""
    service.put_person("N1")
    assert service.settle(**CLAIM).status_code == 201
    cases = [
        (service.client.get("/v1/settlements/n1"), "/v1/settlements/{setl_id}", "get", 401),
        (service.client.get("/v1/persons/N1", headers=service.h("hospital")), "/v1/persons/{psn_no}", "get", 403),
        (service.client.get("/v1/settlements/nope", headers=service.h("auditor")),
         "/v1/settlements/{setl_id}", "get", 404),
        (service.settle(**{**CLAIM, "medfee_sumamt": "16000"}), "/v1/settlements", "post", 409),
        (service.settle(**{**CLAIM, "setl_date": "2023-02-30"}), "/v1/settlements", "post", 422),
    ]
    for r, path, method, status in cases:
        assert r.status_code == status, r.text
        jsonschema_rs.validate(documented(service, path, method, status), r.json())
