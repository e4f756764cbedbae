"""The edges that face the internet (bot/web.py): slow clients are let go, a crowd is answered 503, a
shortage of open files is logged once a minute; Slack's HTTP endpoint refuses unsigned requests in one
short log line. Everything over real sockets, against real aiohttp servers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.config import parse_config
from bot.platforms.slack.runner import EVENTS_PATH, run_slack
from bot.web import serve
from databases import database_for
from fakes.slack_server import FakeSlack, signed_headers, slash_command_body

REPO = Path(__file__).resolve().parents[1]


def hello_app() -> web.Application:
    async def hello(request: web.Request) -> web.Response:
        return web.Response(text=f"hello, {len(await request.read())} bytes")

    app = web.Application()
    app.router.add_post("/", hello)
    return app


async def post(port: int, body: bytes = b"hi") -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.post(f"http://127.0.0.1:{port}/", data=body) as reply:
        return reply.status, await reply.text()


async def test_slow_clients_are_let_go_and_the_server_keeps_answering(unused_tcp_port):
    runner = await serve(hello_app(), "127.0.0.1", unused_tcp_port, head_seconds=0.5)
    clients = []

    async def trickle(writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while True:  # one more header byte every 0.1 s: the head never ends
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.1)

    try:
        for _ in range(300):
            reader, writer = await asyncio.open_connection("127.0.0.1", unused_tcp_port)
            writer.write(b"POST / HTTP/1.1\r\nHost: bot\r\nX-Slow: ")
            clients.append((reader, writer, asyncio.create_task(trickle(writer))))
        # The server closes each: reading ends. A client kept would trickle on for ever, so the read's own
        # bound shows it was let go, however busy the machine running the tests.
        # A socket closed with bytes it did not read is reset by the kernel (RFC 2525, 2.17): an RST instead of
        # an end of stream, whichever reaches the client first. Either is the server letting go.
        for reader, _, _ in clients:
            try:
                assert await asyncio.wait_for(reader.read(), 10) == b""
            except ConnectionResetError:
                pass
        assert await post(unused_tcp_port) == (200, "hello, 2 bytes")
    finally:
        for _, writer, task in clients:
            task.cancel()
            writer.close()
        await runner.cleanup()


async def test_a_body_that_does_not_arrive_in_time_gets_408_and_the_connection_closes(unused_tcp_port):
    runner = await serve(hello_app(), "127.0.0.1", unused_tcp_port, body_seconds=0.5)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", unused_tcp_port)
        writer.write(b"POST / HTTP/1.1\r\nHost: bot\r\nContent-Length: 1000\r\n\r\nten bytes.")
        answer = await asyncio.wait_for(reader.read(), 5)  # all of it: the server closes the connection
        assert answer.startswith(b"HTTP/1.1 408")
        writer.close()
        assert await post(unused_tcp_port) == (200, "hello, 2 bytes")
    finally:
        await runner.cleanup()


async def test_past_the_cap_a_request_is_answered_503_at_once(unused_tcp_port):
    runner = await serve(hello_app(), "127.0.0.1", unused_tcp_port, body_seconds=5, max_requests=5)
    writers = []
    try:
        for _ in range(5):  # five requests whose bodies are still coming
            reader, writer = await asyncio.open_connection("127.0.0.1", unused_tcp_port)
            writer.write(b"POST / HTTP/1.1\r\nHost: bot\r\nContent-Length: 100\r\n\r\nsome")
            writers.append(writer)
        await asyncio.sleep(0.2)
        started = time.monotonic()
        status, text = await post(unused_tcp_port)
        assert (status, text) == (503, "too many requests at once; try again in a second")
        assert time.monotonic() - started < 4, "answered at once, not after the 5 s the others may take"
        for writer in writers:
            writer.write(b"x" * 96)  # they finish: room again
        await asyncio.sleep(0.2)
        assert await post(unused_tcp_port) == (200, "hello, 2 bytes")
    finally:
        for writer in writers:
            writer.close()
        await runner.cleanup()


# A server allowed 64 open files, held for four seconds while the test opens 150 connections to it.
SHORT_OF_FILES = """
import asyncio, logging, resource, sys
from aiohttp import web
from bot.web import serve

