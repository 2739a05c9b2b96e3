from django.urls import path

from . import public_views

app_name = "rewards_public"

urlpatterns = [
    path("receipt/claim/", public_views.claim, name="claim"),
]
