"""/healthz for the load balancer: is this process able to serve? No data, no auth.

A cache that does not answer makes the answer "degraded" (200): the site still takes reports,
with rate limits counted in each process (tipline.throttle), so the load balancer must keep
sending traffic; monitoring reads the status.

``?deep=1`` adds the broker and the notification backlog, for administrators (a signed-in,
verified administrator, or ``Authorization: Bearer $TIPLINE_HEALTH_TOKEN`` for monitoring).
"""

import hmac
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app
from vault import storage
from vault.keyring import get_keyring

from .backlog import backlog

log = logging.getLogger(__name__)


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


class Degraded(Exception):
    """The check failed, but the site still serves (with less)."""


def _cache():
    key = f"healthz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=10)
        if cache.get(key) != "1":
            raise RuntimeError("the cache did not return what was stored")
        cache.delete(key)
    except Exception as exc:
        raise Degraded(
            f"{type(exc).__name__}: rate limits are counted in each web process until the "
            "cache answers"
        ) from exc


def _key_ring():
    ring = get_keyring()
    ring.kek(ring.current_kek)


def _broker():
    if app.conf.task_always_eager:
        return "not configured: tasks run in-process"
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=1)
    return "ok"


def _attachment_storage():
    """Where the encrypted files go can take them: enough free space on the local disk (below
    the threshold a full disk is near, and reports with evidence would be refused), or, with
    object storage, the bucket answers."""
    return storage.check()


SHALLOW = {"database": _database, "cache": _cache, "key_ring": _key_ring}
DEEP = {"broker": _broker, "attachment_storage": _attachment_storage}


def _run(checks: dict, detailed: bool) -> tuple[str, dict]:
    """("ok" | "degraded" | "fail", result per check)."""
    results, status = {}, "ok"
    for name, check in checks.items():
        try:
            outcome = check()
            results[name] = outcome if detailed and isinstance(outcome, str) else "ok"
        except Degraded as exc:
            log.warning("health check degraded", extra={"check": name})
            status = "fail" if status == "fail" else "degraded"
            results[name] = f"degraded: {exc}" if detailed else "degraded"
        except Exception as exc:
            log.warning("health check failed", extra={"check": name, "error": type(exc).__name__})
            status = "fail"
            results[name] = f"fail: {type(exc).__name__}: {exc}" if detailed else "fail"
    return status, results


def _may_see_deep(request) -> bool:
    token = settings.TIPLINE_HEALTH_TOKEN
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[7:].encode(), token.encode())
    user = getattr(request, "user", None)
    return bool(
        user
        and user.is_authenticated
        and user.is_verified()
        and (user.is_superuser or user.groups.filter(name="administrator").exists())
    )


@never_cache
@require_GET
def healthz(request):
    deep = request.GET.get("deep") == "1"
    if deep and not _may_see_deep(request):
        return JsonResponse({"error": "administrators only"}, status=403)
    checks = {**SHALLOW, **DEEP} if deep else SHALLOW
    status, results = _run(checks, detailed=deep)
    if deep:
        results["outbox_backlog"] = backlog()
    return JsonResponse(
        {"status": status, "checks": results}, status=503 if status == "fail" else 200
    )
