"""Authenticated encryption for secrets at rest in Redis (TikTok tokens, OAuth transactions).

AES-256-GCM with the record's purpose and owner as associated data, so a ciphertext copied to
another user's key does not decrypt. Keys are TOKEN_ENCRYPTION_KEYS: the first encrypts, all
decrypt; each ciphertext names its key by a short fingerprint, which makes rotation cheap.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE = 12
_KEY_ID = 4


class VaultError(Exception):
    """The ciphertext cannot be read with any configured key (tampered, moved or key retired)."""


class Vault:
    """Encrypts with the first key, decrypts with whichever key the ciphertext names."""

    def __init__(self, keys: tuple[bytes, ...]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._ciphers = {self._key_id(k): AESGCM(k) for k in reversed(keys)}
        self._current_id = self._key_id(keys[0])

    @staticmethod
    def _key_id(key: bytes) -> bytes:
        return hashlib.sha256(b"vault-key-id:" + key).digest()[:_KEY_ID]

    def encrypt(self, plaintext: bytes, context: str) -> str:
        """Seal `plaintext` for `context` (purpose and owner); returns printable text."""
        nonce = os.urandom(_NONCE)
        sealed = self._ciphers[self._current_id].encrypt(nonce, plaintext, context.encode())
        blob = _VERSION + self._current_id + nonce + sealed
        return base64.urlsafe_b64encode(blob).decode("ascii")

    def decrypt(self, token: str | bytes, context: str) -> bytes:
        """Open a value sealed by `encrypt` for the same context, or raise VaultError."""
        try:
            blob = base64.urlsafe_b64decode(token)
        except ValueError as exc:
            raise VaultError("not a vault value") from exc
        if len(blob) < 1 + _KEY_ID + _NONCE + 16 or blob[:1] != _VERSION:
            raise VaultError("not a vault value")
        key_id, nonce, sealed = blob[1:1 + _KEY_ID], blob[1 + _KEY_ID:1 + _KEY_ID + _NONCE], \
            blob[1 + _KEY_ID + _NONCE:]
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise VaultError("encrypted with a key that is no longer configured")
        try:
            return cipher.decrypt(nonce, sealed, context.encode())
        except InvalidTag as exc:
            raise VaultError("ciphertext does not verify for this owner") from exc

    def is_current(self, token: str | bytes) -> bool:
        """Whether the value is sealed with the current key (else re-encrypt on next write)."""
        try:
            return base64.urlsafe_b64decode(token)[1:1 + _KEY_ID] == self._current_id
        except ValueError:
            return False
