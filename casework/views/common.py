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

    @cached_property
    def count(self):
        if not isinstance(self.object_list, QuerySet):
            return super().count
        # COUNT over a LIMITed subquery; without the order, which a count does not need (an
        # ordering by an annotation breaks the subquery on PostgreSQL).
        n = self.object_list.order_by()[: COUNT_CAP + 1].count()
        self.capped = n > COUNT_CAP
        return min(n, COUNT_CAP)


def page_of(request, queryset, size=PAGE_SIZE, *, rows=None):
    """The requested page of ``queryset``; with ``rows``, read as IdsFirstPaginator does."""
    paginator = (
        CappedPaginator(queryset, size) if rows is None else IdsFirstPaginator(queryset, size, rows)
    )
    return paginator.get_page(request.GET.get("page"))


class IdsFirstPaginator(CappedPaginator):
    """Pages ``object_list`` (the bare rows, ordered on an index) but reads each page's rows
    from ``rows`` (with its joins) in the same query: ``WHERE pk IN (the page's ids, LIMITed)``,
    ordered again. Joining before the LIMIT sorted (or joined) the whole set first."""

    def __init__(self, object_list, per_page, rows):
        super().__init__(object_list, per_page)
        self.rows = rows

    def _get_page(self, object_list, number, paginator):
        # object_list: Paginator.page's slice of the bare rows, not yet read.
        ids = object_list.values("pk")
        rows = self.rows.filter(pk__in=ids)
        if ordering := object_list.query.order_by:
            rows = rows.order_by(*ordering)
        return super()._get_page(list(rows), number, paginator)


def page_of_ids(request, ids, rows):
    """Sort and page the bare rows (``ids``: a queryset ordered on an index), then read the
    page's rows from ``rows`` (with its joins), in one query (IdsFirstPaginator)."""
    return page_of(request, ids, rows=rows)


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
