"""Helpers for the public-intake tests: real JPEGs with GPS EXIF, valid ID numbers, form data."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tipline.models import Category
from tipline.validators import id_check_digit

GPS_MARKER = "GPS-PLANTED-DATUM"
CAMERA_SERIAL = "PLANTED-SERIAL-77"


def jpeg_with_gps(color=(200, 30, 30)) -> bytes:
    """A small real JPEG carrying a GPS IFD (0x8825), a camera serial and a maker."""
    img = Image.new("RGB", (32, 16), color)
    exif = Image.Exif()
    exif[0x010F] = "PlantedMaker"
    exif[0x0110] = "PlantedModel"
    exif.get_ifd(0x8769)[0xA431] = CAMERA_SERIAL  # BodySerialNumber
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (31.0, 14.0, 9.5)
    gps[3] = "E"
    gps[4] = (121.0, 28.0, 3.25)
    gps[18] = GPS_MARKER  # GPSMapDatum
    out = io.BytesIO()
    img.save(out, "JPEG", quality=90, exif=exif)
    data = out.getvalue()
    assert GPS_MARKER.encode() in data  # the fixture really carries the metadata
    return data


def upload(data: bytes | None = None, name="photo.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, jpeg_with_gps() if data is None else data, content_type)


def id_number(first17: str) -> str:
    return first17 + id_check_digit(first17)


VALID_ID = id_number("32010219850617123")


def form_data(where, **overrides) -> dict:
    """Valid report-form fields for the township ``where``; overrides replace or add fields."""
    data = {
        "category": Category.SEX_DETERMINATION,
        "township": where.code,
        "description": "县城东街一家诊所用B超给孕妇查胎儿性别，收费两千元。",
        "occurred_on": "2024-03-01",
        "subject_name": "某某诊所",
        "subject_address": "东街12号",
        "subject_phone": "0571-8888 1234",
    }
    data.update(overrides)
    return data
