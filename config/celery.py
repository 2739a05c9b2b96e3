"""Celery app. Without CELERY_BROKER_URL tasks run eagerly in-process (see settings)."""

import os

from celery import Celery
from celery.signals import worker_init

from vault.keyring import check_at_start_up

from . import broker

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

broker.install()

app = Celery("tipline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _check_key_ring(**kwargs):
    # A worker without the key ring would fail on its first task; refuse to start instead.
    check_at_start_up()
