"""Helpers shared by staff views."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect

from tipline import storage

from ..services import ServiceError

PAGE_SIZE = 50


def page_of(request, queryset, size=PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def run_service(request, redirect_to, func, *args, success: str = "", **kwargs):
    """Call a service; show its rule violations as messages instead of errors."""
    try:
        result = func(*args, **kwargs)
    except ServiceError as exc:
        messages.error(request, str(exc))
        return redirect(redirect_to), None
    if success:
        messages.success(request, success)
    return redirect(redirect_to), result


def form_errors(request, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else error)


def file_response(obj, filename: str) -> HttpResponse:
    """Decrypted file, never cached, never rendered inline by the browser."""
    response = HttpResponse(storage.read(obj), content_type=obj.mime)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
