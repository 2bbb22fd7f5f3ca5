"""Webhook signature checks (§6) and envelope parsing."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from broker.errors import BrokerError
from broker.tiktok.webhook_signature import SignatureInvalid, parse, verify

SECRET = "client-secret"
BODY = b'{"event":"post.publish.complete","content":"{\\"publish_id\\":\\"v_pub_url~v2.1\\"}"}'
NOW = 1_700_000_000
ARABIC_DIGITS = "\u0661\u0667" + "\u0660" * 8  # 1700000000, digits to str.isdigit


def sign(t: int, body: bytes = BODY, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()


def test_valid_and_recent():
    assert verify(f"t={NOW},s={sign(NOW)}", BODY, SECRET, NOW + 10, 300) is True


def test_valid_but_old_is_reported_not_raised():
    assert verify(f"t={NOW},s={sign(NOW)}", BODY, SECRET, NOW + 301, 300) is False
    assert verify(f"t={NOW},s={sign(NOW)}", BODY, SECRET, NOW - 301, 300) is False


def test_spaces_uppercase_hex_and_several_signatures():
    header = f" t={NOW} , s=deadbeef , s={sign(NOW).upper()} "
    assert verify(header, BODY, SECRET, NOW, 300) is True


def test_millisecond_timestamps():
    t = NOW * 1000
    assert verify(f"t={t},s={sign(t)}", BODY, SECRET, NOW, 300) is True


@pytest.mark.parametrize("header", [
    "", "garbage", f"s={sign(NOW)}", f"t={NOW}", f"t=abc,s={sign(NOW)}",
    f"t={NOW},t={NOW},s={sign(NOW)}", f"t={NOW},s={sign(NOW, secret='other')}",
    f"t={NOW + 1},s={sign(NOW)}", f"t={NOW},s={sign(NOW, body=BODY + b' ')}",
    f"t={NOW},s={'é' * 64}", f"t={NOW},s={sign(NOW)[:-1]}ü", f"t={ARABIC_DIGITS},s={sign(NOW)}",
    f"t={NOW},s={sign(NOW)}0",
])
def test_bad_signatures_raise(header):
    with pytest.raises(SignatureInvalid):
        verify(header, BODY, SECRET, NOW, 300)


def test_content_is_parsed_a_second_time():
    event = parse(BODY)
    assert event["content"] == {"publish_id": "v_pub_url~v2.1"}


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"content": "{}"}',
                                  json.dumps({"event": "x", "content": "{bad"}).encode(),
                                  b"[" * 100_000 + b"]" * 100_000,
                                  json.dumps({"event": "x",
                                              "content": "[" * 100_000 + "]" * 100_000}).encode()])
def test_malformed_envelopes(body):
    with pytest.raises(BrokerError) as caught:
        parse(body)
    assert caught.value.code == "webhook_malformed"
