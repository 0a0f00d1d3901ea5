"""Web security headers on every response of the service (issue 11, "Web security headers"):
a Content-Security-Policy without inline script and with `frame-ancestors 'none'`,
X-Content-Type-Options, X-Frame-Options and Referrer-Policy — on /v1 answers, on refusals
(401, 403, 404, 422), on /openapi.json and on /docs, which still works in a browser under its
policy, loading nothing from another host."""
from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from tuodi.service.app import create_app

from .conftest import STATS, make_keys

CLAIM = dict(setl_id="w1", psn_no="W1", setl_date="2023-05-01", med_type="inpatient",
             medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def check_headers(r) -> None:
    h = r.headers
    where = (r.request.method, r.request.url.path, r.status_code)
    assert h.get("x-content-type-options") == "nosniff", where
    assert h.get("x-frame-options") == "DENY", where
    assert h.get("referrer-policy") == "no-referrer", where
    csp = directives(h.get("content-security-policy", ""))
    assert csp.get("frame-ancestors") == ["'none'"], where
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts is not None and "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts, where
    assert not any(s.startswith(("http:", "https:", "*")) or s.startswith("'nonce") for s in scripts), where
    if r.request.url.path.startswith("/v1"):
        assert h.get("cache-control") == "no-store", where


def test_every_kind_of_answer_carries_the_security_headers(service):
    service.put_person("W1")
    c, h = service.client, service.h
    answers = [
        c.get("/v1/me", headers=h("hospital")),                                   # 200
        service.settle(**CLAIM),                                                  # 201
        service.settle(dry_run=True, **{**CLAIM, "setl_id": "w2"}),               # 200
        c.get("/v1/settlements/w1", headers=h("hospital")),
        c.get("/v1/persons/W1/years/2023", headers=h("insurance_office")),
        c.post("/v1/settlements/w1/reversal", headers=h("hospital")),
        c.get("/v1/me"),                                                          # 401
        c.get("/v1/me", headers={"Authorization": "Bearer tdk_unknown"}),         # 401
        c.get("/v1/audit", headers=h("hospital")),                                # 403
        c.get("/v1/settlements/nope", headers=h("hospital")),                     # 404
        c.get("/v1/nothing-here", headers=h("hospital")),                         # 404, no route
        c.delete("/v1/me", headers=h("hospital")),                                # 405
        service.settle(**{**CLAIM, "medfee_sumamt": 15000}),                      # 422
        c.post("/v1/settlements", content=b"{", headers={**h("hospital"), "content-type": "application/json"}),
        c.get("/openapi.json"), c.get("/docs"), c.get("/docs/assets/start.js"), c.get("/health"),
    ]
    assert {r.status_code for r in answers} >= {200, 201, 401, 403, 404, 405, 422}
    for r in answers:
        check_headers(r)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CHROMIUM = os.environ.get("TUODI_TEST_CHROMIUM") or "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no Chromium: set TUODI_TEST_CHROMIUM; .ci/run installs it")
def test_docs_work_in_a_browser_under_their_policy_and_load_nothing_from_elsewhere(tmp_path):
    """Swagger UI renders the API under the page's CSP: no violation, no request to another host."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (test extra) is not installed")
    from tuodi.store import upgrade

    url = f"sqlite:///{tmp_path / 'tuodi.db'}"
    upgrade(url)
    make_keys(url)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(url, "harbin", STATS), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        outside, errors = [], []
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page()
                page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base)
                           else (outside.append(route.request.url), route.abort()))
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(str(e)))
                page.goto(base + "/docs")
                page.wait_for_selector(".opblock-summary-path", timeout=20_000)
                paths = page.locator(".opblock-summary-path").all_inner_texts()
                assert any("/v1/settlements" in t for t in paths), paths
                assert "一站式结算" in page.locator(".info .title").inner_text()
            finally:
                browser.close()
        assert outside == [] and errors == [], (outside, errors)
    finally:
        server.should_exit = True
        thread.join(10)
