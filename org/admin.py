from django.contrib import admin

from .models import County, StaffProfile, Township, Unit


@admin.register(County)
class CountyAdmin(admin.ModelAdmin):
    list_display = ("code", "name")


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
    list_display = ("user", "unit")
    list_select_related = ("user", "unit")
