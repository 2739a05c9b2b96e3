from django.contrib import admin
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit
from .audit_catalogue import Action
from .models import BackupCodeDevice, Case, DocumentType


@admin.register(DocumentType)
class DocumentTypeAdmin(admin.ModelAdmin):
    """The case-file checklist (一案一卷), per category and stage."""

    list_display = ("order", "code", "name", "required", "required_when", "categories", "generated")
    list_display_links = ("code",)
    list_editable = ("order", "required", "required_when")
    readonly_fields = ("generated",)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: cases change only through the staff pages and their services (audited)."""

    list_display = ("number", "township", "state", "next_due", "unit", "investigator")
    list_filter = ("state", "township")
    list_select_related = ("township", "unit", "investigator")
    search_fields = ("number",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# The second-factor devices, without their secrets: django-otp's own admin shows the key and a
# QR code to anyone with admin access, superusers included. Nobody reads a key here; deleting a
# device is an administrator's reset after which its owner enrols again at the next sign-in.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    list_select_related = ("user",)
    search_fields = ("user__username",)
    fields = (
        "user",
        "name",
        "confirmed",
        "created_at",
        "last_used_at",
        "throttling_failure_count",
    )
    readonly_fields = fields

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
