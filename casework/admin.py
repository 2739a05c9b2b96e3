from django.contrib import admin

from .models import Case, DocumentType


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
