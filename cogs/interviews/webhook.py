"""The webhook the archive calls when a recording is ready, so the members hear of it at once.

    POST /interviews        {"member": "U123", "url": "https://archive...", "partner": "U456", "id": "rec-9"}
    X-SmallStep-Timestamp:  1764580000                    (Unix seconds, within 5 minutes of now)
    X-SmallStep-Signature:  sha256=<HMAC-SHA256 of "<timestamp>.<body>" with the shared secret, hex>

A request whose headers are missing or malformed, signed with another secret, stale, or seen before
(a replay) is refused with 401 and logged. A well-signed one whose body is not a flat JSON object of
the fields below, as text, or that cannot be taken, gets 400 saying why, and nothing is kept; one
naming a community this bot does not serve gets 403.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from typing import Any, Awaitable, Callable

from aiohttp import web

from bot.core.clock import Clock
from bot.web import serve

log = logging.getLogger(__name__)

PATH = "/interviews"
TIMESTAMP, SIGNATURE = "X-SmallStep-Timestamp", "X-SmallStep-Signature"
WINDOW_SECONDS = 300
# Headers are read only in these shapes: Unix seconds (ASCII digits, no more than a date needs) and
# the hex digest; anything else is refused before it is turned into a number or compared.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"sha256=[0-9a-f]{64}")
# The fields a recording may have, each text of at most this many characters (null: not given).
FIELDS = {"member": 100, "url": 2000, "partner": 100, "partner_name": 200, "member_name": 200, "id": 200,
          "community": 100}
_JSON_TYPES = {dict: "an object", list: "an array", bool: "true or false", int: "a number", float: "a number"}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature a sender puts in X-SmallStep-Signature."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


class NotTaken(ValueError):
    """A signed request whose content cannot be taken; `str()` says why, for the sender."""


class NotServed(NotTaken):
    """A signed request for a community this bot does not serve; `str()` says which."""


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
        self._runner = await serve(self.app(), host, port)
        log.info("interviews webhook listening on http://%s:%d%s", host, port, PATH)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        timestamp, signature = request.headers.get(TIMESTAMP, ""), request.headers.get(SIGNATURE, "")
        problem = self._refusal(timestamp, signature, body)
        if problem is not None:
            return self._unauthorized(request, problem)
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, a number of 5,000 digits, nested too deeply
            return web.json_response({"error": "the body is not JSON that can be read"}, status=400)
        problem = record_problem(data)
        if problem is not None:
            return web.json_response({"error": problem}, status=400)
        if not await self._first_seen(signature):
            return self._unauthorized(request, "replayed: this request was taken before")
        try:
            return web.json_response(await self._handle(data))
        except NotServed as exc:
            return web.json_response({"error": str(exc)}, status=403)
        except NotTaken as exc:
            return web.json_response({"error": str(exc)}, status=400)

    @staticmethod
    def _unauthorized(request: web.Request, problem: str) -> web.Response:
        log.warning("interviews webhook refused a request from %s: %s", request.remote, problem)
        return web.json_response({"error": "unauthorized"}, status=401)

    def _refusal(self, timestamp: str, signature: str, body: bytes) -> str | None:
        if not _TIMESTAMP.fullmatch(timestamp):
            return f"no {TIMESTAMP} header in Unix seconds"
        if abs(self._clock.now().timestamp() - int(timestamp)) > WINDOW_SECONDS:
            return "stale: the timestamp is more than five minutes away"
        if not _SIGNATURE.fullmatch(signature):
            return f"no {SIGNATURE} header of the form sha256=<64 hex digits>"
        if not hmac.compare_digest(sign(self._secret, timestamp, body).encode(), signature.encode()):
            return "the signature does not match"
        return None


def record_problem(data: Any) -> str | None:
    """What is wrong with a body's shape, in words for its sender; None for a JSON object of known
    fields, each text (or null)."""
    if not isinstance(data, dict):
        return "the body must be a JSON object"
    if set(data) - set(FIELDS):
        return f"the body has fields this webhook does not take; it takes {', '.join(FIELDS)}"
    for key, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):
            return f"{key} must be text, not {_JSON_TYPES.get(type(value), 'that')}"
        if len(value) > FIELDS[key]:
            return f"{key} is longer than {FIELDS[key]} characters"
        try:
            value.encode()
        except UnicodeEncodeError:  # "\ud800" in JSON: half of a character, which nothing can store
            return f"{key} holds text that is not valid Unicode"
    return None
