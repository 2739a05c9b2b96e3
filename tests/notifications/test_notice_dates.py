"""A notice that names a deadline names its date, even when it is written after the case has
moved on (notices are written after the commit: the demo e-mail read "最近的期限为。")."""

import pytest

from casework import services
from casework.models import Case

from .conftest import notices, run_outbox

pytestmark = pytest.mark.django_db


def test_the_assignment_notice_names_the_deadline_as_it_stood(cast, units, case, mailoutbox):
    run_outbox()
    mailoutbox.clear()
    due = Case.objects.get(pk=case.pk).next_due
    assert due is not None

    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    # Before the notice is written the case moves on and has no next deadline left.
    Case.objects.filter(pk=case.pk).update(next_due=None)
    run_outbox()

    expected = f"最近的期限为{due.isoformat()}。"
    assert expected in mailoutbox[0].body
    inbox = notices(event__kind="case.assigned", channel="inbox").get()
    assert expected in inbox.body
    assert "最近的期限为。" not in inbox.body
