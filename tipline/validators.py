"""Mainland mobile numbers and resident ID numbers (GB 11643, with the check digit)."""

import re
from datetime import date

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_MOBILE = re.compile(r"^1[3-9]\d{9}$", re.ASCII)
_ID = re.compile(r"^[1-9]\d{16}[\dX]$", re.ASCII)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PHONE_SEPARATORS = re.compile(r"[\s\-()（）]+")
# Chinese input methods often type full-width characters; store the ASCII form so blind indexes
# of the same number agree. Other Unicode digits are not accepted.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９＋－Ｘｘ", "0123456789+-Xx")


def normalise_mobile(value: str) -> str:
    digits = _PHONE_SEPARATORS.sub("", (value or "").translate(_FULL_WIDTH))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not _MOBILE.match(digits):
        raise ValidationError(
            _("Enter a mainland China mobile number of 11 digits, such as 138 0013 8000."),
            code="mobile",
        )
    return digits


def normalise_any_phone(value: str) -> str:
    """A suspect's phone may be a mobile or a landline; keep the digits for the blind index."""
    digits = _PHONE_SEPARATORS.sub("", (value or "").translate(_FULL_WIDTH))
    if digits.startswith("+"):
        digits = digits[1:]
    elif digits.startswith("0086"):  # international prefix, as normalise_mobile accepts it
        digits = digits[2:]
    if not (digits.isascii() and digits.isdigit()) or not 5 <= len(digits) <= 16:
        raise ValidationError(
            _("Enter a phone number of 5 to 16 digits (spaces and dashes are fine)."), code="phone"
        )
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits


def id_check_digit(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def normalise_id_number(value: str) -> str:
    number = (value or "").translate(_FULL_WIDTH).strip().replace(" ", "").upper()
    if not _ID.match(number):
        raise ValidationError(
            _("A resident ID number has 18 characters: 17 digits and a final digit or X."),
            code="id_format",
        )
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(
            _("The date of birth in this ID number is not a real date."), code="id_date"
        ) from None
    if id_check_digit(number[:17]) != number[17]:
        raise ValidationError(
            _("This ID number's last character does not match; please check it."), code="id_check"
        )
    return number
