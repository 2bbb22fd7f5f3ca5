"""Vault: AES-GCM sealing bound to a context, tamper detection, key rotation."""

from __future__ import annotations

import base64
import os

import pytest

from broker.storage.vault import Vault, VaultError

OLD, NEW, STRANGER = os.urandom(32), os.urandom(32), os.urandom(32)


def test_round_trip() -> None:
    vault = Vault((NEW,))
    sealed = vault.encrypt(b"act.secret-access-token", "grant:user-1")
    assert vault.decrypt(sealed, "grant:user-1") == b"act.secret-access-token"
    assert vault.decrypt(sealed.encode(), "grant:user-1") == b"act.secret-access-token"


def test_sealed_text_is_printable_and_holds_no_plaintext() -> None:
    vault = Vault((NEW,))
    sealed = vault.encrypt(b"act.secret-access-token", "grant:user-1")
    assert sealed.isascii() and sealed.isprintable()
    assert "secret" not in sealed
    assert b"secret" not in base64.urlsafe_b64decode(sealed)


def test_each_encryption_uses_a_fresh_nonce() -> None:
    vault = Vault((NEW,))
    assert vault.encrypt(b"same", "ctx") != vault.encrypt(b"same", "ctx")


def test_a_value_does_not_open_under_another_users_context() -> None:
    vault = Vault((NEW,))
    sealed = vault.encrypt(b"act.user-1-token", "grant:user-1")
    with pytest.raises(VaultError):
        vault.decrypt(sealed, "grant:user-2")


@pytest.mark.parametrize("position", [0, 3, 10, 20, -1])
def test_tampering_anywhere_is_detected(position: int) -> None:
    vault = Vault((NEW,))
    blob = bytearray(base64.urlsafe_b64decode(vault.encrypt(b"payload-bytes", "ctx")))
    blob[position] ^= 0x01
    with pytest.raises(VaultError):
        vault.decrypt(base64.urlsafe_b64encode(bytes(blob)).decode(), "ctx")


@pytest.mark.parametrize("garbage", ["", "not base64 !!", "AAAA", "é", "x" * 7])
def test_garbage_is_a_vault_error(garbage: str) -> None:
    with pytest.raises(VaultError):
        Vault((NEW,)).decrypt(garbage, "ctx")


def test_truncated_value_is_refused() -> None:
    vault = Vault((NEW,))
    sealed = vault.encrypt(b"payload-bytes", "ctx")
    with pytest.raises(VaultError):
        vault.decrypt(sealed[:-8], "ctx")


def test_rotation_old_values_open_while_the_old_key_is_listed_second() -> None:
    before = Vault((OLD,)).encrypt(b"sealed-with-old", "ctx")
    rotated = Vault((NEW, OLD))
    assert rotated.decrypt(before, "ctx") == b"sealed-with-old"
    assert rotated.is_current(before) is False
    resealed = rotated.encrypt(rotated.decrypt(before, "ctx"), "ctx")
    assert rotated.is_current(resealed) is True
    # Once the old key is retired, only the re-sealed value still opens.
    retired = Vault((NEW,))
    assert retired.decrypt(resealed, "ctx") == b"sealed-with-old"
    with pytest.raises(VaultError):
        retired.decrypt(before, "ctx")


def test_the_first_key_encrypts() -> None:
    sealed = Vault((NEW, OLD)).encrypt(b"x", "ctx")
    assert Vault((NEW,)).decrypt(sealed, "ctx") == b"x"
    with pytest.raises(VaultError):
        Vault((OLD,)).decrypt(sealed, "ctx")


def test_a_value_sealed_with_an_unknown_key_is_refused() -> None:
    sealed = Vault((STRANGER,)).encrypt(b"x", "ctx")
    with pytest.raises(VaultError):
        Vault((NEW, OLD)).decrypt(sealed, "ctx")
    assert Vault((NEW, OLD)).is_current(sealed) is False


def test_is_current_on_garbage_is_false() -> None:
    assert Vault((NEW,)).is_current("!!!") is False


def test_a_vault_needs_a_key() -> None:
    with pytest.raises(ValueError, match="key"):
        Vault(())
