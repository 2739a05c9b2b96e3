"""Version tokens of the assessment's inputs, in the shared cache: every write that can change a
county-year's figures gives the tokens it touches a new random value, so figures cached under
the old values (report.cached) are never shown again.

Three kinds of token:
- a township's (``assessment:t:<id>``): its cases, their documents, linked reports, falsified
  cases, quotas, inspection entries and adjustments;
- a county's (``assessment:c:<id>``): its sheet template, its frozen years, the county row;
- the epoch (``assessment:epoch``): what every county reads (document types, townships: names,
  reporting lines, which county they belong to), bulk writes that bypass the models
  (generate_load_data's COPY, demo seeding with ``update``) and ``migrate`` (after a restore
  from a backup, or a new release): ``touch_all``.

A write changes its tokens twice: at once (so a reader in the same transaction, or in a test
whose transaction never commits, sees the change) and again once the transaction commits (so
figures another request computed from the data before the commit, and cached under the value
set at once, are dropped too). Tokens are random, never counters: a token the cache lost is
given a fresh value, which no cached figure can carry.

Most writes are caught by model signals (post_save / post_delete, connected in ``register``),
whoever makes them (services, admin, shell). Queryset ``update``/``bulk_create`` and raw SQL do
not send them: the code that uses them on an input calls ``touch_*`` itself.

When the cache cannot be reached a write still goes on (its token is not changed): the figures
a reader cached before live at most ``report.CACHE_SECONDS``.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save

from org.models import County, Township
from tipline.models import Report

from ..models import Case, CaseDocument, DocumentType
from .models import (
    AssessmentFreeze,
    CaseFalsification,
    InspectionEntry,
    SheetAdjustment,
    SheetItem,
    TownshipQuota,
)

logger = logging.getLogger(__name__)

EPOCH = "assessment:epoch"


def township_key(township_id) -> str:
    return f"assessment:t:{township_id}"


def county_key(county_id) -> str:
    return f"assessment:c:{county_id}"


def _renew(keys: list[str]) -> None:
    try:
        cache.set_many({key: uuid.uuid4().hex for key in keys}, timeout=None)
    except Exception:  # the cache is down: the write goes on (see the module's docstring)
        logger.warning("assessment versions not renewed: %s", keys, exc_info=True)


def _touch(keys: list[str]) -> None:
    keys = [k for k in keys if k]
    if not keys:
        return
    _renew(keys)
    transaction.on_commit(lambda: _renew(keys), robust=True)


def touch_townships(*township_ids) -> None:
    _touch([township_key(pk) for pk in township_ids if pk is not None])


def touch_county(county_id) -> None:
    if county_id is not None:
        _touch([county_key(county_id)])


def touch_all() -> None:
    _touch([EPOCH])


def current(keys: list[str]) -> dict[str, str]:
    """The tokens of ``keys``, each given a fresh value if the cache has none (one round trip
    when they all exist)."""
    found = cache.get_many(keys)
    for key in keys:
        if key not in found:
            cache.add(key, uuid.uuid4().hex, timeout=None)  # another reader may add first
            found[key] = cache.get(key)
    return found


# --- which writes touch which tokens ------------------------------------------------------------


def _case_township(instance):
    """The township of an object of one case, without a query when the case is loaded."""
    case = instance._state.fields_cache.get("case")
    if case is not None:
        return case.township_id
    return Case.objects.filter(pk=instance.case_id).values_list("township_id", flat=True).first()


def _township_of(sender, instance, **kwargs):
    touch_townships(instance.township_id)


def _case_of(sender, instance, **kwargs):
    touch_townships(_case_township(instance))


def _linked_report(sender, instance, created=False, update_fields=None, **kwargs):
    """A report counts once linked to a case (of its own township). Intake (a new report in no
    case) and saves that leave an unlinked report's case alone are not touched; a deletion
    always is (the instance in hand may not know its case)."""
    unlinked = instance.case_id is None and kwargs["signal"] is post_save
    if unlinked and (created or (update_fields is not None and "case" not in update_fields)):
        return
    touch_townships(instance.township_id)


def _county_of(sender, instance, **kwargs):
    touch_county(instance.county_id)


def _county(sender, instance, **kwargs):
    touch_county(instance.pk)


def _everything(sender, instance, **kwargs):
    touch_all()


def _migrated(sender, **kwargs):
    # After migrate: a restored backup (pg_restore sends no signals; deploy/restore.sh then
    # migrates) or a new release must not read what was cached before.
    touch_all()


def register(app_config) -> None:
    """Connect the receivers (AssessmentConfig.ready)."""
    post_migrate.connect(_migrated, sender=app_config, dispatch_uid="assessment-versions-migrate")
    receivers = {
        _township_of: (Case, TownshipQuota, InspectionEntry, SheetAdjustment),
        _case_of: (CaseDocument, CaseFalsification),
        _linked_report: (Report,),
        _county_of: (SheetItem, AssessmentFreeze),
        _county: (County,),
        _everything: (Township, DocumentType),
    }
    for receiver, models in receivers.items():
        for model in models:
            uid = f"assessment-versions-{model._meta.label}"
            post_save.connect(receiver, sender=model, dispatch_uid=uid)
            post_delete.connect(receiver, sender=model, dispatch_uid=uid + "-deleted")
