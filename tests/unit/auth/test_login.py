"""The login use case on its own, with fakes around it: no grant re-read after the exchange,
scopes filled from the callback, handoff delivery, and revoke retries on the injected sleep."""

from __future__ import annotations

from typing import Any

import pytest

from broker.auth.jwts import Principal
from broker.auth.login import Login, LoginPolicy
from broker.auth.sessions import Session
from broker.auth.transactions import OAuthTransaction
from broker.errors import BrokerError, UpstreamUnavailable
from broker.tiktok import TikTokGrant


class Recorder:
    """Answers every method call from `answers` (a value, or an exception to raise)."""

    def __init__(self, **answers: Any) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.answers = answers

    def __getattr__(self, name: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((name, args))
            answer = self.answers.get(name)
            if isinstance(answer, list):
                answer = answer.pop(0)
            if isinstance(answer, Exception):
                raise answer
            return answer
        return call

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


GRANT = TikTokGrant(open_id="u1", access_token="act.1", expires_at=2e9, refresh_token="rft.1",
                    refresh_expires_at=1000 + 86_400, scopes=(), issued_at=1000)


class Clock:
    def now(self) -> float:
        return 1000.0


def make(delivery: str = "fragment", **tiktok: Any) -> tuple[Login, dict[str, Recorder], list]:
    store = Recorder()
    parts = {
        "tiktok": Recorder(exchange_code=GRANT, **tiktok),
        "grants": Recorder(),
        "profiles": Recorder(),
        "sessions": Recorder(issue_login_code="login-code-1"),
        "jwts": Recorder(issue="jwt-1"),
        "store": store,
    }
    parts["grants"].store = store  # type: ignore[attr-defined]
    parts["sessions"].answers["create"] = (_session(), "sid.secret")
    slept: list[float] = []
    login = Login(tiktok=parts["tiktok"], transactions=Recorder(), grants=parts["grants"],
                  profiles=parts["profiles"], sessions=parts["sessions"], jwts=parts["jwts"],
                  clock=Clock(), policy=LoginPolicy(864_000, delivery, 60, ("user.info.basic",)),
                  forget_user=lambda open_id: True, sleep=slept.append)
    parts["jwts"].ttl = 900  # type: ignore[attr-defined]
    return login, parts, slept


def _session() -> Session:
    return Session("sid", "u1", ("user.info.basic",))


def test_finish_saves_the_grant_and_never_reads_it_back() -> None:
    login, parts, _ = make()
    done = login.finish(OAuthTransaction("https://spa/", "v" * 64), code="c", error=None,
                        granted="user.info.basic,video.publish")
    assert parts["store"].names() == ["save"]  # no load: the profile uses the grant in hand
    saved = parts["store"].calls[0][1][0]
    assert saved.scopes == ("user.info.basic", "video.publish")  # from the callback (§1.3)
    assert parts["profiles"].names() == ["prefetch"]
    assert done.fragment == {"access_token": "jwt-1", "token_type": "Bearer",
                             "expires_in": "900"}
    assert done.cookie_ttl == 86_400  # never longer than TikTok's refresh token


def test_handoff_delivers_a_login_code() -> None:
    login, _, _ = make("handoff")
    done = login.finish(OAuthTransaction("https://spa/"), code="c", error=None, granted=None)
    assert done.fragment == {"login_code": "login-code-1"}


@pytest.mark.parametrize(("error", "code"), [("access_denied", "access_denied"),
                                             ("server_error", "tiktok_error")])
def test_a_refused_consent_never_reaches_the_token_endpoint(error: str, code: str) -> None:
    login, parts, _ = make()
    with pytest.raises(BrokerError) as caught:
        login.finish(OAuthTransaction("https://spa/"), code="c", error=error, granted=None)
    assert caught.value.code == code and parts["tiktok"].calls == []


def test_revoke_retries_on_the_injected_sleep() -> None:
    down = UpstreamUnavailable()
    login, parts, slept = make(revoke=[down, down, None])
    parts["store"].answers["load"] = GRANT
    login.sign_out(Principal("u1", "sid", frozenset(), "j"), revoke=True)
    assert parts["tiktok"].names() == ["revoke", "revoke", "revoke"]
    assert slept == [0.4, 0.8]
