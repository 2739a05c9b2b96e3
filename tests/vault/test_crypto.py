"""Envelope encryption of the reporter identity: round trip, tamper detection, blind indexes."""

import pytest
from django.db import connection

from tipline.models import ReporterIdentity
from vault import crypto, keyring

from ..tipline.helpers import VALID_ID

NAME = "李举报"
PHONE = "13912345678"


@pytest.fixture
def identity(make_report):
    report, _receipt = make_report(
        reporter_name=NAME, reporter_phone=PHONE, reporter_id_number=VALID_ID
    )
    return ReporterIdentity.objects.get(report=report)


def fresh(identity) -> ReporterIdentity:
    """Re-read from the database, so no cached data key is reused."""
    return ReporterIdentity.objects.get(pk=identity.pk)


def test_identity_round_trip(identity):
    assert fresh(identity).reveal() == {"name": NAME, "phone": PHONE, "id_number": VALID_ID}


def test_partial_identity_round_trip(make_report):
    report, _ = make_report(reporter_phone=PHONE)
    identity = ReporterIdentity.objects.get(report=report)
    assert identity.name_sealed is None and identity.id_number_sealed is None
    assert identity.reveal() == {"name": "", "phone": PHONE, "id_number": ""}


def test_anonymous_report_has_no_identity_row(make_report):
    report, _ = make_report()
    assert not ReporterIdentity.objects.filter(report=report).exists()


def test_each_row_has_its_own_data_key(make_report):
    a, _ = make_report(reporter_phone=PHONE)
    b, _ = make_report(reporter_phone=PHONE)
    ia, ib = a.identity, b.identity
    assert bytes(ia.wrapped_key) != bytes(ib.wrapped_key)
    assert bytes(ia.phone_sealed) != bytes(ib.phone_sealed)


def test_swapping_fields_within_a_row_fails(identity):
    name, phone = identity.name_sealed, identity.phone_sealed
    ReporterIdentity.objects.filter(pk=identity.pk).update(name_sealed=phone, phone_sealed=name)
    row = fresh(identity)
    with pytest.raises(crypto.DecryptionError):
        row.unseal("name", row.name_sealed)
    with pytest.raises(crypto.DecryptionError):
        row.reveal()


def test_copying_a_field_into_another_row_fails(identity, make_report):
    other_report, _ = make_report(reporter_name="王五", reporter_phone="13700000000")
    other = other_report.identity
    ReporterIdentity.objects.filter(pk=other.pk).update(phone_sealed=identity.phone_sealed)
    with pytest.raises(crypto.DecryptionError):
        fresh(other).reveal()


def test_copying_the_whole_envelope_into_another_row_fails(identity, make_report):
    # Moving the wrapped key along with the ciphertexts does not help: the key is bound to its row.
    other_report, _ = make_report(reporter_name="王五")
    other = other_report.identity
    ReporterIdentity.objects.filter(pk=other.pk).update(
        wrapped_key=identity.wrapped_key,
        kek_version=identity.kek_version,
        name_sealed=identity.name_sealed,
        phone_sealed=identity.phone_sealed,
        id_number_sealed=identity.id_number_sealed,
    )
    with pytest.raises(crypto.DecryptionError):
        fresh(other).reveal()


@pytest.mark.parametrize("position", [0, 13, -1])
def test_flipping_a_byte_of_a_field_fails(identity, position):
    blob = bytearray(identity.id_number_sealed)
    blob[position] ^= 0x01
    ReporterIdentity.objects.filter(pk=identity.pk).update(id_number_sealed=bytes(blob))
    with pytest.raises(crypto.DecryptionError):
        fresh(identity).reveal()


def test_flipping_a_byte_of_the_wrapped_key_fails(identity):
    blob = bytearray(identity.wrapped_key)
    blob[20] ^= 0x80
    ReporterIdentity.objects.filter(pk=identity.pk).update(wrapped_key=bytes(blob))
    with pytest.raises(crypto.DecryptionError):
        fresh(identity).reveal()


@pytest.mark.parametrize("length", [0, 5, 12, 27])
def test_truncated_ciphertext_fails_as_decryption_error(identity, length):
    blob = bytes(identity.phone_sealed)[:length] or b"\x00"
    with pytest.raises(crypto.DecryptionError):
        fresh(identity).unseal("phone", blob)
    with pytest.raises(crypto.DecryptionError):
        crypto.unwrap_key(blob, "t", "r", identity.kek_version)


def test_unknown_kek_version_fails_clearly(identity):
    ReporterIdentity.objects.filter(pk=identity.pk).update(kek_version=99)
    with pytest.raises(keyring.KeyRingError, match="version 99 is not in the key ring"):
        fresh(identity).reveal()


def test_wrong_kek_version_fails(identity):
    ring = keyring.get_keyring()
    ring.add_kek()  # the cached ring now has version 2 too (reset by the autouse fixture)
    ReporterIdentity.objects.filter(pk=identity.pk).update(kek_version=2)
    with pytest.raises(crypto.DecryptionError):
        fresh(identity).reveal()


def test_blind_index_same_phone_same_index(make_report):
    a, _ = make_report(reporter_phone=PHONE)
    b, _ = make_report(reporter_phone=PHONE, reporter_name="someone else")
    c, _ = make_report(reporter_phone="13912345679")
    assert a.identity.phone_index == b.identity.phone_index == crypto.blind_index("phone", PHONE)
    assert c.identity.phone_index != a.identity.phone_index
    assert PHONE not in a.identity.phone_index
    matches = ReporterIdentity.objects.filter(phone_index=crypto.blind_index("phone", PHONE))
    assert {i.report_id for i in matches} == {a.id, b.id}


def test_blind_index_depends_on_key_and_purpose():
    ring = keyring.get_keyring()
    other = keyring.KeyRing.generate()
    assert crypto.blind_index("phone", PHONE, ring) == crypto.blind_index("phone", PHONE, ring)
    assert crypto.blind_index("phone", PHONE, ring) != crypto.blind_index("phone", PHONE, other)
    assert crypto.blind_index("phone", PHONE, ring) != crypto.blind_index("id_number", PHONE, ring)


def test_subject_phone_gets_a_blind_index(make_report):
    report, _ = make_report(subject_phone="057188881234")
    assert report.subject_phone_index == crypto.blind_index("phone", "057188881234")


def test_database_row_contains_no_plaintext(identity):
    table = ReporterIdentity._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
        (row,) = cursor.fetchall()
    blob = b"\x00".join(
        bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode() for v in row
    )
    for secret in (NAME, PHONE, VALID_ID, VALID_ID[:17]):
        assert secret.encode() not in blob
        assert secret.encode("utf-16-le") not in blob
