"""Tests for tipline.attachments: pure Python, no Django settings needed."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, StreamObject

from tipline.attachments import AttachmentRejected, CleanFile, sanitize, sniff

MB = 1024 * 1024
LIMIT = 20 * MB

SERIAL = "SERIAL-XYZ-12345"
ARTIST = "Artist Jane Roe"
GPS_MARKER = "GPS-DATUM-MARKER"


# --- helpers -----------------------------------------------------------------


def _jpeg_with_exif() -> bytes:
    """64x32 JPEG, left half red / right half blue, with identifying EXIF."""
    img = Image.new("RGB", (64, 32), (0, 0, 255))
    img.paste((255, 0, 0), (0, 0, 32, 32))
    exif = Image.Exif()
    exif[0x010F] = "CameraMakerCo"  # Make
    exif[0x0110] = "ModelX-9000"  # Model
    exif[0x013B] = ARTIST  # Artist
    exif[0x0112] = 6  # Orientation: rotate 90 degrees clockwise to display
    exif.get_ifd(0x8769)[0xA431] = SERIAL  # Exif IFD: BodySerialNumber
    gps = exif.get_ifd(0x8825)  # GPSInfo IFD
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (52.0, 22.0, 5.5)  # GPSLatitude
    gps[3] = "E"  # GPSLongitudeRef
    gps[4] = (4.0, 53.0, 1.0)  # GPSLongitude
    gps[18] = GPS_MARKER  # GPSMapDatum
    out = io.BytesIO()
    img.save(
        out,
        "JPEG",
        quality=95,
        exif=exif,
        icc_profile=b"ICC-DEVICE-MARKER" * 4,
        comment=b"COMMENT-MARKER",
    )
    return out.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _png_claiming_size(width: int, height: int) -> bytes:
    """A PNG whose IHDR declares huge dimensions (1-bit greyscale); tiny file."""
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


def _pdf_with_metadata(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    writer.add_metadata(
        {
            "/Author": "Jane Roe",
            "/Creator": "CreatorApp-Marker",
            "/Producer": "ProducerLib-Marker",
            "/Title": "Leaked memo",
        }
    )
    xmp = StreamObject()
    xmp.set_data(
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        b'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/">'
        b"<dc:creator>Jane Roe XMP</dc:creator></rdf:Description>"
        b"</rdf:RDF></x:xmpmeta>"
    )
    xmp[NameObject("/Type")] = NameObject("/Metadata")
    xmp[NameObject("/Subtype")] = NameObject("/XML")
    writer.root_object[NameObject("/Metadata")] = writer._add_object(xmp)
    writer.pages[0][NameObject("/PieceInfo")] = DictionaryObject(
        {NameObject("/PieceMarker"): DictionaryObject()}
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _rejected(data: bytes, **kwargs) -> AttachmentRejected:
    kwargs.setdefault("max_bytes", LIMIT)
    with pytest.raises(AttachmentRejected) as info:
        sanitize(data, **kwargs)
    assert info.value.message  # always a readable sentence
    return info.value


# --- JPEG ----------------------------------------------------------------------


def test_jpeg_fixture_really_carries_metadata():
    # Guard: the stripping test below is meaningless if the input is clean.
    data = _jpeg_with_exif()
    exif = Image.open(io.BytesIO(data)).getexif()
    assert exif[0x0112] == 6
    assert exif.get_ifd(0x8825)[1] == "N"
    assert exif.get_ifd(0x8769)[0xA431] == SERIAL
    for marker in (SERIAL, ARTIST, GPS_MARKER, "ICC-DEVICE-MARKER", "COMMENT-MARKER"):
        assert marker.encode() in data


def test_jpeg_exif_gps_serial_are_stripped_and_orientation_applied():
    data = _jpeg_with_exif()
    result = sanitize(data, max_bytes=LIMIT)

    assert result == CleanFile(result.content, "image/jpeg", "jpg", "image")
    for marker in (
        SERIAL,
        ARTIST,
        GPS_MARKER,
        "CameraMakerCo",
        "ModelX-9000",
        "ICC-DEVICE-MARKER",
        "COMMENT-MARKER",
    ):
        assert marker.encode() not in result.content
    assert b"Exif\x00\x00" not in result.content

    img = Image.open(io.BytesIO(result.content))
    assert img.format == "JPEG"
    assert len(img.getexif()) == 0
    for key in ("exif", "icc_profile", "comment", "xmp"):
        assert key not in img.info

    # Orientation 6 applied: 64x32 became 32x64, the left (red) half is now on top.
    assert img.size == (32, 64)
    rgb = img.convert("RGB")
    top, bottom = rgb.getpixel((16, 12)), rgb.getpixel((16, 52))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom


def test_cmyk_jpeg_is_converted_to_rgb():
    out = io.BytesIO()
    Image.new("CMYK", (10, 10), (0, 255, 255, 0)).save(out, "JPEG")
    result = sanitize(out.getvalue(), max_bytes=LIMIT)
    assert Image.open(io.BytesIO(result.content)).mode == "RGB"


def test_strip_metadata_false_keeps_original_bytes():
    data = _jpeg_with_exif()
    result = sanitize(data, max_bytes=LIMIT, strip_metadata=False)
    assert result.content == data
    assert result.mime == "image/jpeg"


def test_truncated_jpeg_is_rejected_cleanly():
    data = _jpeg_with_exif()
    exc = _rejected(data[: len(data) // 2])
    assert exc.code == "image_corrupt"
    # Even without stripping, the image must decode.
    assert _rejected(data[: len(data) // 2], strip_metadata=False).code == "image_corrupt"


def test_garbage_after_jpeg_magic_is_rejected_cleanly():
    assert _rejected(b"\xff\xd8\xff\xe0" + b"\x13\x37" * 500).code == "image_corrupt"


# --- PNG -----------------------------------------------------------------------


def test_png_text_chunks_are_stripped_and_pixels_kept():
    img = Image.new("RGBA", (20, 10), (10, 20, 30, 128))
    img.putpixel((3, 4), (250, 0, 0, 255))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Jane Roe")
    info.add_itxt("Comment", "Comment-Marker from the phone")
    info.add_text("Software", "Software-Marker", zip=True)
    out = io.BytesIO()
    img.save(out, "PNG", pnginfo=info, icc_profile=b"ICC-DEVICE-MARKER" * 4)
    data = out.getvalue()
    assert b"tEXt" in data and b"iTXt" in data and b"zTXt" in data and b"iCCP" in data

    result = sanitize(data, max_bytes=LIMIT)

    assert (result.mime, result.extension, result.kind) == ("image/png", "png", "image")
    for chunk in (b"tEXt", b"iTXt", b"zTXt", b"iCCP", b"eXIf"):
        assert chunk not in result.content
    assert b"Jane Roe" not in result.content
    clean = Image.open(io.BytesIO(result.content))
    assert not getattr(clean, "text", {})
    assert clean.mode == "RGBA"
    assert clean.tobytes() == img.tobytes()


def test_palette_png_keeps_palette_and_transparency():
    img = Image.new("P", (4, 4), 1)
    img.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0] + [0] * (256 * 3 - 9))
    img.putpixel((0, 0), 2)
    out = io.BytesIO()
    img.save(out, "PNG", transparency=0)
    result = sanitize(out.getvalue(), max_bytes=LIMIT)
    clean = Image.open(io.BytesIO(result.content)).convert("RGBA")
    assert clean.getpixel((0, 0)) == (0, 255, 0, 255)
    assert clean.getpixel((1, 1)) == (255, 0, 0, 255)


@pytest.mark.parametrize("size", [(20_000, 20_000), (8_000, 8_000), (7_000, 7_000), (4_001, 4_000)])
def test_decompression_bomb_png_is_rejected(size):
    # 400 Mpx trips Pillow's own bomb error; 64, 49 and 16.004 Mpx trip our 16 Mpx limit
    # (49 Mpx PNGs, five per request, grew the server to 1.74 GB).
    exc = _rejected(_png_claiming_size(*size))
    assert exc.code == "image_too_large"
    assert exc.message == "The image is too large to process."


def test_png_is_refused_by_its_header_before_any_pixel_is_decoded(monkeypatch):
    from PIL import ImageFile

    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(
        ImageFile.ImageFile, "load", lambda self: decoded.append(1) or real_load(self)
    )
    exc = _rejected(_png_claiming_size(7_000, 7_000))
    assert exc.code == "image_too_large"
    assert decoded == []


def test_large_jpeg_is_decoded_at_a_reduced_scale():
    # 6000 x 4000 = 24 Mpx: decoded by the JPEG decoder at half size, never at full size.
    img = Image.new("L", (6000, 4000), 128)
    img.paste(255, (0, 0, 3000, 4000))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=70, exif=Image.Exif())
    result = sanitize(out.getvalue(), max_bytes=LIMIT)
    clean = Image.open(io.BytesIO(result.content))
    assert clean.size == (3000, 2000)
    assert clean.getpixel((10, 10)) > 200 and clean.getpixel((2990, 10)) < 150


def test_corrupt_png_data_is_rejected_cleanly():
    data = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 10, 10, 8, 2, 0, 0, 0))
    data = b"\x89PNG\r\n\x1a\n" + data + _png_chunk(b"IDAT", b"not zlib at all")
    data += _png_chunk(b"IEND", b"")
    _rejected(data)


# --- PDF -----------------------------------------------------------------------


def test_pdf_metadata_and_xmp_are_removed():
    data = _pdf_with_metadata(pages=2)
    source = PdfReader(io.BytesIO(data))
    assert source.metadata["/Author"] == "Jane Roe"  # guard: the input is dirty
    assert "/Metadata" in source.trailer["/Root"]
    assert b"Jane Roe XMP" in data

    result = sanitize(data, max_bytes=LIMIT)

    assert (result.mime, result.extension, result.kind) == ("application/pdf", "pdf", "pdf")
    for marker in (
        b"Jane Roe",
        b"CreatorApp-Marker",
        b"ProducerLib-Marker",
        b"Leaked memo",
        b"/Author",
        b"/Creator",
        b"/Producer",
        b"pypdf",
        b"PieceMarker",
        b"/PieceInfo",
    ):
        assert marker not in result.content, marker
    clean = PdfReader(io.BytesIO(result.content))
    assert not clean.metadata
    assert "/Info" not in clean.trailer
    assert "/Metadata" not in clean.trailer["/Root"]
    assert clean.xmp_metadata is None
    assert len(clean.pages) == 2
    assert all("/Metadata" not in p and "/PieceInfo" not in p for p in clean.pages)


def _js(code: str):
    from pypdf.generic import TextStringObject

    return DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject(code),
        }
    )


def _xmp(writer, marker: bytes):
    xmp = DecodedStreamObject()
    xmp.set_data(b'<x:xmpmeta xmlns:x="adobe:ns:meta/">' + marker + b"</x:xmpmeta>")
    xmp[NameObject("/Type")] = NameObject("/Metadata")
    xmp[NameObject("/Subtype")] = NameObject("/XML")
    return writer._add_object(xmp)


def _dirty_pdf() -> bytes:
    """A page of text with every kind of hidden data a reporter's PDF may carry: page-level
    JavaScript, a JavaScript link, an annotation with its author, an attached file (as an
    annotation and in the document's names tree), document JavaScript and open action, XMP on
    the document, the page and the image, and a JPEG whose EXIF names the camera and where."""
    from pypdf.generic import (
        ArrayObject,
        FloatObject,
        NumberObject,
        TextStringObject,
    )

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=300)
    jpeg = _jpeg_with_exif()
    assert b"CameraMakerCo" in jpeg and GPS_MARKER.encode() in jpeg
    image = DecodedStreamObject()
    image.set_data(jpeg)
    image.update(
        {
            NameObject("/Type"): NameObject("/XObject"),
            NameObject("/Subtype"): NameObject("/Image"),
            NameObject("/Width"): NumberObject(64),
            NameObject("/Height"): NumberObject(32),
            NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
            NameObject("/BitsPerComponent"): NumberObject(8),
            NameObject("/Filter"): NameObject("/DCTDecode"),
            NameObject("/Metadata"): _xmp(writer, b"XMP-IMAGE-MARKER"),
        }
    )
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {
            NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)}),
            NameObject("/XObject"): DictionaryObject(
                {NameObject("/Im1"): writer._add_object(image)}
            ),
        }
    )
    content = DecodedStreamObject()
    content.set_data(
        b"BT /F1 18 Tf 20 250 Td (Clinic price list 500 yuan) Tj ET "
        b"q 128 0 0 64 20 100 cm /Im1 Do Q"
    )
    page[NameObject("/Contents")] = writer._add_object(content)
    page[NameObject("/AA")] = DictionaryObject({NameObject("/O"): _js("PAGE-OPEN-JS")})
    page[NameObject("/Metadata")] = _xmp(writer, b"XMP-PAGE-MARKER")

    def rect():
        return ArrayObject([FloatObject(10), FloatObject(10), FloatObject(60), FloatObject(60)])

    link = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/Rect"): rect(),
            NameObject("/A"): _js("LINK-JS"),
        }
    )
    note = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Text"),
            NameObject("/Rect"): rect(),
            NameObject("/Contents"): TextStringObject("Seen on Tuesday"),
            NameObject("/T"): TextStringObject("Annotator Jane Roe"),
            NameObject("/M"): TextStringObject("D:20240301120000+08'00'"),
            NameObject("/NM"): TextStringObject("ANNOT-NAME-MARKER"),
        }
    )
    embedded = DecodedStreamObject()
    embedded.set_data(b"ANNOT-EMBEDDED-FILE-MARKER")
    embedded[NameObject("/Type")] = NameObject("/EmbeddedFile")
    spec = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Filespec"),
            NameObject("/F"): TextStringObject("annot-secret.txt"),
            NameObject("/EF"): DictionaryObject({NameObject("/F"): writer._add_object(embedded)}),
        }
    )
    attachment = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/FileAttachment"),
            NameObject("/Rect"): rect(),
            NameObject("/FS"): writer._add_object(spec),
            NameObject("/T"): TextStringObject("Attacher Jane Roe"),
        }
    )
    page[NameObject("/Annots")] = ArrayObject(
        [writer._add_object(a) for a in (link, note, attachment)]
    )
    writer.add_attachment("names-secret.txt", b"NAMES-EMBEDDED-FILE-MARKER")
    names = writer.root_object["/Names"].get_object()
    names[NameObject("/JavaScript")] = DictionaryObject(
        {
            NameObject("/Names"): ArrayObject(
                [TextStringObject("doc"), writer._add_object(_js("DOC-NAMES-JS"))]
            )
        }
    )
    writer.root_object[NameObject("/OpenAction")] = _js("OPEN-ACTION-JS")
    writer.root_object[NameObject("/Metadata")] = _xmp(writer, b"XMP-DOC-MARKER")
    writer.add_metadata({"/Author": "Jane Roe"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF_MARKERS = [
    b"PAGE-OPEN-JS",
    b"LINK-JS",
    b"DOC-NAMES-JS",
    b"OPEN-ACTION-JS",
    b"Jane Roe",
    b"ANNOT-NAME-MARKER",
    b"ANNOT-EMBEDDED-FILE-MARKER",
    b"NAMES-EMBEDDED-FILE-MARKER",
    b"secret.txt",
    b"XMP-IMAGE-MARKER",
    b"XMP-PAGE-MARKER",
    b"XMP-DOC-MARKER",
    b"CameraMakerCo",
    b"ModelX-9000",
    SERIAL.encode(),
    GPS_MARKER.encode(),
    b"ICC-DEVICE-MARKER",
    b"COMMENT-MARKER",
    b"Exif",
    b"/JavaScript",
    b"/JS",
    b"/AA",
    b"/OpenAction",
    b"/EmbeddedFile",
    b"/Metadata",
]


def _everything_in(pdf: bytes) -> bytes:
    """The file's bytes plus every stream decoded (compressed streams hide nothing from this)."""
    reader = PdfReader(io.BytesIO(pdf))
    parts = [pdf]
    numbers = set(reader.xref_objStm)
    for entries in reader.xref.values():
        numbers.update(entries)
    for number in numbers:
        obj = reader.get_object(number)
        parts.append(repr(obj).encode())
        if isinstance(obj, StreamObject):
            parts.append(obj._data)
            try:
                parts.append(obj.get_data())
            except Exception:  # noqa: S112 — e.g. DCT data has no further decoding
                continue
    return b"\n".join(parts)


def test_pdf_hidden_data_at_every_level_is_removed():
    dirty = _dirty_pdf()
    everything = _everything_in(dirty)
    for marker in PDF_MARKERS:  # the input really carries each of them
        assert marker in everything, marker

    result = sanitize(dirty, max_bytes=LIMIT)

    everything = _everything_in(result.content)
    for marker in PDF_MARKERS:
        assert marker not in everything, marker
    clean = PdfReader(io.BytesIO(result.content))
    (page,) = clean.pages
    # What a person reads is still there: the text, the photo, the note (without its author).
    assert "Clinic price list 500 yuan" in page.extract_text()
    image = page["/Resources"]["/XObject"]["/Im1"].get_object()
    photo = Image.open(io.BytesIO(image._data))
    assert photo.size == (64, 32) and len(photo.getexif()) == 0
    photo.load()
    annots = [a.get_object() for a in page["/Annots"]]
    assert [a["/Subtype"] for a in annots] == ["/Link", "/Text"]
    assert annots[1]["/Contents"] == "Seen on Tuesday"
    assert "/A" not in annots[0] and "/T" not in annots[1]
    assert set(clean.trailer["/Root"].keys()) == {"/Type", "/Pages"}


def test_pdf_with_an_inline_jpeg_is_refused_rather_than_half_cleaned():
    writer = PdfWriter()
    page = writer.add_blank_page(width=100, height=100)
    content = DecodedStreamObject()
    content.set_data(
        b"q 10 0 0 10 0 0 cm BI /W 8 /H 8 /CS /RGB /BPC 8 /F /DCT ID "
        + _jpeg_with_exif()
        + b" EI Q"
    )
    page[NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    exc = _rejected(out.getvalue())
    assert exc.code == "pdf_uncleanable"
    assert "screenshots" in exc.message


def test_jpeg_metadata_segments_are_dropped_and_the_picture_kept():
    from tipline.attachments import _strip_jpeg

    jpeg = _jpeg_with_exif() + b"APPENDED-FILE"
    stripped = _strip_jpeg(jpeg)
    for marker in (b"Exif", b"CameraMakerCo", b"ICC-DEVICE-MARKER", b"COMMENT-MARKER", b"APPENDED"):
        assert marker not in stripped
    before, after = Image.open(io.BytesIO(jpeg)), Image.open(io.BytesIO(stripped))
    assert before.tobytes() == after.tobytes()


def test_password_protected_pdf_is_rejected():
    writer = PdfWriter(clone_from=io.BytesIO(_pdf_with_metadata(pages=1)))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    exc = _rejected(out.getvalue())
    assert exc.code == "pdf_encrypted"
    assert exc.message == "Password-protected PDF files cannot be accepted."


def test_owner_only_encrypted_pdf_opens_and_is_cleaned():
    # Restrictions-only encryption (empty user password) is readable by anyone.
    writer = PdfWriter(clone_from=io.BytesIO(_pdf_with_metadata(pages=1)))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    clean = PdfReader(io.BytesIO(sanitize(out.getvalue(), max_bytes=LIMIT).content))
    assert not clean.is_encrypted
    assert not clean.metadata
    assert len(clean.pages) == 1


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n",
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n%%EOF",
        b"%PDF-1.4\n" + bytes(range(256)) * 20,
    ],
)
def test_unreadable_pdf_is_rejected_cleanly(data):
    assert _rejected(data).code == "pdf_corrupt"


