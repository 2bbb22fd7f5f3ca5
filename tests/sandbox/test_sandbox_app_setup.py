"""Mistakes in an app's registration the sandbox can be set up with (for `broker doctor`)."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime

from tests.sandbox.conftest import TikTokClient
from tests.support.sandbox import Sandbox


def test_a_scope_the_app_is_not_approved_for_fails_the_authorize_page(tt: TikTokClient,
                                                                      sandbox: Sandbox) -> None:
    assert tt.http.get(tt.authorize_url(scope="user.info.basic,video.list"),
                       timeout=10).status_code == 200
    sandbox.configure(approved_scopes=["user.info.basic", "video.publish"])
    refused = tt.http.get(tt.authorize_url(scope="user.info.basic,video.list"), timeout=10)
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert '<strong class="bad-param">scope</strong>' in refused.text  # §5.11, §1.3
    assert tt.http.get(tt.authorize_url(scope="user.info.basic"), timeout=10).status_code == 200


def test_other_mistakes_are_named_on_the_error_page(tt: TikTokClient) -> None:
    for overrides, param in (({"redirect_uri": tt.redirect_uri + "/"}, "redirect_uri"),
                             ({"code_challenge": ""}, "code_challenge"),
                             ({"client_key": "sbawsomeoneelse"}, "client_key")):
        page = tt.http.get(tt.authorize_url(**overrides), timeout=10)
        assert f'<strong class="bad-param">{param}</strong>' in page.text


def test_client_credentials_check_the_secret(tt: TikTokClient) -> None:
    good = tt.token(grant_type="client_credentials")
    assert good.status_code == 200 and good.json()["access_token"].startswith("clt.")
    bad = tt.http.post(f"{tt.url}/v2/oauth/token/", timeout=10, data={
        "client_key": tt.client_key, "client_secret": "wrong",
        "grant_type": "client_credentials"})
    assert bad.json()["error"] == "invalid_client"


def test_the_date_header_follows_the_sandbox_clock(tt: TikTokClient, sandbox: Sandbox) -> None:
    def skew() -> float:
        answer = tt.token(grant_type="client_credentials")
        return parsedate_to_datetime(answer.headers["Date"]).timestamp() - time.time()
    assert abs(skew()) < 2
    sandbox.advance_clock(-600)
    assert abs(skew() + 600) < 2
    assert tt.http.get(f"{tt.url}/_sandbox/health", timeout=10).headers["Date"].count(",") == 1
