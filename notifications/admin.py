"""Administrators see every notice that failed and can send it again (audited)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import delivery
from .models import Delivery, Event


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnly):
    list_display = (
        "created_at",
        "kind",
        "channel",
        "to",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    )
    list_filter = ("status", "channel", "event__kind")
    list_select_related = ("event", "recipient")
    fields = (
        "kind",
        "to",
        "channel",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
        "subject",
        "body",
        "link",
        "created_at",
    )
    readonly_fields = fields
    actions = ["retry"]

    @admin.display(description=_("kind"), ordering="event__kind")
    def kind(self, obj):
        return obj.event.kind

    @admin.display(description=_("to"))
    def to(self, obj):
        # A reporter is named by their report, never by their number.
        if obj.recipient_id:
            return obj.recipient.get_username()
        return _("the reporter of report %(id)s") % {"id": obj.reporter_of}

    def has_retry_permission(self, request):
        return request.user.has_perm("notifications.retry_delivery")

    @admin.action(description=_("Send the selected failed notices again"), permissions=["retry"])
    def retry(self, request, queryset):
        count = delivery.retry(queryset.values_list("pk", flat=True), request.user)
        self.message_user(
            request,
            ngettext(
                "%(n)d failed notice will be sent again.",
                "%(n)d failed notices will be sent again.",
                count,
            )
            % {"n": count},
            messages.SUCCESS,
        )


@admin.register(Event)
class EventAdmin(ReadOnly):
    list_display = ("created_at", "kind", "object_type", "object_id", "township", "processed_at")
    list_filter = ("kind",)
    list_select_related = ("township",)
    fields = (
        "kind",
        "object_type",
        "object_id",
        "township",
        "data",
        "key",
        "created_at",
        "processed_at",
    )
    readonly_fields = fields
