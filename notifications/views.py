"""The staff inbox: the list, mark read, mark all read, open a notice, channel preferences."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from casework.decorators import staff_required
from casework.views.common import form_errors, page_of

from . import inbox
from .forms import PreferencesForm


def _to(request, notice):
    """Where a notice leads: its object's page on this site (else back to the inbox)."""
    link = notice.link if notice is not None else ""
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("inbox:list")


@never_cache
@staff_required
def inbox_list(request):
    unread_only = request.GET.get("show") == "unread"
    inbox.settle(request.user, quick=True)  # what was done since, by anyone, is not left waiting
    items = inbox.items_for(request.user)
    if unread_only:
        items = items.filter(read_at__isnull=True)
    return render(
        request,
        "notifications/inbox.html",
        {"page": page_of(request, items), "unread_only": unread_only},
    )


@never_cache
@staff_required
def open_notice(request, pk):
    notice = inbox.open_notice(request.user, pk)
    if notice is None:
        raise Http404
    return _to(request, notice)


@never_cache
@staff_required
def open_event(request, event_id):
    """The link in an e-mail or text: the recipient's own notice of that event."""
    notice = inbox.open_event(request.user, event_id)
    if notice is None:
        raise Http404
    return _to(request, notice)


@require_POST
@staff_required
def mark_read(request, pk):
    if not inbox.mark_read(request.user, pk):
        raise Http404
    return redirect("inbox:list")


@require_POST
@staff_required
def mark_all_read(request):
    count = inbox.mark_all_read(request.user)
    messages.success(request, _("%(n)d notices marked read.") % {"n": count})
    return redirect("inbox:list")


@never_cache
@staff_required
def preferences(request):
    prefs = inbox.preferences_of(request.user)
    chosen = inbox.channels_chosen(request.user, prefs)
    if request.method == "POST":
        form = PreferencesForm(request.POST, chosen=chosen)
        if form.is_valid():
            inbox.save_preferences(request.user, form.channels(), form.cleaned_data["mobile"])
            messages.success(request, _("Your notification settings were saved."))
            return redirect("inbox:preferences")
        form_errors(request, form)
    else:
        form = PreferencesForm(initial={"mobile": prefs.mobile}, chosen=chosen)
    return render(request, "notifications/preferences.html", {"form": form})
