"""The broker's JWTs, in-process: what verifies and every way a forged or stale token is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from broker.auth.jwts import REMEMBERED, JwtService
from broker.config.keys import SigningKey, jwks, load_signing_keys
from broker.errors import InvalidToken

SECRET = "unit-test-jwt-secret-0123456789-abcdefghijklmnop"
ISSUER, AUDIENCE = "https://broker.example.com", "tiktok-broker"


class FakeClock:
    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t


def service(keys: tuple[SigningKey, ...] | None = None, clock: FakeClock | None = None,
            **kw: Any) -> JwtService:
    options = {"issuer": ISSUER, "audience": AUDIENCE, "ttl": 900, "remember": REMEMBERED, **kw}
    return JwtService(keys or load_signing_keys(SECRET), clock=clock or FakeClock(time.time()),
                      **options)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_built(header: dict[str, Any], claims: dict[str, Any], signer: bytes | None) -> str:
    """A compact JWT built by hand (PyJWT refuses to make some of the forgeries)."""
    signing_input = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    if signer is None:
        return signing_input + "."
    mac = hmac.new(signer, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64(mac)


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


def ec_pem() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def ed_pem() -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def test_a_fresh_token_verifies_and_names_its_session() -> None:
    svc = service()
    token = svc.issue("open-1", "sid-1", ("user.info.basic", "video.publish"))
    principal = svc.verify(token)
    assert principal.open_id == "open-1"
    assert principal.session_id == "sid-1"
    assert principal.scopes == frozenset({"user.info.basic", "video.publish"})
    claims = claims_of(token)
    assert claims["scope"] == "user.info.basic video.publish"
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE
    assert claims["exp"] - claims["iat"] == 900
    assert set(claims) >= {"iss", "aud", "sub", "sid", "scope", "iat", "nbf", "exp", "jti"}
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256" and header["kid"] == svc._current.kid


def test_each_token_has_its_own_jti() -> None:
    svc = service()
    assert claims_of(svc.issue("o", "s", ()))["jti"] != claims_of(svc.issue("o", "s", ()))["jti"]


def _refused(svc: JwtService, token: str) -> InvalidToken:
    with pytest.raises(InvalidToken) as caught:
        svc.verify(token)
    assert caught.value.status == 401 and caught.value.code == "invalid_token"
    return caught.value


def test_alg_none_is_refused() -> None:
    svc = service()
    good = svc.issue("open-1", "sid-1", ("user.info.basic",))
    header = {"alg": "none", "typ": "JWT", "kid": jwt.get_unverified_header(good)["kid"]}
    _refused(svc, hand_built(header, claims_of(good), None))
    _refused(svc, hand_built({**header, "alg": "None"}, claims_of(good), None))


def test_hs256_with_the_wrong_secret_is_refused() -> None:
    svc = service()
    good = svc.issue("open-1", "sid-1", ())
    forged = jwt.encode(claims_of(good), "another-secret-of-enough-length-0123456789",
                        algorithm="HS256", headers={"kid": jwt.get_unverified_header(good)["kid"]})
    _refused(svc, forged)


def test_a_tampered_payload_is_refused() -> None:
    svc = service()
    header, _, signature = svc.issue("open-1", "sid-1", ("user.info.basic",)).split(".")
    claims = claims_of(f"{header}.{_}.{signature}")
    claims["sub"] = "open-2"
    _refused(svc, f"{header}.{b64(json.dumps(claims).encode())}.{signature}")


def test_expiry_follows_the_injected_clock() -> None:
    clock = FakeClock(time.time())
    svc = service(clock=clock)
    token = svc.issue("open-1", "sid-1", ())
    clock.t += 890
    assert svc.verify(token).open_id == "open-1"
    clock.t += 20  # past exp (+ 5 s leeway)
    assert "expired" in _refused(svc, token).description


def test_a_token_from_a_clock_far_from_the_wall_clock_verifies_on_that_clock() -> None:
    # Time is injected: a test (or a replica with a skewed clock source) that issues and
    # verifies on the same clock must not depend on the wall clock.
    for offset in (-86_400 * 365, 86_400 * 365):
        svc = service(clock=FakeClock(time.time() + offset))
        assert svc.verify(svc.issue("open-1", "sid-1", ())).open_id == "open-1"


def test_not_yet_valid_is_refused() -> None:
    clock = FakeClock(time.time())
    issuer_svc = service(clock=FakeClock(clock.t + 120))
    _refused(service(clock=clock), issuer_svc.issue("open-1", "sid-1", ()))


class CountingDecode:
    """jwt.decode, counted: how many tokens were verified in full."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls, self._decode = 0, jwt.decode
        monkeypatch.setattr(jwt, "decode", self)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return self._decode(*args, **kwargs)


