"""Keyset pagination by id, newest first: no COUNT and no OFFSET, so the oldest page costs what
the newest does. ``?before=<id>`` shows the entries older than that id, ``?after=<id>`` the ones
just newer (the page above); ``?after=0`` is the oldest page. A parameter that is not a
non-negative whole number shows the newest page."""

from dataclasses import dataclass

from .common import PAGE_SIZE


@dataclass
class KeysetPage:
    rows: list
    newer: int | None  # id for ?after=, None on the newest page
    older: int | None  # id for ?before=, None on the oldest page

    @property
    def has_other_pages(self) -> bool:
        return self.newer is not None or self.older is not None


def _id(value) -> int | None:
    value = (value or "").strip()
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


def keyset_page(request, queryset, size: int = PAGE_SIZE) -> KeysetPage:
    """At most three indexed queries: the rows (one more than the page, to know if there are
    more), and whether anything lies beyond the key on the other side."""
    before, after = _id(request.GET.get("before")), _id(request.GET.get("after"))
    if after is not None and before is None:
        rows = list(queryset.filter(pk__gt=after).order_by("pk")[: size + 1])
        more_newer = len(rows) > size
        rows = rows[:size][::-1]
        more_older = queryset.filter(pk__lte=after).exists()
    else:
        window = queryset.filter(pk__lt=before) if before is not None else queryset
        rows = list(window.order_by("-pk")[: size + 1])
        more_older = len(rows) > size
        rows = rows[:size]
        more_newer = before is not None and queryset.filter(pk__gte=before).exists()
    return KeysetPage(
        rows=rows,
        newer=rows[0].pk if rows and more_newer else None,
        older=rows[-1].pk if rows and more_older else None,
    )
