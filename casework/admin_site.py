from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django_otp.admin import OTPAdminSite


class StaffAdminSite(OTPAdminSite):
    """The admin requires a verified device; sign-in goes through the throttled staff login."""

    def login(self, request, extra_context=None):
        target = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated and not request.user.is_verified():
            return redirect(f"{reverse('staff:otp')}?{urlencode({'next': target})}")
        return redirect(f"{reverse('staff:login')}?{urlencode({'next': target})}")
