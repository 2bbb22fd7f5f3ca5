"""Checks made before TikTok is called: text lengths in UTF-16 units, verified URLs, privacy."""

from __future__ import annotations

import pytest

from broker.errors import BrokerError
from broker.posting.rules import (
    check_offered,
    check_privacy,
    check_pull_url,
    post_info_fields,
    url_verified,
    utf16_units,
)
from broker.schemas import VideoPostInfo


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(BrokerError) as caught:
        call(*args, **kwargs)
    return caught.value.code


def test_utf16_units():
    assert utf16_units("abc") == 3
    assert utf16_units("é") == 1
    assert utf16_units("😀") == 2  # outside the BMP: a surrogate pair


@pytest.mark.parametrize(("url", "ok"), [
    ("https://media.example.com/videos/a.mp4", True),
    ("https://media.example.com/other/a.mp4", False),  # outside the prefix
    ("https://media.example.com.evil.net/videos/a.mp4", False),
    ("https://cdn.example.org/a.mp4", True),  # domain entry
    ("https://video.cdn.example.org/a.mp4", True),  # its subdomain
    ("https://notcdn.example.org/a.mp4", False),
    ("https://static.test/anything", True),  # prefix without a path covers the host
    ("https://static.test.evil/anything", False),
])
def test_url_prefix_and_domain_rules(url, ok):
    verified = ("https://media.example.com/videos/", "cdn.example.org", "https://static.test")
    assert url_verified(url, verified) is ok


def test_pull_urls_must_be_https():
    assert code_of(check_pull_url, "http://media.example.com/a.mp4", ()) == "media_url_not_https"
    assert code_of(check_pull_url, 42, ()) == "media_url_not_https"
    assert check_pull_url("https://anywhere.test/a.mp4", ()) == "https://anywhere.test/a.mp4"


@pytest.mark.parametrize("url", [
    "https://evil\\@media.example.com/a.mp4", "https://evil.test\\.media.example.com/a.mp4",
    "https://user:pw@media.example.com/a.mp4", "https://@media.example.com/a.mp4",
    "https://media.example.com/a b.mp4", "https://media.example.com/a\t.mp4",
    "https://media.example.com/\x00.mp4", "https://média.example.com/a.mp4",
])
def test_pull_urls_that_parsers_could_read_differently_are_refused(url):
    prefixes = ("media.example.com", "https://media.example.com/")
    assert code_of(check_pull_url, url, prefixes) == "invalid_media_url"


def test_post_info_sends_what_was_set_and_both_brand_toggles():
    info = post_info_fields(VideoPostInfo.model_validate({"privacy_level": "SELF_ONLY"}))
    assert info == {"privacy_level": "SELF_ONLY", "brand_content_toggle": False,
                    "brand_organic_toggle": False}
    assert post_info_fields(None) == {"brand_content_toggle": False,
                                      "brand_organic_toggle": False}
    # (field types are refused by the request models: tests/unit/test_openapi_models.py)


def test_privacy_rules():
    assert code_of(check_privacy, {}, audited=True) == "privacy_level_required"
    assert code_of(check_privacy, {"privacy_level": "FRIENDS"}, audited=True) == \
        "invalid_privacy_level"
    assert code_of(check_privacy, {"privacy_level": "SELF_ONLY", "brand_content_toggle": True},
                   audited=True) == "branded_content_private"
    assert code_of(check_privacy, {"privacy_level": "PUBLIC_TO_EVERYONE"}, audited=False) == \
        "unaudited_app_self_only"
    check_privacy({"privacy_level": "PUBLIC_TO_EVERYONE", "brand_content_toggle": True},
                  audited=True)


def test_offered_options():
    creator = {"privacy_level_options": ["SELF_ONLY"]}
    check_offered({"privacy_level": "SELF_ONLY"}, creator)
    assert code_of(check_offered, {"privacy_level": "PUBLIC_TO_EVERYONE"}, creator) == \
        "privacy_level_option_mismatch"
    assert code_of(check_offered, {"privacy_level": "SELF_ONLY"},
                   {**creator, "creator_can_post": False}) == "creator_cannot_post"
