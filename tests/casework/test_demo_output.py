"""What `make run` leaves on a newcomer's screen: seed_demo ends with one short block (addresses,
users, the receipts to try), its e-mails go to var/mail instead of the console, every demo receipt
is kept in var/demo-receipts.txt, and a second run points there."""

import io
import re

import pytest
from django.core.management import call_command

from org.models import County
from tipline import services as intake

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]  # seeds the county

RECEIPT = re.compile(r"\b\d{16}\b")


def test_seed_demo_ends_with_a_short_block_and_keeps_its_receipts(eager_tasks, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"  # as in make run
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    text = out.getvalue()
    lines = text.strip().splitlines()

    # Nothing from the console e-mail backend: the notices went to files under var/mail.
    assert "Content-Type" not in capsys.readouterr().out
    mails = [p.read_text(encoding="utf-8") for p in (settings.VAR_DIR / "mail").iterdir()]
    assert sum(m.count("Content-Type: text/plain") for m in mails) >= 20
    assigned = [m for m in mails if "已分派给您" in m]
    assert assigned and all(re.search(r"最近的期限为\d{4}-\d{2}-\d{2}。", m) for m in assigned)
    assert not any("最近的期限为。" in m for m in mails)

    # One short block, last: addresses, users, the receipts to try.
    assert len(lines) <= 14, text
    block = "\n".join(lines[-8:])
    assert "Demo data ready" in block and "Staff users: clerk," in block
    assert settings.TIPLINE_SITE_URL.rstrip("/") + "/staff/" in block
    assert re.search(r"reward to claim on /receipt/: \d{16}", block)
    saved = settings.VAR_DIR / "demo-receipts.txt"
    assert lines[-1].endswith(str(saved)) and lines[-1].startswith("All ")
    kept = saved.read_text(encoding="utf-8")
    assert set(RECEIPT.findall(text)) <= set(RECEIPT.findall(kept))
    every = RECEIPT.findall(kept)
    assert len(every) >= 20 and "in-person reward awaiting payment:" in kept
    assert all(intake.find_by_receipt(r) is not None for r in every[:3])  # they work
    assert saved.stat().st_mode & 0o077 == 0  # the owner's only

    # The demo county tells claimants where and when.
    county = County.objects.get(code="demo")
    assert county.finance_window_address and county.finance_window_hours
    assert county.reward_payment_working_days

    again = io.StringIO()
    call_command("seed_demo", stdout=again)
    assert not RECEIPT.search(again.getvalue())
    assert again.getvalue().strip().splitlines()[-1].endswith(str(saved))
    assert saved.read_text(encoding="utf-8") == kept  # not overwritten by the run that made none
