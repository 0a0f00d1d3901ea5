"""Web security of the service (issue 11): the headers on every response, and `/docs` served from
this host with no inline script.

Every response carries a Content-Security-Policy that allows no inline script and no framing
(`frame-ancestors 'none'`, and `X-Frame-Options: DENY` for older browsers),
`X-Content-Type-Options: nosniff` and `Referrer-Policy: no-referrer`; answers under `/v1` also carry
`Cache-Control: no-store` (they hold personal data). The API's own answers get the strictest policy
(`default-src 'none'`: a JSON answer opened in a browser may load nothing).

FastAPI's Swagger page loads its script and style from a CDN and starts them with an inline
script, which such a policy forbids (and a hospital's private network often cannot reach the CDN).
So `/docs` is our own page: Swagger UI's files come from the `fastapi-offline` package (PyPI) and
are served from `/docs/assets/`, the page starts them with `/docs/assets/start.js`, and the page's
policy allows scripts, styles and requests from this host only (`'self'`, plus `data:` images
that Swagger UI's stylesheet uses). ReDoc is not offered: it injects inline styles.
"""
from __future__ import annotations

import html
from importlib.resources import files

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
PAGE_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
               "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
COMMON = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
          (b"referrer-policy", b"no-referrer")]
DOCS = "/docs"
ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
          "favicon.png": "image/png"}
START_JS = """\
// Starts Swagger UI on /docs (a file, not an inline script: the page's CSP allows none).
window.addEventListener("load", function () {
  var root = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapi, dom_id: "#swagger-ui", layout: "BaseLayout", deepLinking: true,
    showExtensions: true, showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset]
  });
});
"""


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response (errors and 404s included)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        page = path == DOCS or path.startswith(DOCS + "/")
        extra = [(b"content-security-policy", (PAGE_POLICY if page else API_POLICY).encode()), *COMMON]
        if path.startswith("/v1/") or path == "/v1":
            extra.append((b"cache-control", b"no-store"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _v in extra}
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def add_docs(app: FastAPI, title: str) -> None:
    """`/docs`: Swagger UI from this host (create the app with `docs_url=None, redoc_url=None`)."""
    static = files("fastapi_offline") / "static"
    loaded: dict[str, bytes] = {}

    @app.get(DOCS, include_in_schema=False)
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        a = f"{root}{DOCS}/assets"
        return HTMLResponse(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)} - Swagger UI</title>"
            f"<link rel=\"icon\" type=\"image/png\" href=\"{a}/favicon.png\">"
            f"<link rel=\"stylesheet\" href=\"{a}/swagger-ui.css\"></head>\n<body>"
            f"<div id=\"swagger-ui\" data-openapi=\"{html.escape(root + (app.openapi_url or ''))}\"></div>"
            f"<script src=\"{a}/swagger-ui-bundle.js\"></script>"
            f"<script src=\"{a}/start.js\"></script></body></html>\n")

    @app.get(DOCS + "/assets/{name}", include_in_schema=False)
    def asset(name: str) -> Response:
        if name == "start.js":
            return Response(START_JS, media_type="text/javascript; charset=utf-8")
        if name not in ASSETS:
            raise StarletteHTTPException(404, f"no asset {name!r}")
        if name not in loaded:
            loaded[name] = (static / name).read_bytes()
        return Response(loaded[name], media_type=ASSETS[name], headers={"cache-control": "public, max-age=86400"})


def secure(app: FastAPI) -> None:
    """Put `SecurityHeaders` outside everything, Starlette's error middleware included, so that
    even an unexpected 500 carries the headers."""
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: SecurityHeaders(build())  # type: ignore[method-assign]
