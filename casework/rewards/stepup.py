"""Step-up authentication: approving and paying a reward, and seeing its payee, need a current
code from the user's confirmed authenticator, re-entered for that reward within the last
TIPLINE_REWARD_STEP_UP_MINUTES (signing in is not enough).

The check lives in the services, so every caller (a page, a script) is held to it. ``verify``
locks the user's TOTP devices so two requests cannot spend the same code, and django-otp refuses
a code whose time step is not after the last one used (a reused code) or that lies outside the
tolerance (a stale code). It runs in a transaction of its own and raises only after it, so a
failed attempt is counted (django-otp's back-off) and audited even when the caller's change is
refused.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_variables
from django_otp.plugins.otp_totp.models import TOTPDevice

from org import scope

from .. import audit
from ..audit_catalogue import Action
from ..errors import NotAllowed, ServiceError
from .models import Reward, StepUp


class StepUpRequired(NotAllowed):
    def __init__(self):
        super().__init__(
            _("Enter the current code from your authenticator app to confirm this action.")
        )


@sensitive_variables("code")
def verify(user, reward_id, code: str) -> StepUp:
    code = (code or "").strip().replace(" ", "")
    with transaction.atomic():
        reward = Reward.objects.only("pk", "township_id").get(pk=reward_id)
        scope.require(user, reward.township_id)
        devices = list(
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        )
        ok = (
            len(code) == 6
            and code.isdigit()
            and any(device.verify_token(code) for device in devices)
        )
        now = timezone.now()
        if ok:
            StepUp.objects.filter(user=user, verified_at__lt=now - _lifetime()).delete()
            grant = StepUp.objects.create(user=user, reward=reward, verified_at=now)
            audit.record(user, Action.REWARD_STEP_UP, reward)
        else:
            audit.record(user, Action.REWARD_STEP_UP_FAILED, reward)
    if not ok:
        if not devices:
            raise ServiceError(_("Your account has no authenticator app to confirm this with."))
        raise ServiceError(
            _(
                "The code is not valid. Enter the current 6-digit code from your authenticator "
                "app (each code works once)."
            )
        )
    return grant


def _lifetime() -> timedelta:
    return timedelta(minutes=settings.TIPLINE_REWARD_STEP_UP_MINUTES)


def is_fresh(user, reward) -> bool:
    since = timezone.now() - _lifetime()
    return StepUp.objects.filter(user=user, reward=reward, verified_at__gte=since).exists()


def require(user, reward) -> None:
    if not is_fresh(user, reward):
        raise StepUpRequired()
