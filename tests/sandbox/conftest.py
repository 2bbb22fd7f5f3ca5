"""Fixtures for the sandbox's own tests: one sandbox process per session, reset per test."""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from tests.support.consent import submit_consent
from tests.support.sandbox import Sandbox, start_sandbox

CLIENT_KEY = "sbawdevclientkey"
CLIENT_SECRET = "sandbox-dev-client-secret"
REDIRECT_URI = "http://localhost:8000/auth/callback"
ALL_SCOPES = "user.info.basic,user.info.profile,user.info.stats,video.publish,video.upload"
TEST_ENV = {"SANDBOX_PROCESSING_SECONDS": "0.3", "SANDBOX_WEBHOOK_BACKOFF": "0.05"}


@pytest.fixture(scope="session")
def sandbox() -> Iterator[Sandbox]:
    """The sandbox as a real subprocess, fast processing for tests."""
    with start_sandbox(env=TEST_ENV) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _reset(request: pytest.FixtureRequest) -> None:
    """Every test starts from the sandbox's start-up state."""
    if "sandbox" in request.fixturenames:
        request.getfixturevalue("sandbox").reset()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A plain HTTP client."""
    with requests.Session() as session:
        yield session


def pkce_pair() -> tuple[str, str]:
    """(verifier, hex S256 challenge) as TikTok documents (tiktok-api.md §1.2)."""
    verifier = secrets.token_urlsafe(48)
    return verifier, hashlib.sha256(verifier.encode()).hexdigest()


class TikTokClient:
    """A plain HTTP client of the sandbox, speaking TikTok's protocol by hand."""

    client_key = CLIENT_KEY
    client_secret = CLIENT_SECRET
    redirect_uri = REDIRECT_URI
    all_scopes = ALL_SCOPES

    def __init__(self, sandbox: Sandbox, http: requests.Session) -> None:
        self.sb = sandbox
        self.http = http
        self.url = sandbox.url

    pkce_pair = staticmethod(pkce_pair)

    def authorize_url(self, **overrides: str) -> str:
        """A valid authorize URL with a fresh hex challenge; a value of "" drops a param."""
        _, challenge = pkce_pair()
        params = {"client_key": CLIENT_KEY, "response_type": "code", "scope": ALL_SCOPES,
                  "redirect_uri": REDIRECT_URI, "state": "st-123", "code_challenge": challenge,
                  "code_challenge_method": "S256", **overrides}
        return f"{self.url}/v2/auth/authorize/?" + urlencode({k: v for k, v in params.items() if v})

    @staticmethod
    def callback(resp: requests.Response) -> dict[str, str]:
        """The decoded query of a 302 back to the redirect URI."""
        assert resp.status_code == 302, resp.text
        location = resp.headers["Location"]
        assert location.startswith(REDIRECT_URI + "?")
        return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    def consent(self, url: str, **kw: Any) -> requests.Response:
        """Submit the consent form at ``url``."""
        return submit_consent(self.http, url, **kw)

    def get_code(self, user: str = "-000alice", scopes: str = ALL_SCOPES) -> tuple[str, str]:
        """Run the consent flow; returns (code, verifier)."""
        verifier, challenge = pkce_pair()
        url = self.authorize_url(scope=scopes, code_challenge=challenge)
        return self.callback(self.consent(url, user=user))["code"], verifier

    def token(self, **form: str) -> requests.Response:
        """POST the token endpoint with the app's credentials plus ``form``."""
        body = {"client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, **form}
        return self.http.post(f"{self.url}/v2/oauth/token/", data=body, timeout=10)

    def exchange(self, code: str, verifier: str) -> requests.Response:
        """The authorization_code grant."""
        return self.token(grant_type="authorization_code", code=code,
                          redirect_uri=REDIRECT_URI, code_verifier=verifier)

    def refresh(self, refresh_token: str) -> requests.Response:
        """The refresh_token grant."""
        return self.token(grant_type="refresh_token", refresh_token=refresh_token)

    def revoke(self, token: str) -> requests.Response:
        """POST the revoke endpoint."""
        return self.http.post(f"{self.url}/v2/oauth/revoke/", timeout=10, data={
            "client_key": CLIENT_KEY, "client_secret": CLIENT_SECRET, "token": token})

    def login(self, user: str = "-000alice", scopes: str = ALL_SCOPES) -> dict[str, Any]:
        """Consent plus code exchange; returns the token body."""
        resp = self.exchange(*self.get_code(user, scopes))
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    @staticmethod
    def bearer(tokens: dict[str, Any] | str) -> dict[str, str]:
        """Authorization header for a token (or token response)."""
        token = tokens if isinstance(tokens, str) else tokens["access_token"]
        return {"Authorization": f"Bearer {token}"}

    def api(self, method: str, path: str, tokens: dict[str, Any] | str,
            **kw: Any) -> requests.Response:
        """Call a v2 API path with a bearer token."""
        return self.http.request(method, f"{self.url}{path}", headers=self.bearer(tokens),
                                 timeout=30, **kw)

    def user_info(self, tokens: dict[str, Any], fields: str) -> requests.Response:
        """GET /v2/user/info/."""
        return self.api("GET", "/v2/user/info/", tokens, params={"fields": fields})

    def post(self, path: str, tokens: dict[str, Any], body: Any = None) -> requests.Response:
        """POST a content-posting endpoint with a JSON body."""
        return self.api("POST", f"/v2/post/publish/{path}", tokens, json=body or {})

    def status(self, tokens: dict[str, Any], publish_id: str) -> requests.Response:
        """POST status/fetch."""
        return self.post("status/fetch/", tokens, {"publish_id": publish_id})


    def put_chunk(self, upload_url: str, first: int, length: int, total: int, *,
                  content_type: str = "video/mp4", content_range: str | None = None,
                  fill: bytes = b"\0") -> requests.Response:
        """PUT ``length`` generated bytes as one chunk, streamed (never held in memory)."""
        rng = content_range or f"bytes {first}-{first + length - 1}/{total}"
        return self.http.put(upload_url, data=ByteStream(length, fill), timeout=120,
                             headers={"Content-Type": content_type, "Content-Range": rng})

    def init_upload(self, tokens: dict[str, Any], size: int, chunk: int, count: int,
                    path: str = "video/init/", privacy: str = "SELF_ONLY") -> requests.Response:
        """A FILE_UPLOAD init (direct by default)."""
        body: dict[str, Any] = {"source_info": {"source": "FILE_UPLOAD", "video_size": size,
                                                "chunk_size": chunk, "total_chunk_count": count}}
        if path == "video/init/":
            body["post_info"] = {"privacy_level": privacy, "title": "sandbox test"}
        return self.post(path, tokens, body)


class ByteStream:
    """A file-like body of ``size`` bytes generated on the fly; requests sends Content-Length."""

    def __init__(self, size: int, fill: bytes = b"\0") -> None:
        self.remaining = size
        self.size = size
        self.block = fill * 65536

    def __len__(self) -> int:
        return self.size

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` more bytes (all remaining, in blocks, when n < 0)."""
        n = self.remaining if n < 0 else min(n, self.remaining)
        n = min(n, len(self.block))
        self.remaining -= n
        return self.block[:n]


@pytest.fixture
def tt(sandbox: Sandbox, http: requests.Session) -> TikTokClient:
    """A hand-written TikTok client bound to the session's sandbox."""
    return TikTokClient(sandbox, http)


class Receiver:
    """A webhook receiver: records every delivery; answers ``fail_first`` with 500 first."""

    def __init__(self) -> None:
        self.deliveries: list[dict[str, Any]] = []
        self.fail_first = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    receiver.deliveries.append({"headers": dict(self.headers), "body": body})
                    failing = receiver.fail_first > 0
                    receiver.fail_first -= 1
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhooks/tiktok"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[dict[str, Any]]:
        """Parsed bodies received so far."""
        with self.lock:
            return [json.loads(d["body"]) for d in self.deliveries]


@pytest.fixture
def receiver(sandbox: Sandbox) -> Iterator[Receiver]:
    """A live webhook receiver, registered as the sandbox's webhook URL."""
    rec = Receiver()
    sandbox.configure(webhook_url=rec.url)
    yield rec
    rec.server.shutdown()
    rec.server.server_close()
