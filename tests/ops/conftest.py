"""The named cast of the casework tests, and a clock, for operations tests."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ..casework.conftest import cast, investigating_case, login, units  # noqa: F401


@pytest.fixture
def clock(monkeypatch):
    """set(days_ago): the services see that moment as now; set(None): the real time again."""
    real = timezone.now

    def set_to(days_ago):
        if days_ago is None:
            monkeypatch.setattr(timezone, "now", real)
        else:
            moment = real() - timedelta(days=days_ago)
            monkeypatch.setattr(timezone, "now", lambda: moment)

    return set_to