def test_pdf_magic_must_be_at_offset_zero():
    assert sniff(b"junk before %PDF-1.4\n") is None


# --- sniffing / audio / video ------------------------------------------------------

MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 412  # MPEG-1 Layer III, 128 kbit/s
ID3_MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + MP3_FRAME


def _ftyp(brand: bytes) -> bytes:
    payload = brand + b"\x00\x00\x02\x00" + brand + b"isom"
    return struct.pack(">I", 8 + len(payload)) + b"ftyp" + payload + b"\x00" * 32


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (ID3_MP3, ("audio/mpeg", "mp3", "audio")),
        (MP3_FRAME, ("audio/mpeg", "mp3", "audio")),
        (_ftyp(b"M4A "), ("audio/mp4", "m4a", "audio")),
        (_ftyp(b"isom"), ("video/mp4", "mp4", "video")),
        (_ftyp(b"mp42"), ("video/mp4", "mp4", "video")),
        (_ftyp(b"3gp5"), ("video/mp4", "mp4", "video")),
    ],
)
def test_audio_and_video_are_accepted_unchanged(data, expected):
    assert sniff(data) == expected
    result = sanitize(data, max_bytes=LIMIT)
    assert (result.mime, result.extension, result.kind) == expected
    assert result.content == data


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64,  # .exe
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"I am a text file named photo.jpg",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + b"\x00" * 40,  # zip / docx
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        _ftyp(b"qt  "),  # QuickTime is not on the allow-list
        _ftyp(b"heic"),
        b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 32,  # raw AAC (ADTS), not MP3
        b"\xff\xfb\xf0\x64" + b"\x00" * 32,  # MP3 sync with invalid bitrate index
    ],
)
def test_files_outside_the_allow_list_are_rejected(data):
    assert sniff(data) is None
    exc = _rejected(data)
    assert exc.code == "type"
    assert "not accepted" in exc.message


def test_empty_file_is_rejected():
    exc = _rejected(b"")
    assert exc.message == "The file is empty."


def test_oversize_file_is_rejected_with_limit_in_mb():
    data = ID3_MP3 + b"\x00" * (5 * MB)
    exc = _rejected(data, max_bytes=5 * MB)
    assert exc.code == "too_large"
    assert "5 MB" in exc.message
    assert exc.params == {"limit_mb": "5"}
    assert sanitize(data, max_bytes=len(data)).content == data  # limit is inclusive


def test_unexpected_errors_become_attachment_rejected(monkeypatch):
    import tipline.attachments as attachments

    def boom(*args, **kwargs):
        raise RuntimeError("internal detail")

    monkeypatch.setattr(attachments, "_clean_image", boom)
    exc = _rejected(_jpeg_with_exif())
    assert "internal detail" not in exc.message
    assert isinstance(exc, ValueError)
