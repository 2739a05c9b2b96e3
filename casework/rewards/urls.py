"""Staff URLs of rewards, added to the staff namespace by casework/urls.py (so the role × URL
matrix covers them with every other staff URL)."""

from django.urls import path

from . import views

urlpatterns = [
    path("rewards/", views.reward_list, name="rewards"),
    path("rewards/ledger/", views.reward_ledger, name="reward_ledger"),
    path(
        "rewards/ledger.csv", views.reward_ledger_export, {"fmt": "csv"}, name="reward_ledger_csv"
    ),
    path(
        "rewards/ledger.xlsx",
        views.reward_ledger_export,
        {"fmt": "xlsx"},
        name="reward_ledger_xlsx",
    ),
    path("rewards/<int:pk>/", views.reward_detail, name="reward"),
    path("rewards/<int:pk>/approve/", views.reward_approve, name="reward_approve"),
    path("rewards/<int:pk>/cancel/", views.reward_cancel, name="reward_cancel"),
    path("rewards/<int:pk>/payment/", views.reward_payment, name="reward_payment"),
    path("rewards/<int:pk>/step-up/", views.reward_step_up, name="reward_step_up"),
    path("rewards/<int:pk>/pay/", views.reward_pay, name="reward_pay"),
    path("rewards/propose/<int:case_pk>/", views.reward_propose, name="reward_propose"),
    path("rewards/reports/<uuid:pk>/marks/", views.report_marks, name="report_marks"),
]
