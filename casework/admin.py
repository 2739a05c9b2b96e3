from django.contrib import admin

from .models import Case, County, DocumentType, StaffProfile, Township, Unit


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