def test_a_remembered_token_is_verified_once_and_then_only_against_the_clock(
        monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(time.time())
    svc, decode = service(clock=clock), CountingDecode(monkeypatch)
    token = svc.issue("open-1", "sid-1", ("user.info.basic",))
    first, again = svc.verify(token), svc.verify(token)
    assert first == again and decode.calls == 1
    clock.t += 910  # past exp (+ 5 s leeway): remembered or not, it has expired
    assert "expired" in _refused(svc, token).description
    assert decode.calls == 1


def test_a_remembered_token_is_not_valid_before_its_time(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock(time.time())
    token = service(clock=FakeClock(clock.t + 120)).issue("open-1", "sid-1", ())
    svc, decode = service(clock=clock), CountingDecode(monkeypatch)
    assert "not yet valid" in _refused(svc, token).description
    assert "not yet valid" in _refused(svc, token).description
    clock.t += 120
    assert svc.verify(token).open_id == "open-1" and decode.calls == 1


def test_only_the_exact_text_of_a_verified_token_is_remembered(
        monkeypatch: pytest.MonkeyPatch) -> None:
    svc, decode = service(), CountingDecode(monkeypatch)
    token = svc.issue("open-1", "sid-1", ())
    svc.verify(token)
    header, claims, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for forged in (f"{header}.{claims}.{flipped}", token + "x", token[:-1]):
        _refused(svc, forged)
        _refused(svc, forged)  # a refusal is never remembered: verified in full each time
    assert decode.calls == 1 + 2 * 3


def test_remembered_tokens_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    svc = service(remember=3)
    tokens = [svc.issue(f"open-{n}", f"sid-{n}", ()) for n in range(10)]
    for token in tokens:
        svc.verify(token)
    decode = CountingDecode(monkeypatch)
    svc.verify(tokens[-1])
    assert decode.calls == 0  # among the last three
    svc.verify(tokens[0])
    assert decode.calls == 1  # long forgotten: verified in full again


def test_wrong_audience_and_issuer_are_refused() -> None:
    keys = load_signing_keys(SECRET)
    token_other_aud = service(keys, audience="someone-else").issue("o", "s", ())
    token_other_iss = service(keys, issuer="https://evil.example").issue("o", "s", ())
    svc = service(keys)
    _refused(svc, token_other_aud)
    _refused(svc, token_other_iss)


def test_an_audience_list_is_refused_even_if_it_contains_ours() -> None:
    svc = service()
    token = svc.issue("open-1", "sid-1", ())
    claims = claims_of(token)
    kid = jwt.get_unverified_header(token)["kid"]
    listed = jwt.encode({**claims, "aud": [AUDIENCE, "other"]}, SECRET.encode(),
                        algorithm="HS256", headers={"kid": kid})
    _refused(svc, listed)


def test_no_kid_and_unknown_kid_are_refused() -> None:
    svc = service()
    claims = claims_of(svc.issue("open-1", "sid-1", ()))
    secret = SECRET.encode()
    _refused(svc, jwt.encode(claims, secret, algorithm="HS256"))
    _refused(svc, jwt.encode(claims, secret, algorithm="HS256", headers={"kid": "other"}))
    _refused(svc, hand_built({"alg": "HS256", "kid": 7}, claims, secret))
    _refused(svc, hand_built({"alg": "HS256", "kid": None}, claims, secret))


@pytest.mark.parametrize("missing", ["iss", "aud", "sub", "sid", "scope", "iat", "nbf", "exp",
                                     "jti"])
def test_missing_required_claims_are_refused(missing: str) -> None:
    svc = service()
    good = svc.issue("open-1", "sid-1", ("user.info.basic",))
    claims = claims_of(good)
    del claims[missing]
    token = jwt.encode(claims, SECRET.encode(), algorithm="HS256",
                       headers={"kid": jwt.get_unverified_header(good)["kid"]})
    _refused(svc, token)


@pytest.mark.parametrize(("claim", "value"), [
    ("sub", 123), ("sid", ["x"]), ("scope", None), ("exp", "tomorrow"), ("nbf", "now"),
    ("iat", "now"), ("exp", True), ("exp", float("inf")), ("exp", float("nan")),
])
def test_claims_of_the_wrong_type_are_refused(claim: str, value: Any) -> None:
    svc = service()
    good = svc.issue("open-1", "sid-1", ("user.info.basic",))
    claims = {**claims_of(good), claim: value}
    token = jwt.encode(claims, SECRET.encode(), algorithm="HS256",
                       headers={"kid": jwt.get_unverified_header(good)["kid"]})
    _refused(svc, token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9..", "..."])
def test_garbage_is_refused(garbage: str) -> None:
    _refused(service(), garbage)


def test_algorithm_confusion_hs256_signed_with_the_public_key_is_refused() -> None:
    keys = load_signing_keys(ec_pem())
    svc = service(keys)
    good = svc.issue("open-1", "sid-1", ())
    public_pem = keys[0].public.public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": keys[0].kid}
    _refused(svc, hand_built(header, claims_of(good), public_pem))
    jwk_json = json.dumps(keys[0].public_jwk).encode()
    _refused(svc, hand_built(header, claims_of(good), jwk_json))


@pytest.mark.parametrize(("make_pem", "alg", "kty"), [(ec_pem, "ES256", "EC"),
                                                      (ed_pem, "EdDSA", "OKP")])
def test_pem_keys_sign_verify_and_are_published(make_pem: Any, alg: str, kty: str) -> None:
    keys = load_signing_keys(make_pem())
    svc = service(keys)
    token = svc.issue("open-1", "sid-1", ())
    assert jwt.get_unverified_header(token)["alg"] == alg
    assert svc.verify(token).open_id == "open-1"
    (published,) = jwks(keys)["keys"]
    assert published["kty"] == kty and published["alg"] == alg and published["use"] == "sig"
    assert "d" not in published  # never the private part
    # kid is the RFC 7638 thumbprint: SHA-256 of the required members, sorted, no spaces.
    required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}[kty]
    canonical = json.dumps({k: published[k] for k in required}, separators=(",", ":"),
                           sort_keys=True).encode()
    assert published["kid"] == b64(hashlib.sha256(canonical).digest()) == keys[0].kid
    # A third party can verify with the published JWK alone.
    public = jwt.PyJWK(published).key
    assert jwt.decode(token, public, algorithms=[alg], audience=AUDIENCE)["sub"] == "open-1"


def test_rfc7638_thumbprint_matches_the_rfc_example() -> None:
    # RFC 7638 §3.1's example is RSA; for EC we check against an independent computation
    # with PyJWT's own JWK export of the same key.
    pem = ec_pem()
    key = load_signing_keys(pem)[0]
    exported = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(key.public))
    members = json.dumps({"crv": exported["crv"], "kty": "EC", "x": exported["x"],
                          "y": exported["y"]}, separators=(",", ":")).encode()
    assert key.kid == b64(hashlib.sha256(members).digest())


def test_hs256_secret_is_never_published() -> None:
    keys = load_signing_keys(SECRET)
    assert jwks(keys) == {"keys": []}
    assert SECRET not in repr(keys)


def test_two_pem_keys_first_signs_both_verify() -> None:
    old_pem, new_pem = ec_pem(), ed_pem()
    old_svc = service(load_signing_keys(old_pem))
    rotated_keys = load_signing_keys(new_pem + "\n" + old_pem)
    rotated = service(rotated_keys)
    old_token = old_svc.issue("open-1", "sid-1", ())
    new_token = rotated.issue("open-1", "sid-2", ())
    assert jwt.get_unverified_header(new_token)["kid"] == rotated_keys[0].kid
    assert jwt.get_unverified_header(new_token)["alg"] == "EdDSA"
    assert rotated.verify(old_token).session_id == "sid-1"
    assert rotated.verify(new_token).session_id == "sid-2"
    assert [k["kid"] for k in jwks(rotated_keys)["keys"]] == [k.kid for k in rotated_keys]
    _refused(old_svc, new_token)  # the old service never knew the new key


def test_a_token_signed_by_one_rotated_key_with_the_others_kid_is_refused() -> None:
    a, b = load_signing_keys(ec_pem())[0], load_signing_keys(ec_pem())[0]
    svc = service((a, b))
    claims = claims_of(svc.issue("open-1", "sid-1", ()))
    token = jwt.encode(claims, b.private, algorithm="ES256", headers={"kid": a.kid})
    _refused(svc, token)


@pytest.mark.parametrize("raw", [
    "-----BEGIN PRIVATE KEY-----\nnot base64\n-----END PRIVATE KEY-----",
    "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----",
])
def test_unreadable_pem_is_a_value_error(raw: str) -> None:
    with pytest.raises(ValueError):
        load_signing_keys(raw)


def test_rsa_and_other_curves_are_refused() -> None:
    for private in (ec.generate_private_key(ec.SECP384R1()),
                    rsa.generate_private_key(public_exponent=65537, key_size=1024)):
        pem = private.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
        with pytest.raises(ValueError, match="P-256"):
            load_signing_keys(pem)
