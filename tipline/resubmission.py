"""The same report sent again from the same browser (Back after filing, then Send): the first
one was filed, so the second is answered as a reload is, without a second report.

The form's one-time token cannot see this: going Back loads a fresh form with a fresh token. So
the browser keeps, for a short window, a keyed hash of each report's normalised category and
description (never the text) with the time it was filed, in a signed cookie of its own: a
public visitor still gets no server-side session, nothing of it is stored here, and the cookie
expires with the window (and with the browser session).
"""

import json
import unicodedata
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .text import clean_text

WINDOW = timedelta(minutes=10)
COOKIE = "tipline_filed"  # [[hash, ISO time filed], …] of this browser's recent reports
_SALT = "tipline.resubmission"
_KEEP = 5  # entries at most: a cookie stays small


def fingerprint(category, description) -> str:
    """A keyed hash of what makes two reports the same: category and description, compared
    without invisible characters, width variants and spacing (Chinese text has no spaces to
    lose: a line break added or a space removed leaves it the same report)."""
    text = unicodedata.normalize("NFKC", clean_text(str(description or ""), multiline=True))
    text = "".join(text.split())
    return salted_hmac(_SALT, f"{category}\n{text}", algorithm="sha256").hexdigest()


def recent(request, now: datetime | None = None) -> list[list[str]]:
    """This browser's reports filed within the window, as [hash, ISO time]; a missing, forged,
    old or malformed cookie counts as none, never as an error."""
    now = now or timezone.now()
    try:
        raw = request.get_signed_cookie(COOKIE, salt=_SALT, max_age=int(WINDOW.total_seconds()))
        entries = json.loads(raw)
    except (KeyError, signing.BadSignature, ValueError):
        return []
    kept = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            digest, at = entry
            filed = datetime.fromisoformat(at)
        except (TypeError, ValueError):
            continue
        if isinstance(digest, str) and filed.tzinfo and now - filed <= WINDOW:
            kept.append([digest, at])
    return kept


def filed_at(request, category, description) -> datetime | None:
    """When this browser filed the same report within the window, or None."""
    digest = fingerprint(category, description)
    for seen, at in recent(request):
        if seen == digest:
            return datetime.fromisoformat(at)
    return None


def remember(request, response, category, description, at: datetime) -> None:
    """Note a filed report in the browser's cookie, for the window only."""
    entries = [*recent(request), [fingerprint(category, description), at.isoformat()]][-_KEEP:]
    response.set_signed_cookie(
        COOKIE,
        json.dumps(entries, separators=(",", ":")),
        salt=_SALT,
        max_age=int(WINDOW.total_seconds()),
        path="/report/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
