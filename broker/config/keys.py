"""The broker's keys: JWT signing keys (an HS256 secret, or ES256 / EdDSA PEM private keys)
and fresh encryption keys for TOKEN_ENCRYPTION_KEYS.

Several PEM keys may be given (concatenated): the first signs, all verify and are published in
the JWKS, which is how keys are rotated without logging anyone out.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from jwt.algorithms import ECAlgorithm, OKPAlgorithm

from broker.config.parsing import split

MIN_SECRET_BYTES = 32
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.+?-----END [A-Z ]*PRIVATE KEY-----",
                        re.DOTALL)


@dataclass(frozen=True)
class SigningKey:
    """One key: its `kid`, the single algorithm it may be used with, and the key material."""

    kid: str
    algorithm: str
    private: Any = field(repr=False)
    public: Any = field(repr=False)
    public_jwk: dict[str, Any] | None = field(default=None, repr=False)


def load_signing_keys(raw: str) -> tuple[SigningKey, ...]:
    """Parse JWT_SIGNING_KEY: PEM private key(s), else a secret of at least 32 bytes."""
    if "-----BEGIN" in raw:
        blocks = _PEM_BLOCK.findall(raw)
        if not blocks:
            raise ValueError("not a readable PEM private key")
        return tuple(_load_pem(block) for block in blocks)
    secret = raw.encode("utf-8")
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"a secret must be at least {MIN_SECRET_BYTES} bytes")
    # Few distinct bytes, or a short pattern repeated ("abcdefghij" * 4): not a random secret.
    if len(set(secret)) < 10 or secret in (secret + secret)[1:-1]:
        raise ValueError("the secret is too repetitive to be random")
    kid = "hs-" + hashlib.sha256(b"kid:" + secret).hexdigest()[:16]
    return (SigningKey(kid=kid, algorithm="HS256", private=secret, public=secret),)


def _load_pem(block: str) -> SigningKey:
    try:
        private = load_pem_private_key(block.encode("ascii"), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError("not a readable, unencrypted PEM private key") from exc
    if isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(private.curve, ec.SECP256R1):
        algorithm = "ES256"
        jwk = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    elif isinstance(private, ed25519.Ed25519PrivateKey):
        algorithm = "EdDSA"
        jwk = json.loads(OKPAlgorithm.to_jwk(private.public_key()))
    else:
        raise ValueError("PEM keys must be EC P-256 (ES256) or Ed25519 (EdDSA)")
    kid = _thumbprint(jwk)
    jwk.update(kid=kid, alg=algorithm, use="sig")
    return SigningKey(kid=kid, algorithm=algorithm, private=private,
                      public=private.public_key(), public_jwk=jwk)


def _thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 JWK thumbprint: a stable `kid` that reveals nothing but the public key."""
    required = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def jwks(keys: tuple[SigningKey, ...]) -> dict[str, list[dict[str, Any]]]:
    """The public JWK Set; empty for a symmetric secret, which is never published."""
    return {"keys": [k.public_jwk for k in keys if k.public_jwk is not None]}


def generate_encryption_key() -> str:
    """A fresh key for TOKEN_ENCRYPTION_KEYS (URL-safe base64 of 32 random bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def load_encryption_keys(raw: str) -> tuple[tuple[bytes, ...], list[int]]:
    """TOKEN_ENCRYPTION_KEYS (comma-separated) decoded, and the 1-based positions of bad keys."""
    keys, unreadable = [], []
    for position, item in enumerate(split(raw), start=1):
        try:
            key = base64.urlsafe_b64decode(item.encode("ascii"))
        except (binascii.Error, UnicodeEncodeError):
            key = b""
        if len(key) != 32:
            unreadable.append(position)
        keys.append(key)
    return tuple(keys), unreadable
