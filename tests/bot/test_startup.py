"""Start-up against Bot API-compatible servers: a custom base URL, and calls a server lacks."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.app import build_application, start_services, stop_services
from bot.fake_api import ApiError, FakeBotApi
from bot.simulator import Simulator
from tests.auxil.clock import FakeClock
from tests.auxil.harness import VISITOR, settings_for, start_harness

TOKEN = "123456:TEST-token-for-a-local-server-abc"


async def test_a_server_without_set_my_commands_logs_a_warning_and_goes_on(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    bot = await start_harness(
        settings_for(database_url), FakeClock(), unsupported={"setMyCommands"}
    )
    assert "startup_call_unsupported method=setMyCommands" in caplog.text
    assert "peer-support bot" in bot.texts(await bot.sim.send(VISITOR, "/start"))[0]
    await bot.stop()


class LocalBotApi(BaseHTTPRequestHandler):
    """A Bot API-compatible HTTP server on loopback, answering from the offline fake."""

    api: FakeBotApi
    paths: list[str]

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        length = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(length).decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            params: dict[str, Any] = json.loads(raw or "{}")
        else:
            params = dict(parse_qsl(raw))
            if "reply_markup" in params:
                params["reply_markup"] = json.loads(params["reply_markup"])
        self.paths.append(self.path)
        method = self.path.rsplit("/", 1)[-1]
        try:
            body = {"ok": True, "result": self.api._answer(method, params)}
            status = 200
        except ApiError as exc:
            body, status = (
                {"ok": False, "error_code": exc.code, "description": exc.description},
                exc.code,
            )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def local_server() -> Iterator[tuple[str, type[LocalBotApi]]]:
    handler = type("Handler", (LocalBotApi,), {"api": FakeBotApi(), "paths": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/bot", handler
    server.shutdown()
    server.server_close()


async def test_the_bot_talks_to_the_server_given_by_telegram_base_url(
    database_url: str,
    local_server: tuple[str, type[LocalBotApi]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for proxy in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(proxy, raising=False)
    base_url, handler = local_server
    settings = settings_for(database_url, token=TOKEN, base_url=base_url)
    app = build_application(settings, clock=FakeClock(), scheduler_paused=True, rate_limit=False)
    await app.initialize()
    await start_services(app)
    try:
        sim = Simulator(app, FakeBotApi())
        await sim.send(VISITOR, "/start")
    finally:
        await app.shutdown()
        await stop_services(app)
    assert f"/bot{TOKEN}/getMe" in handler.paths
    assert f"/bot{TOKEN}/setMyCommands" in handler.paths
    sent = [m for m in handler.api.chat(VISITOR)]
    assert "peer-support bot" in sent[-1]["text"]
