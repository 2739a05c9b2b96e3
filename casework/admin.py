from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from org.people import display_name
from tipline.models import Category

from . import audit
from .audit_catalogue import Action
from .models import BackupCodeDevice, Case, DocumentType


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    """The case-file checklist (一案一卷), per category and stage."""

    list_display = (
        "order",
        "code",
        "name",
        "required",
        "required_when",
        "category_names",
        "generated",
    )
    list_display_links = ("code",)
    list_editable = ("order", "required", "required_when")
    list_filter = ("required", "required_when", "generated")
    readonly_fields = ("generated",)

    @admin.display(description=_("categories"))
    def category_names(self, obj):
        if not obj.categories:
            return _("every category")
        labels = dict(Category.choices)
        return "、".join(str(labels.get(code, code)) for code in obj.categories)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: cases change only through the staff pages and their services (audited)."""

    list_display = ("number", "title", "township", "state", "next_due", "unit", "investigator_name")
    list_filter = ("state", "category", "township")
    list_select_related = ("township", "unit", "investigator")
    search_fields = ("number",)

    @admin.display(description=_("investigator"), ordering="investigator__username")
    def investigator_name(self, obj):
        return display_name(obj.investigator) if obj.investigator_id else "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ConfirmedFilter(admin.SimpleListFilter):
    title = _("set up")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return (("1", _("yes")), ("0", _("no, enrolment not finished")))

    def queryset(self, request, queryset):
        if self.value() in ("0", "1"):
            return queryset.filter(confirmed=self.value() == "1")
        return queryset


# The second-factor devices, without their secrets: django-otp's own admin shows the key and a
# QR code to anyone with admin access, superusers included. Nobody reads a key here; deleting a
# device is an administrator's reset after which its owner enrols again at the next sign-in.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """django-otp names its fields in English only: every column here has a Chinese label."""

    list_display = ("owner", "device_name", "is_confirmed", "created", "last_used")
    list_filter = (ConfirmedFilter,)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__last_name", "user__first_name")
    fields = ("owner", "device_name", "is_confirmed", "created", "last_used", "failures")
    readonly_fields = fields

    @admin.display(description=_("staff member"), ordering="user__username")
    def owner(self, obj):
        return f"{display_name(obj.user)} ({obj.user.get_username()})"

    @admin.display(description=_("device name"), ordering="name")
    def device_name(self, obj):
        return obj.name

    @admin.display(description=_("set up"), boolean=True, ordering="confirmed")
    def is_confirmed(self, obj):
        return obj.confirmed

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, obj):
        return obj.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, obj):
        return obj.last_used_at

    @admin.display(description=_("failed codes in a row"))
    def failures(self, obj):
        return obj.throttling_failure_count

    def changelist_view(self, request, extra_context=None):
        extra = {"title": _("Authenticator apps: delete one to reset a user's second factor")}
        return super().changelist_view(request, {**extra, **(extra_context or {})})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"title": _("Authenticator app")}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})

    def has_add_permission(self, request):
        return False  # a device made here would have a key someone other than its owner saw

    def has_change_permission(self, request, obj=None):
        return False

    def _reset(self, request, device):
        user = device.user
        with transaction.atomic():
            # Backup codes go too: otherwise they would keep the account "enrolled" and the
            # owner could never set up a new authenticator.
            TOTPDevice.objects.filter(user=user).delete()
            BackupCodeDevice.objects.filter(user=user).delete()
            audit.record(request.user, Action.STAFF_OTP_RESET, user)

    def delete_model(self, request, obj):
        self._reset(request, obj)

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            self._reset(request, device)
