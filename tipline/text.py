"""Free text from the public: nothing in it may make a page show something other than what was
stored. Bidirectional overrides and isolates, zero-width and other invisible characters, and
control characters (other than tabs and line breaks in multi-line text) are removed at intake;
text stored before that is shown with each such character made visible."""

import re

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

# C0/C1 controls except tab and line breaks; soft hyphen; Arabic letter mark; Mongolian vowel
# separator; zero-width spaces, joiners and direction marks; bidi embeddings and overrides;
# line and paragraph separators; word joiner and invisible operators; bidi isolates; byte-order
# mark; interlinear annotation; tag characters (used to hide text from readers).
INVISIBLE_BMP_CLASS = (
    "\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\u00ad\\u061c\\u180e\\u200b-\\u200f"
    "\\u202a-\\u202e\\u2028\\u2029\\u2060-\\u2064\\u2066-\\u2069\\ufeff\\ufff9-\\ufffb"
)
# Tag characters lie outside the Basic Multilingual Plane, which JSON Schema patterns (ECMA-262)
# cannot name in a character class; the API document leaves them out, intake removes them.
INVISIBLE_CLASS = INVISIBLE_BMP_CLASS + "\\U000e0000-\\U000e007f"
_INVISIBLE = re.compile(f"[{INVISIBLE_CLASS}]")
_LINE_BREAKS = re.compile(r"[\t\r\n]+")


def clean_text(value: str, *, multiline: bool) -> str:
    """The text without invisible characters; single-line text also without tabs or breaks."""
    text = _INVISIBLE.sub("", value or "")
    if not multiline:
        text = _LINE_BREAKS.sub(" ", text)
    return text.strip()


def shown_safely(value) -> SafeString:
    """HTML-escaped text in which every invisible or direction-changing character appears as
    a visible code, e.g. ⟦U+202E⟧, so staff see exactly what was stored."""
    escaped = escape("" if value is None else str(value))
    return mark_safe(  # noqa: S308 — escaped above; only the visible codes are added
        _INVISIBLE.sub(lambda m: f"⟦U+{ord(m.group()):04X}⟧", escaped)
    )
