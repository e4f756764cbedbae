"""The webhook the archive calls when a recording is ready, so the members hear of it at once.

    POST /interviews        {"member": "U123", "url": "https://archive...", "partner": "U456", "id": "rec-9"}
    X-SmallStep-Timestamp:  1764580000                    (Unix seconds, within 5 minutes of now)
    X-SmallStep-Signature:  sha256=<HMAC-SHA256 of "<timestamp>.<body>" with the shared secret, hex>

A request signed with another secret, stale, or seen before (a replay) is refused with 401
and logged; a well-signed one that cannot be taken gets 400 saying why.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from typing import Any, Awaitable, Callable

from aiohttp import web

from bot.core.clock import Clock

log = logging.getLogger(__name__)

PATH = "/interviews"
TIMESTAMP, SIGNATURE = "X-SmallStep-Timestamp", "X-SmallStep-Signature"
WINDOW_SECONDS = 300


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a sender puts in X-SmallStep-Signature."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class NotTaken(ValueError):
    """A signed request whose content cannot be taken; `str()` says why, for the sender."""


Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class Webhook:
    def __init__(self, secret: str, clock: Clock, handle: Handler, first_seen: Callable[[str], Awaitable[bool]]) -> None:
        self._secret = secret
        self._clock = clock
        self._handle = handle
        self._first_seen = first_seen
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_post(PATH, self._receive)
        return app

    async def start(self, host: str, port: int) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        log.info("interviews webhook listening on http://%s:%d%s", host, port, PATH)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp = request.headers.get(TIMESTAMP, "")
        problem = self._refusal(timestamp, request.headers.get(SIGNATURE, ""), body)
        if problem is None and not await self._first_seen(request.headers[SIGNATURE]):
            problem = "replayed: this request was taken before"
        if problem is not None:
            log.warning("interviews webhook refused a request from %s: %s", request.remote, problem)
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise NotTaken("the body must be a JSON object")
            return web.json_response(await self._handle(data))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": "the body is not JSON"}, status=400)
        except NotTaken as exc:
            return web.json_response({"error": str(exc)}, status=400)

    def _refusal(self, timestamp: str, signature: str, body: bytes) -> str | None:
        if not timestamp.isdigit():
            return f"no {TIMESTAMP} header"
        if abs(self._clock.now().timestamp() - int(timestamp)) > WINDOW_SECONDS:
            return "stale: the timestamp is more than five minutes away"
        if not hmac.compare_digest(sign(self._secret, timestamp, body), signature):
            return "the signature does not match"
        return None
