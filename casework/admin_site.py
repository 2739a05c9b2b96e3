from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop
from django_otp.admin import OTPAdminSite

# Django's own Chinese catalogue titles each list filter "以 <field>"; this project's catalogue,
# which takes precedence, reads "按<field>". Marked here so makemessages keeps the entry.
gettext_noop(" By %(filter_title)s ")

# Models of other packages whose own names are English only (not translatable there).
MODEL_NAMES = {("otp_totp", "totpdevice"): _("authenticator apps")}


class StaffAdminSite(OTPAdminSite):
    """The admin requires a verified device; sign-in goes through the throttled staff login."""

    site_header = _("Tipline administration")
    site_title = _("Tipline administration")
    index_title = _("Administration")

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            for model in app["models"]:
                name = MODEL_NAMES.get((app["app_label"], model["object_name"].lower()))
                if name:
                    model["name"] = name
        return app_list

    def login(self, request, extra_context=None):
        target = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated and not request.user.is_verified():
            return redirect(f"{reverse('staff:otp')}?{urlencode({'next': target})}")
        return redirect(f"{reverse('staff:login')}?{urlencode({'next': target})}")
