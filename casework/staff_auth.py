"""Staff sign-in: password (throttled per account), then TOTP; first sign-in enrols a device."""

import base64
import hashlib
import io
import unicodedata
from importlib import import_module

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import devices_for_user, user_has_device
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from tipline import throttle

from . import audit
from .audit_catalogue import Action
from .models import BackupCodeDevice


def _next(request, default="staff:home"):
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return target
    return reverse(default)


# Enrolment in progress: the unconfirmed device this session, and only this one, may confirm.
PENDING_DEVICE = "staff_otp_pending_device"
PENDING_PER_ACCOUNT = 5


def _is_control(ch: str) -> bool:
    # Cc: C0/C1 controls including NUL; Cf: invisible format characters (bidi, zero-width).
    return unicodedata.category(ch) in ("Cc", "Cf")


def normalised_username(raw: str) -> str:
    """What a typed user name is counted and audited as: NFKC, no control or invisible
    characters, trimmed, lower case, at most 150 characters."""
    text = unicodedata.normalize("NFKC", raw or "")
    text = "".join(ch for ch in text if not _is_control(ch))
    return text.strip().lower()[:150]


def _account_bucket(username: str) -> str:
    return hashlib.sha256(normalised_username(username).encode()).hexdigest()[:32]


def _audited_name(username: str) -> dict:
    """A failed sign-in names the account when one has that name; otherwise only a hash of what
    was typed is kept (a password typed into the name field must not land in the audit log)."""
    name = normalised_username(username)
    account = get_user_model().objects.filter(username__iexact=name).first() if name else None
    if account is not None:
        return {"username": account.username}
    return {"username_hash": hashlib.sha256(name.encode()).hexdigest()[:16]}


class StaffAuthenticationForm(AuthenticationForm):
    def clean_username(self):
        username = self.cleaned_data.get("username") or ""
        if any(_is_control(ch) for ch in username):
            raise ValidationError(
                gettext_lazy("The user name contains characters that no user name has."),
                code="control_characters",
            )
        return username


def _throttled_login(request, bucket: str, username: str, exc: throttle.Throttled):
    # Every attempt is in the audit log; while an account is throttled, once per window is
    # enough to show it (one row per refused attempt would let a flood fill the log).
    if throttle.first_refusal("login_per_account", bucket):
        audit.record(
            None,
            Action.STAFF_LOGIN_THROTTLED,
            object_type="auth.user",
            object_id="",
            **_audited_name(username),
        )
    response = render(
        request,
        "casework/login.html",
        {"form": StaffAuthenticationForm(request), "throttled_minutes": exc.minutes},
        status=429,
    )
    response["Retry-After"] = str(exc.retry_after)
    return response


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    form = StaffAuthenticationForm(request, data=request.POST or None)
    if request.method == "POST":
        username = request.POST.get("username", "")
        bucket = _account_bucket(username)
        try:
            # Counted before the password is checked, so parallel guesses cannot all pass.
            attempt = throttle.take("login_per_account", bucket)
        except throttle.Throttled as exc:
            return _throttled_login(request, bucket, username, exc)
        if form.is_valid():
            attempt.give_back()
            user = form.get_user()
            auth.login(request, user)
            audit.record(user, Action.STAFF_LOGIN, user)
            return redirect(f"{_otp_url(user)}?{urlencode({'next': _next(request)})}")
        audit.record(
            None,
            Action.STAFF_LOGIN_FAILED,
            object_type="auth.user",
            object_id="",
            reason="invalid_username" if form.has_error("username") else "wrong_credentials",
            **_audited_name(username),
        )
    return render(request, "casework/login.html", {"form": form, "next": _next(request)})


