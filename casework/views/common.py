"""Helpers shared by staff views."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import F, OrderBy, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpResponse
from django.utils.functional import cached_property

from org.scope import OutOfScope
from vault import storage

from ..errors import ServiceError

PAGE_SIZE = 50


# A list counts at most this many rows (or as many as the page asked for needs, and one page
# more): a county's or a province's full COUNT over hundreds of thousands of rows took most of a
# second, and at a million reports even 10,000 rows took 20-90 ms (each row's heap page read to
# see whether it is live). Past it the pager says "more than" and its Next link leads on.
COUNT_CAP = 1_000


class CappedPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` rows, or up to the page after the one ``asked`` for when
    that lies further: every page stays reachable through the Next link, and a deep page costs
    what reading that deep costs anyway."""

    capped = False

    def __init__(self, object_list, per_page, *, cap=None, asked=1, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        # A list may bring its own cap (casework.word_search.Matches: a search's).
        self.cap = cap or getattr(object_list, "count_cap", COUNT_CAP)
        if asked * per_page >= self.cap:
            self.cap = (asked + 1) * per_page

    @cached_property
    def count(self):
        # A list that counts itself up to a cap (casework.word_search.Matches: a search).
        counter = getattr(self.object_list, "count_up_to", None)
        if counter is None and not isinstance(self.object_list, QuerySet):
            return super().count
        # COUNT over a LIMITed subquery; without the order, which a count does not need (an
        # ordering by an annotation breaks the subquery on PostgreSQL).
        if counter is not None:
            return self.capped_count(counter(self.cap + 1))
        return self.capped_count(self.object_list.order_by()[: self.cap + 1].count())

    def capped_count(self, n: int) -> int:
        """What a list counted up to ``cap + 1`` shows: at most ``cap``, and whether it stopped."""
        self.capped = n > self.cap
        return min(n, self.cap)


# A list split into at most this many townships (a county's) is merged from each township's own
# first rows (IdsFirstPaginator).
MERGE_TOWNSHIPS = 40


def _order_columns(ordering) -> list | None:
    """The columns of ``ordering`` (names, "-names", F(...).asc()/.desc()) as the same ordering
    over a values() query's columns; None for anything else (an expression)."""
    out = []
    for item in ordering:
        if isinstance(item, str):
            desc, name = item.startswith("-"), item.lstrip("-")
            out.append((name, desc, None))
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            out.append((item.expression.name, item.descending, item.nulls_last or None))
        else:
            return None
    return [("id" if name == "pk" else name, desc, nulls_last) for name, desc, nulls_last in out]


class IdsFirstPaginator(CappedPaginator):
    """Pages ``object_list`` (the bare rows, ordered on an index) but reads each page's rows
    from ``rows`` (with its joins) in the same query: ``WHERE pk IN (the page's ids, LIMITed)``,
    ordered again. Joining before the LIMIT sorted (or joined) the whole set first.

    With ``parts`` (``object_list`` split by township: one queryset per township, two or
    more), the page's ids are the merge of each township's own first rows: ``(… township 1 …
    LIMIT top) UNION ALL (… township 2 …)``, ordered, then the page cut from it; the count
    walks the same way. A township's rows come out of its own index in the list's order; the
    townships together would be read whole and sorted (an index on (township, …) gives one
    township's order, not a county's)."""

    def __init__(self, object_list, per_page, rows, parts=None, *, cap=None, asked=1):
        super().__init__(object_list, per_page, cap=cap, asked=asked)
        self.rows = rows
        self.parts = parts or []

    def page(self, number):
        if not isinstance(self.object_list, QuerySet):
            # Ids a search found (word_search.Matches): the page's rows read by their ids.
            page = super().page(number)
            by_pk = self.rows.order_by().in_bulk(list(page.object_list))
            page.object_list = [by_pk[pk] for pk in page.object_list]
            return page
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if top <= bottom:
            return self._get_page([], number, self)  # nothing to read
        rows = self.rows.filter(pk__in=self._ids(bottom, top))
        if ordering := self.object_list.query.order_by:
            rows = rows.order_by(*ordering)
        return self._get_page(list(rows), number, self)

    @cached_property
    def count(self):
        merged = self._merged(self.cap + 1) if isinstance(self.object_list, QuerySet) else None
        if merged is None:
            return super().count
        # Counted along the same per-township walks as the page (the first cap+1 rows in the
        # list's order): a bitmap over the county's rows visited every heap page they lie on.
        return self.capped_count(merged[: self.cap + 1].count())

    def _ids(self, bottom, top):
        merged = self._merged(top)
        if merged is None:
            return self.object_list.values("pk")[bottom:top]
        # Django's own SQL and its parameters, kept apart; a union cannot be narrowed to its
        # first column with values() (its ORDER BY names the others).
        sql, params = merged[bottom:top].query.sql_with_params()
        return RawSQL(f'SELECT "id" FROM ({sql}) AS "page"', params)  # noqa: S608, S611

    def _merged(self, top):
        """Each township's first ``top`` rows (id and the ordering's columns), merged in the
        list's order; None where the list is read in one piece (one township, a superuser's
        every township, an ordering by an expression, SQLite: no LIMIT inside a UNION)."""
        ids = self.object_list
        ordering = ids.query.order_by or ids.model._meta.ordering
        columns = _order_columns(ordering)
        mergeable = connections[ids.db].features.supports_slicing_ordering_in_compound
        if columns is None or not mergeable or not 1 < len(self.parts) <= MERGE_TOWNSHIPS:
            return None
        names = ["id", *(name for name, _desc, _nulls in columns if name != "id")]
        parts = [part.order_by(*ordering).values(*names)[:top] for part in self.parts]
        return (
            parts[0]
            .union(*parts[1:], all=True)
            .order_by(
                *(
                    F(name).desc(nulls_last=nulls_last)
                    if desc
                    else F(name).asc(nulls_last=nulls_last)
                    for name, desc, nulls_last in columns
                )
            )
        )


def _asked(value) -> int:
    """The page number asked for, 1 for anything that is not one (as Paginator.get_page)."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 9 else 1


def page_of(request, queryset, size=PAGE_SIZE, *, rows=None, parts=None, cap=None):
    """The requested page of ``queryset``, counted up to ``cap`` (COUNT_CAP, or the list's own);
    with ``rows``, read as IdsFirstPaginator does."""
    asked = _asked(request.GET.get("page"))
    if rows is None:
        paginator = CappedPaginator(queryset, size, cap=cap, asked=asked)
    else:
        paginator = IdsFirstPaginator(queryset, size, rows, parts, cap=cap, asked=asked)
    return paginator.get_page(request.GET.get("page"))


def page_of_ids(request, ids, rows, parts=None, *, cap=None):
    """Sort and page the bare rows (``ids``: a queryset ordered on an index, or the ids a search
    found), then read the page's rows from ``rows`` (with its joins), in one query
    (IdsFirstPaginator); ``parts``: ``ids`` split by township, merged township by township."""
    return page_of(request, ids, rows=rows, parts=parts, cap=cap)


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
