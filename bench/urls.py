"""bench/settings.py's URLs: the project's, plus the bare insert view of bench/load.py."""

from django.urls import path

from bench.views import insert
from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project

urlpatterns = [path("bench/insert/", insert), *project]
