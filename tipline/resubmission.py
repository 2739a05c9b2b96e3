"""The same report sent again from the same browser session (Back after filing, then Send): the
first one was filed, so the second is answered as a reload is, without a second report.

The form's one-time token cannot see this: going Back loads a fresh form with a fresh token. So
the session remembers, for a short window, a keyed hash of each report's normalised category
and description (never the text), with the time it was filed.
"""

import unicodedata
from datetime import datetime, timedelta

from django.utils import timezone
from django.utils.crypto import salted_hmac

from .text import clean_text

WINDOW = timedelta(minutes=10)
SESSION_KEY = "tipline_filed"  # [[hash, ISO time filed], …] of this session's recent reports
_SALT = "tipline.resubmission"


def fingerprint(category, description) -> str:
    """A keyed hash of what makes two reports the same: category and description, compared
    without invisible characters, width variants and spacing (Chinese text has no spaces to
    lose: a line break added or a space removed leaves it the same report)."""
    text = unicodedata.normalize("NFKC", clean_text(str(description or ""), multiline=True))
    text = "".join(text.split())
    return salted_hmac(_SALT, f"{category}\n{text}", algorithm="sha256").hexdigest()


def _recent(session, now: datetime) -> list[list[str]]:
    kept = []
    for entry in session.get(SESSION_KEY, []):
        try:
            digest, at = entry
            filed = datetime.fromisoformat(at)
        except (TypeError, ValueError):
            continue  # a malformed entry is forgotten, never an error
        if now - filed <= WINDOW:
            kept.append([digest, at])
    return kept


def filed_at(request, category, description) -> datetime | None:
    """When this session filed the same report within the window, or None."""
    digest = fingerprint(category, description)
    for seen, at in _recent(request.session, timezone.now()):
        if seen == digest:
            return datetime.fromisoformat(at)
    return None


def remember(request, category, description, at: datetime) -> None:
    """Note a filed report in the session. A visitor's session lasts until the browser closes
    (a signed-in staff member's keeps its own expiry)."""
    session = request.session
    recent = _recent(session, timezone.now())
    recent.append([fingerprint(category, description), at.isoformat()])
    session[SESSION_KEY] = recent
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        session.set_expiry(0)
