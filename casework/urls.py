from django.urls import path

from . import staff_auth
from .assessment import urls as assessment_urls
from .rewards import urls as rewards_urls
from .views import audit_log, cases, identity, triage

app_name = "staff"

urlpatterns = [
    path("login/", staff_auth.login, name="login"),
    path("logout/", staff_auth.logout, name="logout"),
    path("otp/", staff_auth.verify, name="otp"),
    path("otp/setup/", staff_auth.setup, name="otp_setup"),
    path("", triage.home, name="home"),
    path("reports/", triage.queue, name="queue"),
    path("reports/new/", triage.staff_tip, name="staff_tip"),
    path("reports/<uuid:pk>/", triage.report_detail, name="report"),
    path("reports/<uuid:pk>/reject/", triage.report_reject, name="report_reject"),
    path("reports/<uuid:pk>/link/", triage.report_link, name="report_link"),
    path("reports/<uuid:pk>/message/", triage.report_message, name="report_message"),
    path("reports/<uuid:pk>/identity/", identity.request_identity, name="identity_request"),
    path(
        "reports/<uuid:pk>/attachments/<uuid:attachment_pk>/",
        triage.attachment_download,
        name="attachment",
    ),
    path("cases/", cases.case_list, name="cases"),
    path("cases/files/", cases.file_scores, name="file_scores"),
    path("cases/<int:pk>/", cases.case_detail, name="case"),
    path("cases/<int:pk>/index/", cases.case_index, name="case_index"),
    path("cases/<int:pk>/assign/", cases.case_assign, name="case_assign"),
    path("cases/<int:pk>/extend/", cases.case_extend, name="case_extend"),
    path("cases/<int:pk>/feedback/", cases.case_feedback, name="case_feedback"),
    path("cases/<int:pk>/transition/<slug:name>/", cases.case_transition, name="case_transition"),
    path("cases/<int:pk>/documents/", cases.document_upload, name="document_upload"),
    path("cases/<int:pk>/documents/generate/", cases.document_generate, name="document_generate"),
    path("cases/<int:pk>/documents/<uuid:doc_pk>/", cases.document_download, name="document"),
    path("identity/", identity.identity_list, name="identity_list"),
    path("identity/<int:pk>/decide/", identity.identity_decide, name="identity_decide"),
    path("identity/<int:pk>/", identity.identity_view, name="identity_view"),
    path("audit/", audit_log.audit_list, name="audit"),
    path("audit/export.csv", audit_log.audit_export, name="audit_export"),
    *rewards_urls.urlpatterns,  # /staff/rewards/…
]
urlpatterns += assessment_urls.urlpatterns
