"""A fake Slack on its own event loop in a thread, called with urllib: for hypothesis, whose examples are sync."""

from __future__ import annotations

import asyncio
import json
import threading
import urllib.parse
import urllib.request
from typing import Any

from aiohttp import web

from bot.sandbox.slack import SlackSandboxConfig, create_app


class ThreadedSlack:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.runner = web.AppRunner(create_app(SlackSandboxConfig(rate_limits=False)))
        self.url = ""

    def start(self) -> None:
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            self.loop.run_until_complete(site.start())
            self.url = f"http://127.0.0.1:{self.runner.addresses[0][1]}"
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(self.runner.cleanup())
            self.loop.close()

        self.thread = threading.Thread(target=serve, daemon=True)
        self.thread.start()
        assert ready.wait(10), "the threaded sandbox did not start"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def post(self, blocks: list[dict[str, Any]]) -> dict[str, Any]:
        """chat.postMessage with these blocks, as a JSON body."""
        return self.call("chat.postMessage", json_args={"channel": "C_DEPLOYS", "text": "fallback", "blocks": blocks})

    def call(
        self,
        method: str,
        *,
        query: dict[str, str] | None = None,
        form: dict[str, str] | None = None,
        json_args: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """One Web API call with the bot token in the header; arguments in the query, a form or a JSON body."""
        url = f"{self.url}/api/{method}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        headers = {"Authorization": "Bearer xoxb-sandbox"}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif json_args is not None:
            data = json.dumps(json_args).encode()
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(url, data=data, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
            answer: dict[str, Any] = json.load(response)
            return answer