def _otp_url(user) -> str:
    return (
        reverse("staff:otp")
        if user_has_device(user, confirmed=True)
        else reverse("staff:otp_setup")
    )


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request):
    user = request.user
    if not user.is_authenticated:
        return redirect("staff:login")
    if user.is_verified():
        return redirect(_next(request))
    if not user_has_device(user, confirmed=True):
        return redirect("staff:otp_setup")
    error = None
    if request.method == "POST":
        bucket = f"user-{user.pk}"
        try:
            attempt = throttle.take("otp_per_account", bucket)
        except throttle.Throttled as exc:
            if throttle.first_refusal("otp_per_account", bucket):
                audit.record(user, Action.STAFF_OTP_THROTTLED, user)
            response = render(
                request,
                "casework/otp_verify.html",
                {"throttled_minutes": exc.minutes, "next": _next(request)},
                status=429,
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        device = _match(user, request.POST.get("token", "").strip())
        if device is not None:
            attempt.give_back()
            _signed_in(request, device)
            audit.record(user, Action.STAFF_OTP_VERIFIED, user, device=type(device).__name__)
            return redirect(_next(request))
        audit.record(user, Action.STAFF_OTP_FAILED, user)
        error = _(
            "The code is not valid. Use the 6-digit code from your authenticator app, "
            "or a backup code."
        )
    return render(request, "casework/otp_verify.html", {"error": error, "next": _next(request)})


def _signed_in(request, device) -> None:
    """Mark the session verified under a new session key: an id captured between the password
    and the code steps is worth nothing afterwards."""
    otp_login(request, device)
    request.session.cycle_key()


def _match(user, token: str):
    """Six digits go to the authenticator only, anything else to the backup codes only, so
    guessing backup codes does not also lock the real user's authenticator (django-otp's
    match_token would try every device and count a failure on each)."""
    if not token or len(token) > 20:
        return None
    wanted = TOTPDevice if token.isdigit() else BackupCodeDevice
    for device in devices_for_user(user, confirmed=True):
        if isinstance(device, wanted) and device.verify_token(token):
            return device
    return None


def _qr_data_uri(url: str) -> str:
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    image.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def _pending_device(request) -> TOTPDevice:
    """This session's unconfirmed device: a secret shown to one session is never shown to
    another, so knowing the password is not enough to learn the secret the real user scans."""
    user = request.user
    pk = request.session.get(PENDING_DEVICE)
    device = TOTPDevice.objects.filter(pk=pk, user=user, confirmed=False).first() if pk else None
    if device is None:
        device = TOTPDevice.objects.create(user=user, confirmed=False, name="authenticator")
        request.session[PENDING_DEVICE] = device.pk
        stale = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk")
        stale_ids = list(stale.values_list("pk", flat=True)[PENDING_PER_ACCOUNT:])
        TOTPDevice.objects.filter(pk__in=stale_ids).delete()
    return device


def _end_other_sessions(user, keep: str) -> int:
    """Sign the account out everywhere but here (e.g. whoever else knew the password)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    ended = 0
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if session.session_key == keep:
            continue
        if session.get_decoded().get(auth.SESSION_KEY) == str(user.pk):
            store(session_key=session.session_key).delete()
            ended += 1
    return ended


def _confirm(request, device) -> list[str] | None:
    """Confirm this session's device, unless another session confirmed one first."""
    user = request.user
    with transaction.atomic():
        # The account row is the lock: two sessions confirming at once cannot both win.
        get_user_model().objects.select_for_update().filter(pk=user.pk).first()
        if user_has_device(user, confirmed=True):
            return None
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        backup, _new = BackupCodeDevice.objects.get_or_create(
            user=user, defaults={"name": "backup codes", "confirmed": True}
        )
        codes = backup.generate()
        request.session.pop(PENDING_DEVICE, None)
        _signed_in(request, device)
        ended = _end_other_sessions(user, keep=request.session.session_key)
        audit.record(user, Action.STAFF_OTP_ENROLLED, user, other_sessions_ended=ended)
    return codes


@never_cache
@require_http_methods(["GET", "POST"])
def setup(request):
    """Enrol a TOTP device. Only while the account has no confirmed device: replacing one needs
    that device (signed in with it) or an administrator deleting it in the admin."""
    user = request.user
    if not user.is_authenticated:
        return redirect("staff:login")
    if user_has_device(user, confirmed=True):
        return redirect("staff:otp")
    device = _pending_device(request)
    error = None
    if request.method == "POST":
        if device.verify_token(request.POST.get("token", "").strip()):
            codes = _confirm(request, device)
            if codes is None:
                return redirect("staff:otp")
            return render(
                request, "casework/otp_backup_codes.html", {"codes": codes, "next": _next(request)}
            )
        error = _("The code is not valid. Check the time on your phone and try the current code.")
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return render(
        request,
        "casework/otp_setup.html",
        {
            "qr": _qr_data_uri(device.config_url),
            "secret": secret,
            "error": error,
            "next": _next(request),
        },
    )


@require_POST
def logout(request):
    if request.user.is_authenticated:
        audit.record(request.user, Action.STAFF_LOGOUT, request.user)
    auth.logout(request)
    return redirect("staff:login")
