"""Contract test: an independent client walks the whole TikTok protocol (tiktok-api.md §11).

It uses nothing but ``requests`` and the stdlib form reader in tests/support/consent.py, as a
third-party TikTok client would; no sandbox internals, no control API except to read the log.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from tests.support.consent import submit_consent

KEY, SECRET = "sbawdevclientkey", "sandbox-dev-client-secret"
REDIRECT = "http://localhost:8000/auth/callback"
MiB = 1024 * 1024


class Zeros:
    def __init__(self, n: int) -> None:
        self.n, self.left = n, n

    def __len__(self) -> int:
        return self.n

    def read(self, size: int = -1) -> bytes:
        size = min(self.left if size < 0 else size, self.left, 1 << 16)
        self.left -= size
        return b"\0" * size


def test_independent_client_contract(sandbox):
    base = sandbox.url
    s = requests.Session()

    # §1: client_key (never client_id), comma-separated scope, hex S256 PKCE.
    verifier = secrets.token_urlsafe(64)[:100]
    challenge = hashlib.sha256(verifier.encode()).hexdigest()
    assert len(challenge) == 64
    query = {"client_key": KEY, "response_type": "code", "redirect_uri": REDIRECT,
             "scope": "user.info.basic,video.publish,video.upload", "state": "c0ntract",
             "code_challenge": challenge, "code_challenge_method": "S256"}
    wrong = s.get(f"{base}/v2/auth/authorize/?" + urlencode(
        {**query, "client_id": KEY, "client_key": ""}), allow_redirects=False)
    assert wrong.status_code == 400 and "Location" not in wrong.headers
    back = submit_consent(s, f"{base}/v2/auth/authorize/?" + urlencode(query), user="-000bob",
                          scopes=["user.info.basic", "video.upload"])
    assert back.status_code == 302
    params = parse_qs(urlsplit(back.headers["Location"]).query)
    assert params["state"] == ["c0ntract"]
    assert params["scopes"] == ["user.info.basic,video.upload"]  # plural, comma-separated
    code = params["code"][0]  # parse_qs URL-decodes, as §1.3 asks

    # §2.1: exchange with the verifier; flat success body.
    form = {"client_key": KEY, "client_secret": SECRET, "grant_type": "authorization_code",
            "code": code, "redirect_uri": REDIRECT, "code_verifier": verifier}
    tok = s.post(f"{base}/v2/oauth/token/", data=form).json()
    assert tok["token_type"] == "Bearer" and tok["open_id"] == "-000bob"
    assert tok["scope"] == "user.info.basic,video.upload"
    # Single-use codes.
    reused = s.post(f"{base}/v2/oauth/token/", data=form).json()
    assert set(reused) == {"error", "error_description", "log_id"}
    assert reused["error"] == "invalid_grant"

    # §2.4: strict rotation: the old refresh token dies.
    ref = {"client_key": KEY, "client_secret": SECRET, "grant_type": "refresh_token"}
    new = s.post(f"{base}/v2/oauth/token/", data={**ref, "refresh_token": tok["refresh_token"]})
    assert new.status_code == 200 and new.json()["refresh_token"] != tok["refresh_token"]
    old = s.post(f"{base}/v2/oauth/token/", data={**ref, "refresh_token": tok["refresh_token"]})
    assert old.json()["error"] == "invalid_grant"
    tok = new.json()
    auth = {"Authorization": f"Bearer {tok['access_token']}"}
    assert len(sandbox.requests(endpoint="token", grant_type="refresh_token")) == 2

    # §4: envelope, only the requested fields, field-by-scope.
    info = s.get(f"{base}/v2/user/info/", params={"fields": "open_id,display_name"},
                 headers=auth)
    assert info.status_code == 200
    assert info.json()["error"]["code"] == "ok"
    assert set(info.json()["data"]["user"]) == {"open_id", "display_name"}
    denied = s.get(f"{base}/v2/user/info/", params={"fields": "username"}, headers=auth)
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "scope_not_authorized"

    # §5.3 + §5.6: inbox upload with floor chunk math, sequential PUTs 206/201, 416.
    size, chunk = 11 * MiB + 123, 5 * MiB
    count = size // chunk
    init = s.post(f"{base}/v2/post/publish/inbox/video/init/", headers=auth, json={
        "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk,
                        "total_chunk_count": count}}).json()
    assert init["error"]["code"] == "ok"
    upload_url, pid = init["data"]["upload_url"], init["data"]["publish_id"]
    ceil = s.post(f"{base}/v2/post/publish/inbox/video/init/", headers=auth, json={
        "source_info": {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk,
                        "total_chunk_count": count + 1}})
    assert ceil.status_code == 400
    statuses = []
    for i in range(count):
        first = i * chunk
        length = size - first if i == count - 1 else chunk
        headers = {"Content-Type": "video/mp4",
                   "Content-Range": f"bytes {first}-{first + length - 1}/{size}"}
        if i == 1:
            skipped = s.put(upload_url, data=Zeros(length), headers={
                **headers, "Content-Range": f"bytes {first + 1}-{first + length}/{size}"})
            assert skipped.status_code == 416
        statuses.append(s.put(upload_url, data=Zeros(length), headers=headers).status_code)
    assert statuses == [206] * (count - 1) + [201]

    # §5.5: status values progress to the inbox's terminal state.
    seen = []
    for _ in range(100):
        data = s.post(f"{base}/v2/post/publish/status/fetch/", headers=auth,
                      json={"publish_id": pid}).json()["data"]
        seen.append(data["status"])
        if data["status"] == "SEND_TO_USER_INBOX":
            break
        time.sleep(0.05)
    assert seen[0] == "PROCESSING_UPLOAD" and seen[-1] == "SEND_TO_USER_INBOX"
    assert data["uploaded_bytes"] == size and data["fail_reason"] == ""
    assert data["publicaly_available_post_id"] == []

    # §3: revoke ends the grant.
    gone = s.post(f"{base}/v2/oauth/revoke/", data={"client_key": KEY, "client_secret": SECRET,
                                                      "token": tok["access_token"]})
    assert gone.status_code == 200
    after = s.get(f"{base}/v2/user/info/", params={"fields": "open_id"}, headers=auth)
    assert after.status_code == 401 and after.json()["error"]["code"] == "access_token_invalid"
