from django.urls import path

from . import api, views

app_name = "tipline"

urlpatterns = [
    path("", views.home, name="home"),
    path("report/", views.report, name="report"),
    path("receipt/", views.receipt_status, name="receipt"),
    path("receipt/add/", views.receipt_followup, name="receipt_followup"),
    path("receipt/download/", views.receipt_download, name="receipt_download"),
    path("receipt/verify/", views.verify_info, name="verify"),
    path("receipt-key.pem", views.receipt_public_key, name="receipt_key"),
    path("favicon.ico", views.favicon, name="favicon"),  # asked for by browsers at this path
    path("api/v1/reports", api.create_report, name="api_reports"),
    path("api/v1/receipt/status", api.receipt_status, name="api_receipt_status"),
    path("api/v1/openapi.json", api.openapi, name="api_openapi"),
]
