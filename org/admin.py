from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import County, StaffProfile, Township, Unit
from .people import display_name


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "finance_window_address")
    fieldsets = (
        (None, {"fields": ("code", "name")}),
        (
            _("What reporters are told when they claim a reward"),
            {
                "fields": (
                    "reward_payment_working_days",
                    "finance_window_address",
                    "finance_window_hours",
                )
            },
        ),
    )


@admin.register(Township)
class TownshipAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "county", "reporting_phone", "active")
    list_filter = ("county", "active")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "county", "township")
    list_filter = ("kind", "county")


@admin.register(StaffProfile)
class StaffProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "full_name", "unit")
    list_filter = ("unit__county", "unit__kind")
    list_select_related = ("user", "unit")
    search_fields = ("user__username", "user__last_name", "user__first_name")

    @admin.display(description=_("full name"), ordering="user__last_name")
    def full_name(self, obj):
        return display_name(obj.user)
