"""Validate and sanitise files uploaded by citizens with a tip.

Uploads are identified by their content (magic bytes) only: the file name and
the client-supplied content type are attacker-controlled. Metadata (EXIF GPS
positions, camera serial numbers, author names...) can identify the person who
sent a tip, so images and PDFs are rebuilt from their content alone.

Pure Python on purpose (no Django import) so it can be tested without settings.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext_noop as _noop

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

# Marked for translation here (the caller translates `template`); no settings needed to import.
MSG_TYPE = _noop(
    "This file type is not accepted. Please upload a JPEG or PNG photo, a PDF, "
    "an MP3/M4A recording or an MP4 video."
)
MSG_EMPTY = _noop("The file is empty.")
MSG_TOO_LARGE = _noop("The file is too large. The maximum size is %(limit_mb)s MB.")
MSG_IMAGE_TOO_LARGE = _noop("The image is too large to process.")
MSG_IMAGE_CORRUPT = _noop("The image could not be read. It may be damaged.")
MSG_PDF_ENCRYPTED = _noop("Password-protected PDF files cannot be accepted.")
MSG_PDF_CORRUPT = _noop("The PDF could not be read. It may be damaged.")
MSG_GENERIC = _noop("The file could not be processed. Please try another file.")


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


def _clean_pdf(data: bytes, strip_metadata: bool) -> bytes:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import NameObject

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        # Encrypted with an empty user password (copy/print restrictions only)
        # opens without a password, so accept it; otherwise we cannot read it.
        if reader.is_encrypted and not _decrypts_without_password(reader):
            raise AttachmentRejected(MSG_PDF_ENCRYPTED, "pdf_encrypted")
        if len(reader.pages) == 0:
            raise AttachmentRejected(MSG_PDF_CORRUPT, "pdf_corrupt")
        if not strip_metadata:
            return data
        writer = PdfWriter()
        for page in reader.pages:
            writer.add_page(page)
        for page in writer.pages:
            for key in ("/Metadata", "/PieceInfo"):  # per-page XMP / app private data
                page.pop(NameObject(key), None)
        writer.metadata = None  # drops /Info, including pypdf's default /Producer
        writer.root_object.pop(NameObject("/Metadata"), None)  # document XMP
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()
    except (AttachmentRejected, MemoryError):
        raise
    except Exception as exc:  # pypdf raises many unrelated exception types
        raise AttachmentRejected(MSG_PDF_CORRUPT, "pdf_corrupt") from exc


def _decrypts_without_password(reader) -> bool:
    try:
        return bool(reader.decrypt(""))
    except Exception:  # e.g. AES without the optional crypto library
        return False
