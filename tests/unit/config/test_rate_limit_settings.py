"""RATE_LIMIT_* variables: defaults, the `limits` syntax, and every problem reported at once."""

from __future__ import annotations

import pytest

from broker.config.environment import ConfigError
from broker.config.settings import Settings
from tests.support.env import valid_env


def problems_for(**env: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(valid_env(**env))
    return caught.value.problems


def test_defaults_limit_sign_in_and_api() -> None:
    settings = Settings.from_env(valid_env())
    assert settings.rate_limit_enabled is True
    assert settings.rate_limit_login == "30/minute"
    assert settings.rate_limit_api == "300/minute"


@pytest.mark.parametrize("value", ["3/minute", "3 per minute", "10/second;300/minute",
                                   "1000/hour", "5/2 seconds"])
def test_limits_syntax_is_accepted(value: str) -> None:
    settings = Settings.from_env(valid_env(RATE_LIMIT_LOGIN=value, RATE_LIMIT_API=value))
    assert settings.rate_limit_login == value
    assert settings.rate_limit_api == value


def test_limits_are_off_in_development_unless_switched_on() -> None:
    dev = valid_env(BROKER_ENV="development")
    assert Settings.from_env(dev).rate_limit_enabled is False
    assert Settings.from_env({**dev, "RATE_LIMIT_ENABLED": "true"}).rate_limit_enabled is True


def test_switching_limits_off() -> None:
    assert Settings.from_env(valid_env(RATE_LIMIT_ENABLED="false")).rate_limit_enabled is False
    assert Settings.from_env(valid_env(RATE_LIMIT_ENABLED="true")).rate_limit_enabled is True


@pytest.mark.parametrize("value", ["30", "thirty/minute", "30/fortnight", "0/minute",
                                   "-1/minute", "30/minute;nonsense"])
def test_bad_limits_are_refused_by_name(value: str) -> None:
    problems = problems_for(RATE_LIMIT_LOGIN=value, RATE_LIMIT_API=value)
    assert [p.split(":")[0] for p in problems] == ["RATE_LIMIT_LOGIN", "RATE_LIMIT_API"]
    assert all("30/minute" in p for p in problems)  # the message shows the syntax


def test_every_rate_limit_problem_is_reported_with_the_others() -> None:
    problems = problems_for(RATE_LIMIT_ENABLED="maybe", RATE_LIMIT_API="lots",
                            TIKTOK_CLIENT_KEY="")
    names = {p.split(":")[0] for p in problems}
    assert names == {"RATE_LIMIT_ENABLED", "RATE_LIMIT_API", "TIKTOK_CLIENT_KEY"}
