"""Serving HTTP to the internet: Slack's requests in HTTP mode, and the archive's interviews webhook.

Every such server gets the same protections, so that slow or hostile clients cost little and say little:

- a request's head must arrive within `head_seconds` of its connection opening, or of the previous answer
  on a connection kept alive: aiohttp's keep-alive timer does exactly this (it runs from the start of a
  connection until a whole request head has arrived), so it is set to that;
- its body must arrive within `body_seconds`, else 408, and the connection is closed soon after;
- at most `max_requests` are handled at once; one more is answered 503 at once, and closed;
- "too many open files" (or another shortage) while accepting a connection is logged in one line at most
  once a minute: asyncio tries the accept again every second, and would log a traceback each time.

    runner = await serve(app, "0.0.0.0", 3000)
    ...
    await runner.cleanup()
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from typing import Any, Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)

HEAD_SECONDS = 10.0
BODY_SECONDS = 10.0
MAX_REQUESTS = 100
# After a 408 or a 503, what the client is still sending is read and dropped this long (so that it sees the
# answer rather than a reset), then the connection is closed; aiohttp's default waits 10 seconds.
LINGER_SECONDS = 1.0
SHORTAGE_LOG_EVERY = 60.0  # seconds
# What accept() fails with when the process or the system is out of something (asyncio then waits a
# second and tries again).
_SHORTAGES = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Middleware = Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]


async def serve(app: web.Application, host: str, port: int, *, head_seconds: float = HEAD_SECONDS,
                body_seconds: float = BODY_SECONDS, max_requests: int = MAX_REQUESTS) -> web.AppRunner:
    """Serve `app` on host:port with the protections above; `await runner.cleanup()` stops it."""
    app.middlewares.insert(0, _guard(body_seconds, max_requests))  # before the app's own: they read the body
    _log_shortages_calmly(asyncio.get_running_loop())
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=head_seconds, lingering_time=LINGER_SECONDS)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:  # the port is taken, the address is not this machine's: nothing is left half open
        await runner.cleanup()
        raise
    return runner


def _guard(body_seconds: float, max_requests: int) -> Middleware:
    in_flight = 0

    @web.middleware
    async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
        nonlocal in_flight
        if in_flight >= max_requests:
            return _closing(web.Response(status=503, headers={"Retry-After": "1"},
                                         text="too many requests at once; try again in a second"))
        in_flight += 1
        try:
            try:
                async with asyncio.timeout(body_seconds):
                    await request.read()  # aiohttp keeps it for the handler
            except TimeoutError:
                return _closing(web.Response(status=408, text="the request's body did not arrive in time"))
            return await handler(request)
        finally:
            in_flight -= 1

    return guard


def _closing(response: web.Response) -> web.Response:
    response.force_close()  # nothing more is read from a client like that
    return response


class _CalmShortages:
    """A loop's exception handler: shortages on accept in one line a minute, anything else as before."""

    def __init__(self, previous: Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None] | None) -> None:
        self._previous = previous
        self._last = -SHORTAGE_LOG_EVERY

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        problem = context.get("exception")
        if isinstance(problem, OSError) and problem.errno in _SHORTAGES:
            now = time.monotonic()
            if now - self._last >= SHORTAGE_LOG_EVERY:
                self._last = now
                log.error("cannot accept connections: %s; new connections wait until some close (said at most"
                          " once a minute)", problem.strerror)
            return
        if self._previous is not None:
            self._previous(loop, context)
        else:
            loop.default_exception_handler(context)


def _log_shortages_calmly(loop: asyncio.AbstractEventLoop) -> None:
    if not isinstance(loop.get_exception_handler(), _CalmShortages):
        loop.set_exception_handler(_CalmShortages(loop.get_exception_handler()))
