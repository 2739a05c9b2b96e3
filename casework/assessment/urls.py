"""Assessment URLs, added to the staff site's namespace by casework/urls.py."""

from django.urls import path

from . import views

urlpatterns = [
    path("assessment/", views.county_page, name="assessment"),
    path("assessment/townships/<slug:code>/", views.township_page, name="assessment_township"),
    path("assessment/export.csv", views.export, {"fmt": "csv"}, name="assessment_export_csv"),
    path("assessment/export.xlsx", views.export, {"fmt": "xlsx"}, name="assessment_export_xlsx"),
    path(
        "assessment/townships/<slug:code>/inspect/",
        views.inspect,
        name="assessment_inspect",
    ),
    path(
        "assessment/townships/<slug:code>/adjustments/",
        views.add_adjustment,
        name="assessment_adjustment",
    ),
    path(
        "assessment/adjustments/<int:pk>/withdraw/",
        views.withdraw_adjustment,
        name="assessment_adjustment_withdraw",
    ),
    path("assessment/evidence/<uuid:pk>/", views.evidence, name="assessment_evidence"),
    path("assessment/sheet/", views.template_page, name="assessment_template"),
    path("assessment/settings/", views.settings_page, name="assessment_settings"),
    path("assessment/freeze/", views.freeze, name="assessment_freeze"),
    # opening a case from the report page: the assessment's repeat rule asks for a reason first
    path("reports/<uuid:pk>/open-case/", views.report_open_case, name="report_open_case"),
    path(
        "reports/<uuid:pk>/repeats/<int:case_pk>/dismiss/",
        views.dismiss_repeat,
        name="repeat_dismiss",
    ),
    path("cases/<int:pk>/falsified/", views.falsify, name="case_falsify"),
]
