"""Reading environment variables as typed values, collecting problems instead of raising."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

T = TypeVar("T")


def split(value: str) -> tuple[str, ...]:
    """The non-empty, stripped items of a comma-separated value."""
    return tuple(item.strip() for item in value.split(",") if item.strip())


class VariableReader:
    """Typed readers of environment variables that record problems instead of stopping at the
    first; each returns None for a variable that is not set."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def get(self, name: str) -> str:
        return self.env.get(name, "").strip()

    def parse(self, name: str, convert: Callable[[str], T], rule: str) -> T | None:
        raw = self.get(name)
        if not raw:
            return None
        try:
            return convert(raw)
        except (ValueError, TypeError):
            self.problems.append(f"{name}: {rule}")
            return None

    def integer(self, name: str, low: int, high: int) -> int | None:
        def convert(raw: str) -> int:
            value = int(raw)
            if not low <= value <= high:
                raise ValueError
            return value
        return self.parse(name, convert, f"a whole number from {low} to {high}")

    def choice(self, name: str, options: tuple[str, ...]) -> str | None:
        def convert(raw: str) -> str:
            if raw not in options:
                raise ValueError
            return raw
        return self.parse(name, convert, "one of " + ", ".join(options))

    def flag(self, name: str) -> bool | None:
        value = self.choice(name, ("true", "false"))
        return None if value is None else value == "true"

    def require(self, name: str) -> str:
        value = self.get(name)
        if not value:
            self.problems.append(f"{name}: required")
        return value


def positive_float(raw: str) -> float:
    """A number above 0 (ValueError otherwise)."""
    value = float(raw)
    if not value > 0:
        raise ValueError
    return value
