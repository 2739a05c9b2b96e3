from django.contrib import admin
from django.urls import include, path

from ops.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("staff/inbox/", include("notifications.urls")),
    path("staff/", include("casework.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", healthz, name="healthz"),
    path("", include("casework.rewards.urls_public")),  # /receipt/claim/
    path("", include("tipline.urls")),
]

handler400 = "tipline.errors.bad_request"
handler403 = "tipline.errors.forbidden"
handler404 = "tipline.errors.not_found"
handler500 = "tipline.errors.server_error"
