from django import forms
from django.contrib import admin

from org.scope import OutOfScope, townships_for

from . import services
from .models import (
    AssessmentFreeze,
    CaseFalsification,
    InspectionEntry,
    SheetAdjustment,
    SheetItem,
    TownshipQuota,
)


class QuotaAdminForm(forms.ModelForm):
    class Meta:
        model = TownshipQuota
        fields = ("township", "year", "quota")

    def clean(self):
        data = super().clean()
        township = data.get("township") or self.instance.township
        try:
            services.require_county(self.user, township.county_id)
        except (OutOfScope, services.NotAllowed) as exc:
            raise forms.ValidationError(str(exc) or "Only county staff can set quotas.") from None
        return data


@admin.register(TownshipQuota)
class TownshipQuotaAdmin(admin.ModelAdmin):
    """Quotas (县定任务), saved through the audited service; never deleted (set 0 instead)."""

    form = QuotaAdminForm

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.user = request.user
        return form

    list_display = ("year", "township", "quota", "updated_by", "updated_at")
    list_filter = ("year", "township__county")
    list_select_related = ("township", "updated_by")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(township__in=townships_for(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "township":
            kwargs["queryset"] = townships_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("township", "year") if obj else ()

    def save_model(self, request, obj, form, change):
        saved = services.set_quota(obj.township_id, obj.year, obj.quota, request.user)
        obj.pk = saved.pk

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnly(admin.ModelAdmin):
    """Made only by their audited services on the staff pages."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CaseFalsification)
class CaseFalsificationAdmin(_ReadOnly):
    list_display = ("case", "marked_by", "marked_at")
    list_select_related = ("case", "marked_by")
    exclude = ("document",)


@admin.register(AssessmentFreeze)
class AssessmentFreezeAdmin(_ReadOnly):
    list_display = ("county", "year", "frozen_by", "frozen_at")
    list_select_related = ("county", "frozen_by")


# The 1000-point sheet: read here, changed only on the staff pages (/staff/assessment/…), whose
# services audit every change and refuse it once the year is frozen.


@admin.register(SheetItem)
class SheetItemAdmin(_ReadOnly):
    list_display = ("year", "county", "code", "section", "title", "max_points", "scoring")
    list_filter = ("year", "scoring")
    list_select_related = ("county",)

    def get_queryset(self, request):
        counties = townships_for(request.user).values("county_id")
        return super().get_queryset(request).filter(county_id__in=counties)


@admin.register(InspectionEntry)
class InspectionEntryAdmin(_ReadOnly):
    list_display = ("township", "item", "round", "points", "entered_by", "entered_at")
    list_filter = ("round", "item__year")
    list_select_related = ("township", "item", "entered_by")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(township__in=townships_for(request.user))


@admin.register(SheetAdjustment)
class SheetAdjustmentAdmin(_ReadOnly):
    list_display = ("township", "year", "kind", "date", "entered_by", "withdrawn_at")
    list_filter = ("year", "kind")
    list_select_related = ("township", "entered_by")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(township__in=townships_for(request.user))