async def main(port):
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    runner = await serve(web.Application(), "127.0.0.1", port, head_seconds=30)
    print("ready", flush=True)
    await asyncio.sleep(4)
    await runner.cleanup()

asyncio.run(main(int(sys.argv[1])))
"""


async def test_running_out_of_open_files_is_said_once_not_in_a_traceback_every_second(unused_tcp_port):
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SHORT_OF_FILES, str(unused_tcp_port), cwd=REPO, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    assert await asyncio.wait_for(server.stdout.readline(), 30) == b"ready\n"
    held = []
    for _ in range(150):
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            held.append(await asyncio.wait_for(asyncio.open_connection("127.0.0.1", unused_tcp_port), 0.5))
    _, err = await asyncio.wait_for(server.communicate(), 30)
    for _, writer in held:
        writer.close()
    log = err.decode()
    # Without it, asyncio wrote 627 tracebacks (262 KB) in those four seconds here.
    assert log.count("cannot accept connections: Too many open files") == 1, log[:2000]
    assert "Traceback" not in log and len(log) < 1000


async def test_unsigned_requests_to_slack_are_refused_in_one_short_log_line(tmp_path, unused_tcp_port, caplog):
    caplog.set_level(logging.DEBUG)
    fake = FakeSlack(team_id="T0001")
    fake.add_user("U0ALICE", "alice")
    fake.add_channel("C0GENERAL", "general")
    await fake.start()
    config = parse_config(f'[slack]\napi_base_url = "{fake.api_base}"\nhost = "127.0.0.1"\nport = {unused_tcp_port}\n',
                          base_dir=tmp_path)
    running = asyncio.create_task(run_slack(config, bot_token="xoxb-test", signing_secret="the secret",
                                            database=database_for(tmp_path)))
    url = f"http://127.0.0.1:{unused_tcp_port}{EVENTS_PATH}"
    huge = b"payload=" + b"A" * (1024 * 1024 - 100)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):  # the server takes a moment to start listening
                with contextlib.suppress(aiohttp.ClientConnectionError):
                    async with session.post(url, data=b"") as first:
                        assert first.status == 401
                    break
                await asyncio.sleep(0.1)
            # What the bot's own background work logs meanwhile (aiosqlite writes every statement at DEBUG, and
            # a slow machine may still be applying migrations) is not the refusals' log: it is left out.
            def refusals_log() -> int:
                return sum(len(r.getMessage()) for r in caplog.records if not r.name.startswith("aiosqlite"))

            before = refusals_log()
            hostile = [{}, {"X-Slack-Request-Timestamp": "²", "X-Slack-Signature": "v0=" + "a" * 64},
                       {"X-Slack-Request-Timestamp": "9" * 400, "X-Slack-Signature": "v0=é"},
                       signed_headers("not the secret", huge.decode())]
            for n in range(100):
                async with session.post(url, data=huge, headers=hostile[n % len(hostile)]) as refused:
                    assert refused.status == 401
            logged = refusals_log() - before
            assert logged < 100 * 200, f"{logged} bytes of log for 100 refusals"  # Bolt alone wrote 100 MB
            assert not any("AAAA" in r.getMessage() for r in caplog.records), "no body in the log"
            body = slash_command_body(command="/smallstep", text="share", user_id="U0ALICE", user_name="alice",
                                      channel_id="C0GENERAL", team_id="T0001", response_url=fake.response_url())
            async with session.post(url, data=body, headers=signed_headers("the secret", body)) as signed:
                assert signed.status == 200
        await fake.wait_for(lambda: fake.responses, timeout=30)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await fake.close()
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
