"""The default model backend, reading a signed-in user together with their unit, permissions
and groups.

Every staff page asks for the user's townships (org.scope), which reads the staff profile and
its unit: joining them to the session's user query saves two queries on every page. The
townships of the user's county come with it too, each with its own columns, as one short JSON
text in the same row: what a county user's lists filter on (org.scope.township_ids) and what
their search forms and home page name (org.scope.township_list), with no query of their own.
So do the names of the user's own and their groups' permissions (ModelBackend reads each in a
query of its own) and of their groups (``group_names``: a role that is a group, not a
permission, such as the custodian's): three queries fewer on every page of a signed-in user who
is not a superuser.
"""

import json

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connections
from django.db.models import CharField, F, Func, OuterRef, Subquery, TextField, Value
from django.db.models.functions import Concat

from .models import Township

# The attribute org.scope reads: (the unit they were read for, [Township, … by name]).
COUNTY_TOWNSHIPS = "county_townships"
_JOINED = "county_township_rows"  # the annotation: a JSON array of rows, or None without a unit
_FIELDS = [f.attname for f in Township._meta.concrete_fields]
# Read with the user: {"user": {"app.codename", …}, "group": {…}} and frozenset of group names.
_READ_PERMS = "_perms_read_with_user"
_READ_GROUPS = "_groups_read_with_user"
_SEPARATOR = "\n"  # between names in one annotation (no permission or group name holds one)
_NAMES = {
    "user": "user_permission_names",
    "group": "group_permission_names",
    "groups": "group_names",
}


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


class JoinedNames(Func):
    """The names of every row the query selects, one per line, in any order (as JoinedIds)."""

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s)"
    output_field = CharField()

    def __init__(self, expression, **extra):
        super().__init__(expression, Value(_SEPARATOR), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def _names(queryset, expression):
    return Subquery(queryset.order_by().values(names=JoinedNames(expression)))


def _split(joined) -> set[str]:
    return set(joined.split(_SEPARATOR)) if joined else set()


def group_names(user) -> frozenset[str]:
    """The names of the user's groups: read with the signed-in user (no query), else asked."""
    read = getattr(user, _READ_GROUPS, None)
    if read is None:
        read = frozenset(user.groups.values_list("name", flat=True)) if user.pk else frozenset()
    return read


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        perm_name = Concat(F("content_type__app_label"), Value("."), F("codename"))
        users = (
            get_user_model()
            ._default_manager.select_related("staff_profile__unit__township")
            .annotate(
                **{
                    _JOINED: county_townships(),
                    _NAMES["user"]: _names(
                        Permission.objects.filter(user=OuterRef("pk")), perm_name
                    ),
                    _NAMES["group"]: _names(
                        Permission.objects.filter(group__user=OuterRef("pk")), perm_name
                    ),
                    _NAMES["groups"]: _names(Group.objects.filter(user=OuterRef("pk")), F("name")),
                }
            )
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
        setattr(user, _READ_PERMS, {k: _split(getattr(user, _NAMES[k])) for k in ("user", "group")})
        setattr(user, _READ_GROUPS, frozenset(_split(getattr(user, _NAMES["groups"]))))
        return user if self.user_can_authenticate(user) else None

    def _read_with_user(self, user_obj, obj, from_name):
        """The permissions read with the user by get_user, when they answer the question as
        ModelBackend would (a superuser's are every permission: asked as ModelBackend does)."""
        read = getattr(user_obj, _READ_PERMS, None)
        if read is None or obj is not None or user_obj.is_superuser or not user_obj.is_active:
            return None
        return read[from_name]

    def get_user_permissions(self, user_obj, obj=None):
        read = self._read_with_user(user_obj, obj, "user")
        return read if read is not None else super().get_user_permissions(user_obj, obj)

    def get_group_permissions(self, user_obj, obj=None):
        read = self._read_with_user(user_obj, obj, "group")
        return read if read is not None else super().get_group_permissions(user_obj, obj)
