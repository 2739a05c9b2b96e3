"""Helpers shared by staff views."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.utils.functional import cached_property

from org.scope import OutOfScope
from vault import storage

from ..errors import ServiceError

PAGE_SIZE = 50


# A list counts at most this many rows: a county's or a province's full COUNT over hundreds of
# thousands of rows took most of a second; past it the pager says "more than" and filters
# narrow the list.
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    capped = False

    def __init__(self, object_list, per_page, cap=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def count(self):
        # A list that counts itself up to its own cap (casework.word_search.Matches: a search).
        counter = getattr(self.object_list, "count_up_to", None)
        if counter is None and not isinstance(self.object_list, QuerySet):
            return super().count
        cap = self.cap or getattr(self.object_list, "count_cap", COUNT_CAP)
        # COUNT over a LIMITed subquery; without the order, which a count does not need (an
        # ordering by an annotation breaks the subquery on PostgreSQL).
        n = counter(cap + 1) if counter else self.object_list.order_by()[: cap + 1].count()
        self.capped = n > cap
        return min(n, cap)


def page_of(request, queryset, size=PAGE_SIZE, *, cap=None):
    """A page of `queryset`, counted up to `cap` (COUNT_CAP by default)."""
    return CappedPaginator(queryset, size, cap=cap).get_page(request.GET.get("page"))


def page_of_ids(request, ids, rows, *, cap=None):
    """Sort and page the bare ids (``ids``: a values_list of pks, ordered on an index), then read
    only the page's rows from ``rows`` (with its joins): joining first sorted the whole set."""
    page = page_of(request, ids, cap=cap)
    by_pk = rows.order_by().in_bulk(list(page))
    page.object_list = [by_pk[pk] for pk in page]
    return page


def query_without_page(request) -> str:
    """The list's query string without its page: what the pager's links carry."""
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def attempt(request, func, *args, success=None, show_at_field=(), **kwargs):
    """Run a service; a rule it enforces becomes an error message instead of an exception.

    Returns the service's result, or None when it refused. `success` is a message, or a
    callable that makes one from the result. Refusals of the classes in `show_at_field` are
    raised to the caller, which shows them at their form field.
    """
    try:
        result = func(*args, **kwargs)
    except OutOfScope:
        raise Http404 from None  # never confirm that another township's object exists
    except show_at_field:
        raise
    except ServiceError as exc:
        messages.error(request, str(exc))
        return None
    if success:
        messages.success(request, success(result) if callable(success) else success)
    return result


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
