"""BrokerFlask: Flask's ensure_sync, answered once per function and still right for each."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask, after_this_request

from broker.web.application import BrokerFlask


def test_each_function_is_asked_of_flask_once_and_gets_flasks_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[object] = []

    def flasks_answer(self: Flask, func: Callable[..., object]) -> Callable[..., object]:
        asked.append(func)
        return lambda: ("wrapped", func())

    monkeypatch.setattr(Flask, "ensure_sync", flasks_answer)
    app = BrokerFlask(__name__)

    def one() -> str:
        return "one"

    def two() -> str:
        return "two"

    for _ in range(3):
        assert app.ensure_sync(one)() == ("wrapped", "one")
        assert app.ensure_sync(two)() == ("wrapped", "two")
    assert asked == [one, two]


def test_hooks_made_per_request_do_not_grow_the_memo() -> None:
    app = BrokerFlask(__name__)

    @app.get("/")
    def index() -> str:
        @after_this_request
        def stamp(response):  # type: ignore[no-untyped-def]
            response.headers["X-Stamp"] = "1"
            return response
        return "ok"

    client = app.test_client()
    for _ in range(BrokerFlask.MEMO + 50):
        assert client.get("/").headers["X-Stamp"] == "1"
    assert len(app._sync) <= BrokerFlask.MEMO
