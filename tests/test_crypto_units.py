"""Sealing, key wrapping and blind indexes."""

from __future__ import annotations

import os
import unicodedata
import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import json_values

from processor.kernel.errors import IntegrityFailureError, InvalidInputError
from processor.keys import KeyStore, MasterKey
from processor.keys.blindindex import blind_index, normalise_email, normalise_phone
from processor.keys.sealing import ERASED, Sealer, open_with_key, seal_with_key

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@given(value=json_values, subject=st.uuids())
def test_seal_open_round_trip(value, subject):
    """Whatever is sealed opens to the same value with the same key, subject and purpose."""
    key = os.urandom(32)
    token = seal_with_key(key, str(subject), "profile", value)
    assert open_with_key(key, str(subject), "profile", token) == value


@given(value=json_values)
def test_sealed_value_is_bound_to_its_subject_and_purpose(value):
    """A ciphertext moved to another subject or purpose fails authentication, never decrypts."""
    key = os.urandom(32)
    token = seal_with_key(key, "subject-a", "profile", value)
    with pytest.raises(IntegrityFailureError):
        open_with_key(key, "subject-b", "profile", token)
    with pytest.raises(IntegrityFailureError):
        open_with_key(key, "subject-a", "reason", token)


def test_sealing_is_randomised():
    """Sealing the same value twice gives different ciphertexts (no equality leak)."""
    key = os.urandom(32)
    assert seal_with_key(key, "s", "p", "x") != seal_with_key(key, "s", "p", "x")


def _keystore(tmp_path) -> KeyStore:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'keys.sqlite'}")
    return KeyStore(engine, MasterKey(os.urandom(32)))


def test_destroyed_key_reads_as_erased_never_raises__RET_5(tmp_path):
    """After crypto-shredding, opening the subject's data yields the ERASED marker."""
    sealer = Sealer(_keystore(tmp_path))
    subject = str(uuid.uuid4())
    sealer.new_subjects([subject], NOW)
    token = sealer.seal(subject, "profile", {"email": "a@example.dk"})
    sealer.shred([subject], NOW)
    sealer.forget()
    assert sealer.open(subject, "profile", token) is ERASED
    assert str(ERASED) == "[erased]"


def test_shredding_twice_is_harmless(tmp_path):
    """Destroying an already destroyed key is a no-op, so interrupted erasures can be rerun."""
    keys = _keystore(tmp_path)
    subject = str(uuid.uuid4())
    keys.create_subject_keys([subject], NOW)
    assert keys.destroy_subject_keys([subject], NOW) == 1
    assert keys.destroy_subject_keys([subject], NOW) == 0
    assert keys.subject_keys([subject]) == {subject: None}


def test_a_subject_without_key_or_tombstone_is_an_integrity_failure(tmp_path):
    """A missing key that was never destroyed is reported, not silently read as erased."""
    keys = _keystore(tmp_path)
    with pytest.raises(IntegrityFailureError):
        keys.subject_keys([str(uuid.uuid4())])


def test_wrong_master_key_cannot_unwrap(tmp_path):
    """Keys wrapped under one master key do not open under another."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'keys.sqlite'}")
    subject = str(uuid.uuid4())
    KeyStore(engine, MasterKey(os.urandom(32))).create_subject_keys([subject], NOW)
    with pytest.raises(IntegrityFailureError):
        KeyStore(engine, MasterKey(os.urandom(32))).subject_keys([subject])


def test_wrapped_keys_cannot_be_swapped_between_subjects(tmp_path):
    """A wrapped key copied onto another subject's row fails to unwrap (bound by name)."""
    keys = _keystore(tmp_path)
    a, b = str(uuid.uuid4()), str(uuid.uuid4())
    keys.create_subject_keys([a, b], NOW)
    with keys.engine.begin() as conn:
        wrapped_a = conn.execute(
            sa.text("SELECT wrapped FROM subject_keys WHERE subject_id=:a"), {"a": a}
        ).scalar()
        conn.execute(
            sa.text("UPDATE subject_keys SET wrapped=:w WHERE subject_id=:b"),
            {"w": wrapped_a, "b": b},
        )
    with pytest.raises(IntegrityFailureError):
        keys.subject_keys([b])


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  Anne@Example.COM ", "anne@example.com"),
        ("ANNE@EXAMPLE.COM", "anne@example.com"),
        (unicodedata.normalize("NFD", "søren@example.dk"), "søren@example.dk"),
    ],
)
def test_email_normalisation_for_blind_index(typed, expected):
    """Case, surrounding space and Unicode composition do not change the blind index."""
    assert normalise_email(typed) == expected


@pytest.mark.parametrize(
    "bad", ["", "plainaddress", "a@b", "a @b.dk", "@example.dk", "x" * 300 + "@a.dk"]
)
def test_invalid_email_is_refused(bad):
    """Something that is not an e-mail address is invalid input."""
    with pytest.raises(InvalidInputError):
        normalise_email(bad)


def test_phone_normalisation():
    """Spaces, dashes and a 00 prefix are normalised; garbage is refused."""
    assert normalise_phone("+45 12 34-56 78") == "+4512345678"
    assert normalise_phone("0045 12345678") == "+4512345678"
    with pytest.raises(InvalidInputError):
        normalise_phone("call me")


def test_blind_index_depends_on_the_controller_key():
    """Two controllers' indexes of one address are unrelated."""
    k1, k2 = os.urandom(32), os.urandom(32)
    assert blind_index(k1, "email", "a@example.dk") != blind_index(k2, "email", "a@example.dk")
    assert blind_index(k1, "email", "a@example.dk") == blind_index(k1, "email", "a@example.dk")


@settings(max_examples=50)
@given(st.text(min_size=1, max_size=30))
def test_master_key_must_be_hex(text):
    """A master key that is not 64 hex characters is a configuration error, never a crash."""
    from processor.kernel.errors import ConfigurationError

    if len(text.strip()) == 64:
        return
    with pytest.raises(ConfigurationError):
        MasterKey.from_hex(text)
