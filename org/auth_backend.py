"""The default model backend, reading a signed-in user together with their unit.

Every staff page asks for the user's townships (org.scope), which reads the staff profile and
its unit: joining them to the session's user query saves two queries on every page. The
townships of the user's county come with it too, each with its own columns, as one short JSON
text in the same row: what a county user's lists filter on (org.scope.township_ids) and what
their search forms and home page name (org.scope.township_list), with no query of their own.
"""

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connections
from django.db.models import F, Func, OuterRef, Subquery, TextField

from .models import Township

# The attribute org.scope reads: (the unit they were read for, [Township, … by name]).
COUNTY_TOWNSHIPS = "county_townships"
_JOINED = "county_township_rows"  # the annotation: a JSON array of rows, or None without a unit
_FIELDS = [f.attname for f in Township._meta.concrete_fields]


class TownshipRows(Func):
    """Every township the query selects as a JSON array of rows (one array of Township's
    concrete columns each), by name: an aggregate in SQL, written as a plain function so that
    Django adds no GROUP BY (one row, from a subquery). SQLite (3.40: no ORDER BY inside an
    aggregate) leaves the order to the reader (townships_from)."""

    output_field = TextField()

    def __init__(self):
        super().__init__(*(F(name) for name in _FIELDS))

    def _columns(self, compiler):
        columns, params = [], []
        for expression in self.get_source_expressions():
            sql, p = compiler.compile(expression)
            columns.append(sql)
            params.extend(p)
        return columns, params

    def as_sql(self, compiler, connection, **extra_context):
        columns, params = self._columns(compiler)
        by_name = f"{columns[_FIELDS.index('name')]}, {columns[_FIELDS.index('id')]}"
        row = f"JSON_BUILD_ARRAY({', '.join(columns)})"
        return f"CAST(JSON_AGG({row} ORDER BY {by_name}) AS TEXT)", params

    def as_sqlite(self, compiler, connection, **extra_context):
        columns, params = self._columns(compiler)
        return f"JSON_GROUP_ARRAY(JSON_ARRAY({', '.join(columns)}))", params


def county_townships():
    """For a user row: every township of their unit's county, with its columns."""
    townships = Township.objects.filter(county__units__staff__user=OuterRef("pk")).order_by()
    return Subquery(townships.values(rows=TownshipRows()), output_field=TextField())


def townships_from(joined: str, db: str) -> list:
    """The Township objects of TownshipRows' text, by name (as if read by a query)."""
    fields = [Township._meta.get_field(name) for name in _FIELDS]
    townships = [
        Township.from_db(db, _FIELDS, [f.to_python(v) for f, v in zip(fields, row, strict=True)])
        for row in json.loads(joined)
    ]
    if connections[db].vendor == "sqlite":
        # PostgreSQL sorted them (in the database's collation); SQLite's is code-point order.
        townships.sort(key=lambda t: (t.name, t.pk))
    return townships


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        users = (
            get_user_model()
            ._default_manager.select_related("staff_profile__unit__township")
            .annotate(**{_JOINED: county_townships()})
        )
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        profile = getattr(user, "staff_profile", None)
        joined = getattr(user, _JOINED)
        if profile is not None and joined is not None:
            setattr(
                user, COUNTY_TOWNSHIPS, (profile.unit_id, townships_from(joined, user._state.db))
            )
        return user if self.user_can_authenticate(user) else None
