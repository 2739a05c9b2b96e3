"""Error pages that say what to do, in the visitor's language, and reveal nothing of the request."""

import sys

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.debug import SafeExceptionReporterFilter

from . import outage


def _page(request, status, title, message):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": message}, status=status, json_dumps_params={"ensure_ascii": False}
        )
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    return _page(
        request,
        400,
        _("Bad request"),
        _("The request could not be understood. If you were sending files, they may be too large."),
    )


def forbidden(request, exception=None):
    """A role that may not do this (PermissionDenied): say so, not that a form expired."""
    return _page(
        request,
        403,
        _("Not allowed for your role"),
        _(
            "Your role does not allow this page or action. If it is part of your work, ask a "
            "colleague whose role allows it, or the administrator who manages staff roles."
        ),
    )


def form_expired(request):
    return _page(
        request,
        403,
        _("The form has expired"),
        _(
            "This form was open too long, or your browser did not send its security cookie. "
            "Go back, reload the page and send the form again."
        ),
    )


def not_found(request, exception=None):
    return _page(request, 404, _("Page not found"), _("This page does not exist."))


def server_error(request):
    # Called while the exception is being handled: a database or disk outage that escaped the
    # views (a middleware reading the session) gets its own answer, not "something went wrong".
    answer = outage.for_exception(request, sys.exc_info()[1])
    if answer is not None:
        return answer
    return _page(
        request,
        500,
        _("Something went wrong"),
        _("Your request could not be completed. Please try again later."),
    )


def csrf_failure(request, reason=""):
    return form_expired(request)


class AlwaysSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Hide sensitive POST fields and variables on the DEBUG error page too: developers use real
    devices and sometimes real data, and a reporter's identity must not show up there either."""

    def is_active(self, request):
        return True
