"""Validate and sanitise files uploaded by citizens with a tip.

Uploads are identified by their content (magic bytes) only: the file name and
the client-supplied content type are attacker-controlled. Metadata (EXIF GPS
positions, camera serial numbers, author names...) can identify the person who
sent a tip, so images and PDFs are rebuilt from their content alone.

Pure Python on purpose (no Django import) so it can be tested without settings.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext_noop

# Decoded pixels per image: a 12-megapixel phone photo fits, and one decoded image stays under
# 64 MB (RGBA), far below Pillow's bomb limit (89 M). Larger JPEGs are decoded at 1/2, 1/4 or
# 1/8 scale (the decoder does this without decoding the full size); larger PNGs are refused.
MAX_IMAGE_PIXELS = 16_000_000

# ISO BMFF major brands. Only 'M4A '/'M4B ' mean audio-only.
_AUDIO_BRANDS = {b"M4A ", b"M4B "}
_VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1",
    b"M4V ", b"M4VH", b"M4VP", b"dash", b"3gp4", b"3gp5", b"3gp6",
}  # fmt: skip

# Marked for translation here (makemessages extracts gettext_noop; the caller translates
# `template`), so importing this module needs no settings.
MSG_TYPE = gettext_noop(
    "This file type is not accepted. Please upload a JPEG or PNG photo, a PDF, "
    "an MP3/M4A recording or an MP4 video."
)
MSG_EMPTY = gettext_noop("The file is empty.")
MSG_TOO_LARGE = gettext_noop("The file is too large. The maximum size is %(limit_mb)s MB.")
MSG_IMAGE_TOO_LARGE = gettext_noop("The image is too large to process.")
MSG_IMAGE_CORRUPT = gettext_noop("The image could not be read. It may be damaged.")
MSG_PDF_ENCRYPTED = gettext_noop("Password-protected PDF files cannot be accepted.")
MSG_PDF_CORRUPT = gettext_noop("The PDF could not be read. It may be damaged.")
MSG_PDF_UNCLEANABLE = gettext_noop(
    "This PDF could not be cleaned of hidden data with confidence. "
    "Please send photos or screenshots of its pages instead."
)
MSG_GENERIC = gettext_noop("The file could not be processed. Please try another file.")


class AttachmentRejected(ValueError):
    """The upload is refused. ``message`` is a short sentence for the citizen.

    ``code`` identifies the reason; ``params`` holds values interpolated into
    ``message`` (so a caller can translate the un-interpolated template).
    """

    def __init__(self, message: str, code: str = "invalid", params: dict | None = None):
        self.template = message
        self.params = params or {}
        self.message = message % self.params if params else message
        self.code = code
        super().__init__(self.message)


@dataclass(frozen=True)
class CleanFile:
    content: bytes
    mime: str
    extension: str
    kind: str  # 'image' | 'pdf' | 'audio' | 'video'


def _is_mpeg_audio_frame(head: bytes) -> bool:
    """MPEG-1/2/2.5 Layer III frame header (what an ID3-less MP3 starts with)."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11  # 0b01 is reserved
    layer = (head[1] >> 1) & 0b11  # 0b01 is Layer III; 0b00 (e.g. AAC ADTS) reserved
    bitrate = head[2] >> 4  # 0b1111 is invalid
    sample_rate = (head[2] >> 2) & 0b11  # 0b11 is reserved
    return version != 0b01 and layer == 0b01 and bitrate != 0xF and sample_rate != 0b11


