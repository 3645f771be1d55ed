"""The one way partner-service calls out: a webhook POST that cannot be turned against the
platform (server-side request forgery).

- https only, no user:password in the URL, and outside development no target whose address is
  not globally routable (private, loopback, link-local, multicast, reserved, unspecified, CGNAT,
  IPv4-mapped forms of those): checked on EVERY address the name resolves to, and the request
  then goes to the checked address itself (the URL's host replaced by it, `Host` header and TLS
  SNI/certificate name set to the name: httpcore's `sni_hostname` request extension), so a
  second DNS answer cannot swap the target in between (DNS rebinding).
- Ports outside development: 443 or 1024-65535 (no SMTP, SSH... on a public host).
- No redirects: a 3xx is the answer, never followed. No proxy from the environment.
- Connect and total time limits from settings; the answer body is read up to
  `webhook_max_response_bytes` and the connection dropped after that.
In development (`make run`) http and loopback targets are allowed, to try webhooks locally.
"""

import asyncio
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from hotel_common.time import utcnow

from partner_service.config import Settings

Resolver = Callable[[str, int], Awaitable[list[str]]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(Exception):
    """The URL may not be called: `str(exc)` says why, for the partner."""


@dataclass(frozen=True)
class Target:
    url: str
    scheme: str
    host: str  # as in the URL (lower case; no brackets)
    port: int
    addresses: list[str]  # checked, in the resolver's order


@dataclass(frozen=True)
class Answer:
    status_code: int | None  # None: no answer (timeout, connection error, refused target)
    error: str | None
    duration_ms: int
    retry_after: float | None = None  # seconds, from a Retry-After header
    body_bytes: int = 0  # how much of the body was read (capped)


async def system_resolve(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _ip(text: str) -> IpAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone
    except ValueError:
        return None


# IPv6 prefixes whose last 32 bits are an IPv4 address something on the path may reach:
# NAT64 (RFC 6052 well-known and RFC 8215 local-use: an IPv6-only network's NAT64 gateway
# translates to ANY IPv4 address, private ones included), IPv4-compatible (deprecated, tunnelled
# by some hosts) and IPv4-translated (SIIT). Python's `is_global` calls the well-known NAT64
# prefix global without looking at the address inside, so the embedded one is checked.
_EMBEDDING_IPV4 = tuple(
    ipaddress.IPv6Network(prefix)
    for prefix in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96")
)
# What a URL may not hold: controls (C0, DEL, C1) and spaces. httpx refuses some of these
# only when the request is built (InvalidURL, outside httpx.HTTPError): the check must say no.
_URL_REFUSED = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")


def forbidden_address(address: IpAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return forbidden_address(mapped)
        if any(address in prefix for prefix in _EMBEDDING_IPV4):
            if address in _EMBEDDING_IPV4[2] and int(address) <= 1:
                return True  # :: and ::1
            return forbidden_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return not address.is_global or address.is_multicast


class Outbound:
    def __init__(self, settings: Settings, resolve: Resolver = system_resolve) -> None:
        self.settings = settings
        self.resolve = resolve  # tests swap it to play a DNS answer
        # What TLS trusts: the system's CAs (tests trust their own certificate).
        self.verify: ssl.SSLContext | bool = True

    @property
    def strict(self) -> bool:
        return self.settings.environment != "development"

    def parse(self, url: str) -> tuple[str, str, int]:
        """Scheme, host and port of a URL allowed in form (not yet resolved)."""
        if (found := _URL_REFUSED.search(url)) is not None:
            raise UnsafeTarget(
                f"the URL may not contain a control character or space (U+{ord(found.group()):04X})"
            )
        try:
            parts = urlsplit(url)
            port = parts.port
            httpx.URL(url)  # what the sender will build: refused now, not at every attempt
        except (ValueError, httpx.InvalidURL) as exc:
            raise UnsafeTarget(f"not a valid URL: {exc}") from exc
        scheme = parts.scheme.lower()
        allowed = ("https",) if self.strict else ("https", "http")
        if scheme not in allowed:
            raise UnsafeTarget(f"the URL must use {' or '.join(allowed)}")
        if parts.username is not None or parts.password is not None:
            raise UnsafeTarget("the URL must not carry a user name or password")
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise UnsafeTarget("the URL has no host")
        if _ip(host) is None:
            try:  # the resolver encodes the name so (a label over 63 or empty: UnicodeError)
                host.encode("idna")
            except UnicodeError as exc:
                raise UnsafeTarget(f"not a valid host name: {host[:100]}") from exc
        port = port or (443 if scheme == "https" else 80)
        if self.strict and port != 443 and port < 1024:
            raise UnsafeTarget("the port must be 443 or 1024-65535")
        return scheme, host, port

    async def check(self, url: str) -> Target:
        """Resolve and check the URL's host: every address must be allowed."""
        scheme, host, port = self.parse(url)
        literal = _ip(host)
        if literal is not None:
            addresses = [str(literal)]
        else:
            try:
                # The partner controls its name's DNS: a slow answer must not hold a creating
                # request, nor stretch a delivery past the sender's lease (another replica
                # would take over and send newer entries while this one still sends an older).
                async with asyncio.timeout(self.settings.webhook_connect_timeout_seconds):
                    addresses = await self.resolve(host, port)
            except TimeoutError as exc:
                raise UnsafeTarget(f"the host {host} did not resolve in time") from exc
            except OSError as exc:
                raise UnsafeTarget(f"the host {host} does not resolve") from exc
            if not addresses:
                raise UnsafeTarget(f"the host {host} does not resolve")
        if self.strict:
            for text in addresses:
                address = _ip(text)
                if address is None or forbidden_address(address):
                    raise UnsafeTarget(
                        f"the host {host} resolves to a private or reserved address ({text})"
                    )
        return Target(url, scheme, host, port, addresses)

    def client(self) -> httpx.AsyncClient:
        """One client per sending run: redirects off, no proxy from the environment."""
        timeout = httpx.Timeout(
            self.settings.webhook_timeout_seconds,
            connect=self.settings.webhook_connect_timeout_seconds,
        )
        return httpx.AsyncClient(
            follow_redirects=False, trust_env=False, timeout=timeout, verify=self.verify
        )

    async def post(
        self, client: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str]
    ) -> Answer:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            target = await self.check(url)
        except UnsafeTarget as exc:
            return Answer(None, f"refused: {exc}", took())
        try:
            # One budget for the whole attempt, resolution (above, bounded by the connect
            # timeout) aside: a slow receiver holds its task no longer than this.
            async with asyncio.timeout(self.settings.webhook_timeout_seconds):
                return await self._send(client, target, body, headers, took)
        except TimeoutError:
            return Answer(None, "timeout", took())
        except httpx.TimeoutException as exc:
            return Answer(None, f"timeout: {type(exc).__name__}", took())
        except httpx.HTTPError as exc:
            return Answer(None, f"connection error: {type(exc).__name__}: {exc}", took())
        except (httpx.InvalidURL, ValueError) as exc:
            # A URL stored before the check refused its form: an answer (the subscription
            # backs off), not an exception that kills the task unlogged and is claimed again.
            return Answer(None, f"refused: not a valid URL: {exc}", took())

    async def _send(
        self,
        client: httpx.AsyncClient,
        target: Target,
        body: bytes,
        headers: dict[str, str],
        took: Callable[[], int],
    ) -> Answer:
        address = target.addresses[0]
        parts = urlsplit(target.url)
        pinned_host = f"[{address}]" if ":" in address else address
        pinned = urlunsplit(parts._replace(netloc=f"{pinned_host}:{target.port}"))
        default_port = 443 if target.scheme == "https" else 80
        host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
        extensions = {}
        if target.scheme == "https" and _ip(target.host) is None:
            # TLS: the name sent (SNI) and the certificate checked against: the URL's host.
            extensions["sni_hostname"] = target.host
        request = client.build_request(
            "POST",
            pinned,
            content=body,
            headers={
                **headers,
                "host": host_header,
                "content-type": "application/json",
                "user-agent": "hotel-partner-webhooks/1",
            },
            extensions=extensions,
        )
        response = await client.send(request, stream=True)
        try:
            read = 0
            cap = self.settings.webhook_max_response_bytes
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= cap:
                    break  # the rest is never read: closing drops the connection
        finally:
            await response.aclose()
        status = response.status_code
        error = None if 200 <= status < 300 else f"HTTP {status}"
        if 300 <= status < 400:
            error = f"HTTP {status}: redirects are not followed"
        return Answer(status, error, took(), retry_after(response), min(read, cap))


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None
