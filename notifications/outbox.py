"""Handing events to the notification tasks after the commit of the change that caused them.

A foundation: every layer may call it, and it imports no layer. Tasks are found by name in the
Celery registry, so the layer that records an event never imports the tasks (which read every
layer to decide who hears of it).
"""

import logging

from celery import current_app
from django.db import transaction

log = logging.getLogger(__name__)


def after_commit(task_name: str, *args) -> None:
    """Run ``task_name(*args)`` once the current transaction commits. A broker or mail server
    that fails then is logged, never raised into the request that made the change."""
    transaction.on_commit(lambda: _hand_over(task_name, args), robust=True)


def _hand_over(task_name: str, args) -> None:
    try:
        current_app.tasks[task_name].delay(*args)
    except Exception:
        log.exception("notification not handed over", extra={"task": task_name})