def sniff(data: bytes) -> tuple[str, str, str] | None:
    """Return (mime, extension, kind) from magic bytes, or None if not allowed."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg", "image"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png", "image"
    if data.startswith(b"%PDF-"):
        return "application/pdf", "pdf", "pdf"
    if data.startswith(b"ID3") and len(data) >= 10:
        return "audio/mpeg", "mp3", "audio"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _AUDIO_BRANDS:
            return "audio/mp4", "m4a", "audio"
        if brand in _VIDEO_BRANDS:
            return "video/mp4", "mp4", "video"
        return None
    if _is_mpeg_audio_frame(data[:4]):
        return "audio/mpeg", "mp3", "audio"
    return None


def sanitize(data: bytes, *, max_bytes: int, strip_metadata: bool = True) -> CleanFile:
    """Check an upload against the allow-list and strip identifying metadata."""
    if not data:
        raise AttachmentRejected(MSG_EMPTY, "empty")
    if len(data) > max_bytes:
        limit = f"{max_bytes / (1024 * 1024):.1f}".removesuffix(".0")
        raise AttachmentRejected(MSG_TOO_LARGE, "too_large", {"limit_mb": limit})
    sniffed = sniff(data)
    if sniffed is None:
        raise AttachmentRejected(MSG_TYPE, "type")
    mime, extension, kind = sniffed
    try:
        if kind == "image":
            content = _clean_image(data, extension, strip_metadata)
        elif kind == "pdf":
            content = _clean_pdf(data, strip_metadata)
        else:
            # Audio/video metadata (ID3 tags, MP4 'udta'/'meta' boxes, which can
            # hold GPS) is NOT stripped yet: that needs a remuxer such as
            # ffmpeg/mutagen, and none is in the dependency set.
            content = data
    except (AttachmentRejected, MemoryError):
        raise
    except Exception as exc:  # never let a parser crash the upload view
        raise AttachmentRejected(MSG_GENERIC, "invalid") from exc
    return CleanFile(content=content, mime=mime, extension=extension, kind=kind)


def _draft_scale(width: int, height: int) -> int | None:
    """The JPEG decoder's scale (1, 2, 4 or 8) that brings an image under the pixel cap."""
    for scale in (1, 2, 4, 8):
        if (width // scale) * (height // scale) <= MAX_IMAGE_PIXELS:
            return scale
    return None


def _clean_image(data: bytes, extension: str, strip_metadata: bool) -> bytes:
    from PIL import Image, ImageOps

    fmt = "JPEG" if extension == "jpg" else "PNG"

    def open_checked() -> Image.Image:
        # Restrict Pillow to the sniffed format so no other decoder is reachable. Only the
        # header is read here: the size is checked before a single pixel is decoded.
        img = Image.open(io.BytesIO(data), formats=[fmt])
        width, height = img.size
        scale = _draft_scale(width, height) if fmt == "JPEG" else None
        if scale is None and width * height > MAX_IMAGE_PIXELS:
            raise AttachmentRejected(MSG_IMAGE_TOO_LARGE, "image_too_large")
        if scale and scale > 1:
            img.draft(img.mode, (width // scale, height // scale))
        return img

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            open_checked().verify()  # verify() leaves the image unusable: reopen
            img = open_checked()
            img.load()  # decode fully: truncated JPEGs fail here, not in verify()
            if not strip_metadata and img.size == Image.open(io.BytesIO(data)).size:
                return data
            img = ImageOps.exif_transpose(img)
        except AttachmentRejected:  # a ValueError: must not become "corrupt"
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise AttachmentRejected(MSG_IMAGE_TOO_LARGE, "image_too_large") from exc
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise AttachmentRejected(MSG_IMAGE_CORRUPT, "image_corrupt") from exc

    if fmt == "JPEG" and img.mode not in ("RGB", "L"):
        img = img.convert("RGB")  # CMYK/YCbCr etc.: RGB displays everywhere
    elif fmt == "PNG" and img.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        img = img.convert("RGBA")  # 16-bit/PA etc.: keep alpha, drop the oddity

    # A brand-new image has an empty .info, so no EXIF, ICC profile, XMP,
    # comment or PNG text chunk can be carried over by the encoder.
    mode, size = img.mode, img.size
    palette = (img.getpalette(img.palette.mode), img.palette.mode) if mode == "P" else None
    transparency = img.info.get("transparency")
    pixels = img.tobytes()
    del img  # at most two copies of the pixels at any time
    clean = Image.frombytes(mode, size, pixels)
    del pixels
    options: dict = {}
    if palette:
        clean.putpalette(*palette)
    if fmt == "PNG" and transparency is not None and mode in ("1", "L", "P", "RGB"):
        options["transparency"] = transparency
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=90)
    else:
        clean.save(out, "PNG", optimize=True, **options)
    return out.getvalue()


# --- PDF ----------------------------------------------------------------------------------
#
# A PDF can carry who made it and where far beyond its document information: XMP on any object,
# annotation authors, embedded files, JavaScript and actions on pages, links and form fields,
# and JPEG images with their camera's EXIF. Pages are copied into a new document (the catalog,
# with its names tree, outlines, forms and open action, is left behind), every object reachable
# from them is scrubbed, JPEG images lose every metadata segment, and the result is checked
# again from scratch. What cannot be cleaned with confidence is refused with a clear message.

MAX_PDF_PAGES = 500
MAX_PDF_CONTENT_BYTES = 100 * 1024 * 1024  # decoded content streams, all pages together

# Keys dropped wherever they appear: actions and scripts, metadata, embedded files, thumbnails.
_PDF_DROP_KEYS = frozenset(
    {
        "/A", "/AA", "/OpenAction", "/JS", "/JavaScript", "/Names", "/URI",
        "/Metadata", "/PieceInfo", "/LastModified", "/SpiderInfo",
        "/EmbeddedFiles", "/EF", "/AF", "/RichMediaContent", "/RichMediaSettings", "/3DD",
        "/Thumb", "/AcroForm", "/XFA", "/Outlines", "/Collection", "/Perms", "/Threads",
        "/PresSteps",
    }
)  # fmt: skip
# Annotation entries naming who wrote it and when.
_PDF_ANNOT_DROP_KEYS = frozenset({"/T", "/M", "/CreationDate", "/NM", "/RC", "/Popup"})
# Annotations that carry files, media or scripts: dropped entirely (popups are only windows).
_PDF_DROP_ANNOTS = frozenset(
    {"/FileAttachment", "/Sound", "/Movie", "/Screen", "/RichMedia", "/3D", "/Popup"}
)
_PDF_FORBIDDEN_NAMES = (b"/JavaScript", b"/JS", b"/EmbeddedFile", b"/Launch", b"/SubmitForm")
_INLINE_IMAGE = re.compile(rb"(?:^|\s)BI\s(.*?)\sID[\s]", re.DOTALL)
_RISKY_INLINE_FILTER = re.compile(rb"/(?:DCT|DCTDecode|JPX|JPXDecode)\b")


class _Uncleanable(Exception):
    """The PDF holds something this cleaner cannot remove with confidence."""


def _strip_jpeg(data: bytes) -> bytes:
    """The JPEG without metadata: APP segments (EXIF, XMP, ICC, JFIF thumbnails, maker data)
    and comments are dropped, except the 14-byte Adobe segment that says how to decode the
    colours; nothing after the end marker is kept (hidden appended files)."""
    if not data.startswith(b"\xff\xd8"):
        raise _Uncleanable("not a JPEG")
    out = bytearray(b"\xff\xd8")
    i, n = 2, len(data)
    while i + 1 < n:
        if data[i] != 0xFF:
            raise _Uncleanable("bad JPEG marker")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # end of image
            out += b"\xff\xd9"
            return bytes(out)
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out += data[i : i + 2]
            i += 2
            continue
        if i + 4 > n:
            raise _Uncleanable("truncated JPEG")
        end = i + 2 + int.from_bytes(data[i + 2 : i + 4], "big")
        if end > n:
            raise _Uncleanable("truncated JPEG")
        if marker == 0xDA:  # start of scan: entropy-coded data runs to the next real marker
            while end + 1 < n and not (
                data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                end += 1
            out += data[i:end]
        else:
            adobe = marker == 0xEE and end - i == 16 and data[i + 4 : i + 9] == b"Adobe"
            if adobe or not (0xE0 <= marker <= 0xEF or marker == 0xFE):
                out += data[i:end]
        i = end
    raise _Uncleanable("JPEG without an end marker")


def _filters(stream) -> list[str]:
    value = stream.get("/Filter")
    if value is None:
        return []
    value = value.get_object()
    items = value if isinstance(value, list) else [value]
    return [str(item.get_object()) for item in items]


def _clean_image_stream(stream) -> None:
    from pypdf.generic import NameObject

    filters = _filters(stream)
    if any(f in ("/JPXDecode", "/JPX") for f in filters):
        raise _Uncleanable("JPEG 2000 image")  # can hold XML boxes; no lossless cleaner here
    if not any(f in ("/DCTDecode", "/DCT") for f in filters):
        return  # raw or losslessly coded pixels: no room for camera metadata
    if filters[-1] not in ("/DCTDecode", "/DCT"):
        raise _Uncleanable("JPEG under another filter")
    # get_data() undoes the filters before DCT and returns the JPEG itself.
    jpeg = _strip_jpeg(stream.get_data() if len(filters) > 1 else stream._data)
    stream._data = jpeg
    stream[NameObject("/Filter")] = NameObject("/DCTDecode")
    stream.pop(NameObject("/DecodeParms"), None)


def _check_content(stream, budget: list[int]) -> None:
    data = stream.get_data()
    budget[0] -= len(data)
    if budget[0] < 0:
        raise _Uncleanable("too much content")
    if b"BI" in data:
        for header in _INLINE_IMAGE.findall(data):
            if _RISKY_INLINE_FILTER.search(header):
                raise _Uncleanable("inline JPEG image")


def _scrub(obj, seen: set, budget: list[int]) -> None:
    """Remove actions, scripts, metadata, embedded files and annotation authors from ``obj``
    and everything reachable from it."""
    from pypdf.generic import ArrayObject, DictionaryObject, NameObject, StreamObject

    obj = obj.get_object()
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, ArrayObject):
        for item in obj:
            _scrub(item, seen, budget)
        return
    if not isinstance(obj, DictionaryObject):
        return
    for key in [k for k in obj if k in _PDF_DROP_KEYS]:
        del obj[key]
    if obj.get("/Type") == "/Annot" or ("/Subtype" in obj and "/Rect" in obj):
        for key in [k for k in obj if k in _PDF_ANNOT_DROP_KEYS]:
            del obj[key]
    annots = obj.get("/Annots")
    if annots is not None:
        kept = [
            a for a in annots.get_object() if a.get_object().get("/Subtype") not in _PDF_DROP_ANNOTS
        ]
        obj[NameObject("/Annots")] = ArrayObject(kept)
    if isinstance(obj, StreamObject):
        subtype = obj.get("/Subtype")
        if subtype == "/Image":
            _clean_image_stream(obj)
        elif subtype == "/Form":
            _check_content(obj, budget)
    contents = obj.get("/Contents") if obj.get("/Type") == "/Page" else None
    if contents is not None:
        contents = contents.get_object()
        for part in contents if isinstance(contents, list) else [contents]:
            _check_content(part.get_object(), budget)
    for key, value in list(obj.items()):
        if key not in ("/Parent", "/P"):  # up the page tree: reached from the pages anyway
            _scrub(value, seen, budget)


def _verify_clean(data: bytes) -> None:
    """Read the result back and look at every object: nothing of the removed kinds is left."""
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject, StreamObject

    reader = PdfReader(io.BytesIO(data), strict=False)
    if "/Info" in reader.trailer or len(reader.trailer["/Root"].keys() - {"/Type", "/Pages"}):
        raise _Uncleanable("document-level entries left")
    numbers = set(reader.xref_objStm)
    for entries in reader.xref.values():
        numbers.update(entries)
    for number in sorted(numbers):
        obj = reader.get_object(number)
        if not isinstance(obj, DictionaryObject):
            continue
        if obj.keys() & _PDF_DROP_KEYS or obj.get("/Subtype") in _PDF_DROP_ANNOTS:
            raise _Uncleanable(f"object {number} keeps a removed entry")
        if (
            isinstance(obj, StreamObject)
            and obj.get("/Subtype") == "/Image"
            and "/DCTDecode" in _filters(obj)
            and obj._data != _strip_jpeg(obj._data)
        ):
            raise _Uncleanable(f"image {number} keeps metadata")
    if any(name in data for name in _PDF_FORBIDDEN_NAMES):
        raise _Uncleanable("script or file marker left")


def _clean_pdf(data: bytes, strip_metadata: bool) -> bytes:
    from pypdf import PdfReader, PdfWriter

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        # Encrypted with an empty user password (copy/print restrictions only)
        # opens without a password, so accept it; otherwise we cannot read it.
        if reader.is_encrypted and not _decrypts_without_password(reader):
            raise AttachmentRejected(MSG_PDF_ENCRYPTED, "pdf_encrypted")
        if len(reader.pages) == 0:
            raise AttachmentRejected(MSG_PDF_CORRUPT, "pdf_corrupt")
        if len(reader.pages) > MAX_PDF_PAGES:
            raise _Uncleanable("too many pages")
        if not strip_metadata:
            return data
        seen: set = set()
        budget = [MAX_PDF_CONTENT_BYTES]
        for page in reader.pages:
            _scrub(page, seen, budget)
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        writer.metadata = None  # drops /Info, including pypdf's default /Producer
        writer.compress_identical_objects(remove_duplicates=False, remove_unreferenced=True)
        out = io.BytesIO()
        writer.write(out)
        cleaned = out.getvalue()
        _verify_clean(cleaned)
        return cleaned
    except _Uncleanable as exc:
        raise AttachmentRejected(MSG_PDF_UNCLEANABLE, "pdf_uncleanable") from exc
    except (AttachmentRejected, MemoryError):
        raise
    except Exception as exc:  # pypdf raises many unrelated exception types
        raise AttachmentRejected(MSG_PDF_CORRUPT, "pdf_corrupt") from exc


def _decrypts_without_password(reader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the optional crypto library
        return False
