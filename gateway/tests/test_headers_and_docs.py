"""Security headers on every answer, CORS for configured origins, and docs pages that work
without internet access."""

import re

from gateway.config import Settings
from gateway.main import create_app
from gateway.upstream import AsgiUpstream, Upstream

RESERVATIONS = "reservation-service"
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def gateway(echo, tokens, **edges):
    upstreams: dict[str, Upstream] = {RESERVATIONS: AsgiUpstream(RESERVATIONS, echo(RESERVATIONS))}
    settings = Settings(log_json=False, **edges)
    return create_app(settings, upstreams, authenticator=tokens({}))


async def test_every_answer_carries_the_security_headers(echo, tokens, clients) -> None:
    app = gateway(echo, tokens, rate_limits={"anonymous": 1})
    async with clients(app) as (client,):
        answers = {
            "proxied": await client.get("/api/v1/rooms/1"),
            "limited": await client.get("/api/v1/rooms/1"),
            "refused": await client.get("/api/v1/rooms/1", headers={"Authorization": "Bearer x"}),
            "unrouted": await client.get("/api/v1/nothing-here"),
            "health": await client.get("/health/live"),
            "document": await client.get("/openapi.json"),
            "docs": await client.get("/docs"),
        }
    assert answers["limited"].status_code == 429
    assert answers["refused"].status_code in (401, 429)
    for name, r in answers.items():
        for header, value in SECURITY.items():
            assert r.headers.get(header) == value, (name, header)
        assert "server" not in r.headers, name
        csp = r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        if name != "docs":
            assert csp.startswith("default-src 'none'"), name
    docs_csp = answers["docs"].headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in docs_csp and "http" not in docs_csp


async def test_cors_answers_configured_origins_only(echo, tokens, clients) -> None:
    origin = "https://app.hotel.example"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    open_app = gateway(echo, tokens, cors_origins=[origin])
    async with clients(open_app) as (client,):
        allowed = await client.options("/api/v1/reservations", headers=preflight)
        stranger = await client.options(
            "/api/v1/reservations", headers={**preflight, "Origin": "https://evil.example"}
        )
        simple = await client.get("/api/v1/rooms/1", headers={"Origin": origin})
    async with clients(gateway(echo, tokens)) as (client,):
        none_configured = await client.get("/api/v1/rooms/1", headers={"Origin": origin})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == origin
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "access-control-allow-origin" not in stranger.headers
    assert simple.headers["access-control-allow-origin"] == origin
    assert "ratelimit-remaining" in simple.headers["access-control-expose-headers"]
    assert "access-control-allow-origin" not in none_configured.headers


def _references(html: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)


async def test_docs_and_redoc_load_nothing_from_another_host(echo, tokens, clients) -> None:
    async with clients(gateway(echo, tokens)) as (client,):
        pages = {path: await client.get(path) for path in ("/docs", "/redoc")}
        fetched = {}
        for page in pages.values():
            assert page.status_code == 200
            assert "text/html" in page.headers["content-type"]
            assert not re.search(r"https?://", page.text), page.text  # no host named at all
            for ref in _references(page.text):
                fetched[ref] = await client.get(ref)
        redirect = await client.get("/docs/oauth2-redirect")
    refs = set(fetched)
    assert {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css"} <= refs
    assert "/docs/assets/redoc.standalone.js" in refs and "/openapi.json" in refs
    for ref, r in fetched.items():
        assert r.status_code == 200, ref
        assert len(r.content) > 100 or ref == "/openapi.json", ref
    assert (
        fetched["/docs/assets/swagger-ui-bundle.js"]
        .headers["content-type"]
        .startswith(("application/javascript", "text/javascript"))
    )
    assert "oauth2RedirectUrl" in pages["/docs"].text
    assert redirect.status_code == 200
