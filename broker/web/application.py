"""The Flask class the broker is built on: Flask, minus a per-request cost it does not need."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask


class BrokerFlask(Flask):
    """Flask, answering `ensure_sync` once per function.

    Flask asks `ensure_sync` of every hook and view on every request, and each answer is an
    `inspect.iscoroutinefunction` call; the broker's seven hooks and its view paid that on every
    call. The hooks and views are fixed once the app is built, so the answer is kept. Keyed by
    the function object itself: no answer is ever reused for another function. Bounded: a
    function made per request (`after_this_request`) is answered afresh once the memo is full.
    """

    MEMO = 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer for `func`, computed once."""
        found = self._sync.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(self._sync) < self.MEMO:
                self._sync[func] = found
        return found
