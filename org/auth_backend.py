"""The default model backend, reading a signed-in user together with their unit, permissions
and groups.

Every staff page asks for the user's townships (org.scope), which reads the staff profile and
its unit: joining them to the session's user query saves two queries on every page. The ids of
the townships of the user's county come with it too (org.scope.township_ids: what a county
user's lists filter on), as one short list in the same row. So do the names of the user's own
and their groups' permissions (ModelBackend reads each in a query of its own) and of their
groups (``group_names``: a role that is a group, not a permission, such as the custodian's):
three queries fewer on every page of a signed-in user who is not a superuser.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db.models import CharField, F, Func, OuterRef, Subquery, Value
from django.db.models.functions import Concat

from .models import Township

# The attribute org.scope reads: (the unit they were read for, [township ids]).
COUNTY_TOWNSHIPS = "county_townships"
_JOINED = "county_township_ids"  # the annotation: "3,7,12", or None without a unit
# Read with the user: {"user": {"app.codename", …}, "group": {…}} and frozenset of group names.
_READ_PERMS = "_perms_read_with_user"
_READ_GROUPS = "_groups_read_with_user"
_SEPARATOR = "\n"  # between names in one annotation (no permission or group name holds one)
_NAMES = {
    "user": "user_permission_names",
    "group": "group_permission_names",
    "groups": "group_names",
}


class JoinedIds(Func):
    """The ids of every row the query selects, comma-separated, in any order: an aggregate in
    SQL, written as a plain function so that Django adds no GROUP BY (one row, from a
    subquery)."""

    function = "STRING_AGG"
    template = "%(function)s(CAST(%(expressions)s AS TEXT), ',')"
    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return super().as_sql(
            compiler, connection, template="GROUP_CONCAT(%(expressions)s)", **extra_context
        )


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


def county_township_ids():
    """For a user row: the ids of every township of their unit's county, joined."""
    townships = (
        Township.objects.filter(county__units__staff__user=OuterRef("pk"))
        .order_by()
        .values(ids=JoinedIds("id"))
    )
    return Subquery(townships, output_field=CharField())


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
                    _JOINED: county_township_ids(),
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
            ids = [int(pk) for pk in joined.split(",")]
            setattr(user, COUNTY_TOWNSHIPS, (profile.unit_id, ids))
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
