"""Staff sign-in: password (throttled per account), then TOTP; first sign-in enrols a device."""

import base64
import hashlib
import io

import qrcode
import qrcode.image.svg
from django.contrib import auth
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
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
    from django.urls import reverse

    return reverse(default)


def _account_bucket(username: str) -> str:
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()[:32]


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login(request):
    form = AuthenticationForm(request, data=request.POST or None)
    if request.method == "POST":
        bucket = _account_bucket(request.POST.get("username", ""))
        try:
            throttle.check("login_per_account", bucket)
        except throttle.Throttled as exc:
            response = render(
                request,
                "casework/login.html",
                {"form": AuthenticationForm(request), "throttled_minutes": exc.minutes},
                status=429,
            )
            response["Retry-After"] = str(exc.retry_after)
            return response
        if form.is_valid():
            user = form.get_user()
            auth.login(request, user)
            audit.record(user, Action.STAFF_LOGIN, user)
            return redirect(f"{_otp_url(user)}?{urlencode({'next': _next(request)})}")
        throttle.hit("login_per_account", bucket)
        audit.record(
            None,
            Action.STAFF_LOGIN_FAILED,
            object_type="auth.user",
            object_id="",
            username=request.POST.get("username", "")[:150],
        )
    return render(request, "casework/login.html", {"form": form, "next": _next(request)})


def _otp_url(user) -> str:
    from django.urls import reverse

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
            throttle.check("otp_per_account", bucket)
        except throttle.Throttled as exc:
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
            otp_login(request, device)
            audit.record(user, Action.STAFF_OTP_VERIFIED, user, device=type(device).__name__)
            return redirect(_next(request))
        throttle.hit("otp_per_account", bucket)
        audit.record(user, Action.STAFF_OTP_FAILED, user)
        error = _(
            "The code is not valid. Use the 6-digit code from your authenticator app, "
            "or a backup code."
        )
    return render(request, "casework/otp_verify.html", {"error": error, "next": _next(request)})


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


@never_cache
@require_http_methods(["GET", "POST"])
def setup(request):
    """Enrol a TOTP device. Only possible while the account has no confirmed device."""
    user = request.user
    if not user.is_authenticated:
        return redirect("staff:login")
    if user_has_device(user, confirmed=True):
        return redirect("staff:otp")
    device, _created = TOTPDevice.objects.get_or_create(
        user=user, confirmed=False, defaults={"name": "authenticator"}
    )
    error = None
    if request.method == "POST":
        if device.verify_token(request.POST.get("token", "").strip()):
            device.confirmed = True
            device.save()
            backup, _new = BackupCodeDevice.objects.get_or_create(
                user=user, defaults={"name": "backup codes", "confirmed": True}
            )
            codes = backup.generate()
            otp_login(request, device)
            audit.record(user, Action.STAFF_OTP_ENROLLED, user)
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
