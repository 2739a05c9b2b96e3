"""What seed_demo leaves on a newcomer's screen: the demo receipts, users and addresses in one
short block at the end, and nothing else in between.

While the demo is seeded, the e-mails its events send go to files under TIPLINE_VAR_DIR/mail
instead of the console (only when the console backend is configured: the development default),
and the per-report INFO log lines are held back. In development the demo receipts (and the claim
code) are also written to TIPLINE_VAR_DIR/demo-receipts.txt, so a second run, which makes none,
can say where they are.
"""

import contextlib
import logging
import os
from pathlib import Path

from django.conf import settings
from django.test.utils import override_settings

CONSOLE_EMAIL = "django.core.mail.backends.console.EmailBackend"
FILE_EMAIL = "django.core.mail.backends.filebased.EmailBackend"


def mail_dir() -> Path:
    return Path(settings.VAR_DIR) / "mail"


def receipts_file() -> Path:
    return Path(settings.VAR_DIR) / "demo-receipts.txt"


@contextlib.contextmanager
def quietly():
    """Seed without flooding the console; yields the folder the e-mails went to, or None when
    they went wherever EMAIL_BACKEND sends them."""
    redirect = settings.EMAIL_BACKEND == CONSOLE_EMAIL
    previous = logging.root.manager.disable
    logging.disable(logging.INFO)  # warnings still show
    try:
        if redirect:
            mail_dir().mkdir(parents=True, exist_ok=True)
            with override_settings(EMAIL_BACKEND=FILE_EMAIL, EMAIL_FILE_PATH=str(mail_dir())):
                yield mail_dir()
        else:
            yield None
    finally:
        logging.disable(previous)


def save_receipts(lines: list[str], *, append: bool = False) -> Path | None:
    """Write the demo receipts' lines (development only: they let anyone follow the demo
    reports), readable by the owner only: a new demo starts the file again, a later run that
    adds to an existing demo appends its new receipts."""
    if not settings.TIPLINE_DEVELOPMENT or not lines:
        return None
    path = receipts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = os.O_APPEND if append else os.O_TRUNC
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | mode, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return path


def shown_path(path: Path) -> str:
    """The path as the person typed their way to it: relative to the checkout when inside it."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)
