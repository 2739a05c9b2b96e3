"""Mainland mobile numbers, any phone (for the suspect), resident ID numbers (GB 11643)."""

import pytest
from django.core.exceptions import ValidationError

from tipline.validators import (
    id_check_digit,
    normalise_any_phone,
    normalise_id_number,
    normalise_mobile,
)

from .helpers import id_number


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+8613800138000",
        "+86 138 0013 8000",
        "+86-138-0013-8000",
        "0086 138 0013 8000",
        "86 13800138000",
        "(138) 0013-8000",
        " 138 0013 8000 ",
        "１３８００１３８０００",  # full-width digits from a Chinese input method
        "＋８６ １３８ ００１３ ８０００",
    ],
)
def test_mobile_accepted_and_normalised_to_ascii_digits(raw):
    assert normalise_mobile(raw) == "13800138000"


@pytest.mark.parametrize(
    "raw",
    [
        "138001380001",  # 12 digits
        "1380013800",  # 10 digits
        "23800138000",  # mobiles start with 1
        "12800138000",  # second digit 3-9
        "+1 13800138000",
        "+8623800138000",
        "861380013800",  # 12 digits with 86: not a mobile
        "1380013800a",
        "",
        "13٨٠٠١٣٨٠٠٠",  # Arabic-Indic digits must not be stored as a "mobile"
    ],
)
def test_mobile_rejected(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_mobile(raw)
    assert exc.value.code == "mobile"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0571-8888 1234", "057188881234"),
        ("(0571) 88881234", "057188881234"),
        ("+86 138 0013 8000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("0086 138 0013 8000", "13800138000"),
        ("95588", "95588"),
        ("０５７１－８８８８１２３４", "057188881234"),
    ],
)
def test_any_phone_keeps_ascii_digits(raw, expected):
    assert normalise_any_phone(raw) == expected


@pytest.mark.parametrize("raw", ["1234", "12345678901234567", "0571-8888-abcd", "²³⁴⁵⁶⁷⁸", ""])
def test_any_phone_rejected(raw):
    with pytest.raises(ValidationError):
        normalise_any_phone(raw)


def test_same_phone_typed_differently_normalises_identically():
    # The blind index is computed on the normalised value: variants must agree or look-ups miss.
    variants = ["13800138000", "+86 138-0013-8000", "１３８００１３８０００", "0086 13800138000"]
    assert {normalise_mobile(v) for v in variants} == {"13800138000"}
    assert {normalise_any_phone(v) for v in variants} == {"13800138000"}


def test_check_digit_matches_published_examples():
    # Well-known examples from the standard and its commentaries.
    assert id_check_digit("11010519491231002") == "X"
    assert id_check_digit("44052418800101001") == "4"


def test_valid_id_number_with_digit_check():
    number = id_number("32010219850617123")
    assert number[-1].isdigit()
    assert normalise_id_number(number) == number
    assert normalise_id_number(f" {number[:6]} {number[6:14]} {number[14:]} ") == number


def test_valid_id_number_with_x_check_digit_and_lowercase_x():
    assert normalise_id_number("11010519491231002X") == "11010519491231002X"
    assert normalise_id_number("11010519491231002x") == "11010519491231002X"
    computed = id_number("11010519900307005")
    assert computed.endswith("X")
    assert normalise_id_number(computed.lower()) == computed


def test_wrong_check_digit_rejected():
    number = id_number("32010219850617123")
    wrong = number[:17] + str((int(number[17]) + 1) % 10)
    with pytest.raises(ValidationError) as exc:
        normalise_id_number(wrong)
    assert exc.value.code == "id_check"
    with pytest.raises(ValidationError) as exc:
        normalise_id_number("110105194912310021")  # should end in X
    assert exc.value.code == "id_check"


@pytest.mark.parametrize("birth", ["19900230", "19901301", "19900000", "20230229"])
def test_impossible_birth_date_rejected(birth):
    number = id_number(f"320102{birth}123")  # a correct check digit: only the date is wrong
    with pytest.raises(ValidationError) as exc:
        normalise_id_number(number)
    assert exc.value.code == "id_date"


def test_leap_day_birth_date_accepted():
    number = id_number("32010220000229123")
    assert normalise_id_number(number) == number


@pytest.mark.parametrize(
    "raw",
    [
        "3201021985061712",
        "0" + "3201021985061712" + "3",
        "32010219850617123Y",
        "3201A219850617123X",
    ],
)
def test_malformed_id_number_rejected(raw):
    with pytest.raises(ValidationError) as exc:
        normalise_id_number(raw)
    assert exc.value.code == "id_format"


def test_full_width_id_number_is_stored_in_ascii():
    assert normalise_id_number("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"
