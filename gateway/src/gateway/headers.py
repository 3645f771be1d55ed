"""Headers on every answer the gateway gives: security headers, and no server banner.

Pure ASGI, outside everything else, so errors, 429s and the docs pages carry them too.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# API answers are data, never a page: nothing may load or frame them.
API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The docs pages run Swagger UI and ReDoc from this origin: their inline bootstrap script and
# styles, data: images, and ReDoc's blob: web worker; nothing from any other host.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
DOCS_PATHS = ("/docs", "/redoc")
# The staff dashboard: its own scripts, styles and images only; no inline script or style, no
# eval (htmx runs with allowEval off), forms post only to itself.
DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
DASHBOARD_PATH = "/dashboard"

COMMON = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
# The gateway sets these itself; a service's own are replaced.
SET = frozenset(name for name, _ in COMMON) | {b"content-security-policy", b"server"}


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith(DOCS_PATHS):
            csp = DOCS_CSP
        elif path.startswith(DASHBOARD_PATH):
            csp = DASHBOARD_CSP
        else:
            csp = API_CSP
        added = [*COMMON, (b"content-security-policy", csp.encode())]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in SET]
                message = {**message, "headers": headers + added}
            await send(message)

        await self.app(scope, receive, send_with_headers)
