"""Admin: metadata only. Identity, receipt hashes and attachment contents are never shown here."""

from django.contrib import admin

from .models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("received_at", "township", "category", "channel", "status")
    list_filter = ("status", "category", "channel", "township")
    fields = (
        "channel",
        "channel_reference",
        "category",
        "township",
        "status",
        "received_at",
        "occurred_on",
    )
    readonly_fields = fields
    list_select_related = ("township",)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
