"""One-time form tokens: a public form carries a fresh random token, and filing spends it.

The token is spent in the transaction that files the report (or the follow-up), under a unique
constraint, so two posts of one form can never both file, even in parallel: the second finds it
spent and the reporter is told the first was received. A report writes its token row in the
statement that writes the report (``row``: tipline.together), a follow-up spends it first in
its transaction (``spend``). The receipt is still shown once only.
Tokens are kept for TOKEN_DAYS, long enough for any reload (the nightly purge forgets older
ones: ops.retention); only their SHA-256 is stored.
"""

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from .models import SubmissionToken

FIELD = "submission"
TOKEN_DAYS = 7
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


class AlreadySubmitted(Exception):
    """This form was posted before and filed then; ``at`` is when."""

    def __init__(self, at: datetime):
        super().__init__("form already submitted")
        self.at = at


def new_token() -> str:
    return secrets.token_urlsafe(32)


def valid(token) -> str | None:
    """The token if it is well formed, else None (a post without one gets no protection)."""
    return token if isinstance(token, str) and _TOKEN.match(token) else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def spent_at(token: str | None) -> datetime | None:
    """When this token was spent, or None: a cheap check before a form is even validated."""
    if not token:
        return None
    return (
        SubmissionToken.objects.filter(digest=_digest(token))
        .values_list("used_at", flat=True)
        .first()
    )


def row(token: str | None) -> SubmissionToken | None:
    """The spent token's row, to write in the statement that files the report: its unique
    digest makes the whole statement fail when the form was posted before (or is being filed
    in parallel: the statement waits for that one's commit), and ``spent_at`` then says when."""
    return SubmissionToken(digest=_digest(token), used_at=timezone.now()) if token else None


def spend(token: str | None) -> None:
    """Spend the token inside the caller's transaction, or raise AlreadySubmitted.

    Call it first in the transaction: a parallel post of the same form then waits on the unique
    index until this one commits, and inserts nothing. One statement, no savepoint: ON CONFLICT
    DO NOTHING leaves the caller's transaction usable, and RETURNING says whether it was ours."""
    if not token:
        return
    now = timezone.now()
    table = SubmissionToken._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (digest, used_at) VALUES (%s, %s) "  # noqa: S608 — the model's table
            "ON CONFLICT (digest) DO NOTHING RETURNING id",
            [_digest(token), now],
        )
        if cursor.fetchone() is None:
            raise AlreadySubmitted(spent_at(token) or now)


def forget_expired(now: datetime | None = None) -> int:
    """Delete tokens spent more than TOKEN_DAYS ago (the nightly purge); how many."""
    now = now or timezone.now()
    return SubmissionToken.objects.filter(used_at__lt=now - timedelta(days=TOKEN_DAYS)).delete()[0]
