"""The default model backend, reading a signed-in user together with their unit.

Every staff page asks for the user's townships (org.scope), which reads the staff profile and
its unit: joining them to the session's user query saves two queries on every page. The ids of
the townships of the user's county come with it too (org.scope.township_ids: what a county
user's lists filter on), as one short list in the same row.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import CharField, Func, OuterRef, Subquery

from .models import Township

# The attribute org.scope reads: (the unit they were read for, [township ids]).
COUNTY_TOWNSHIPS = "county_townships"
_JOINED = "county_township_ids"  # the annotation: "3,7,12", or None without a unit


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


def county_township_ids():
    """For a user row: the ids of every township of their unit's county, joined."""
    townships = (
        Township.objects.filter(county__units__staff__user=OuterRef("pk"))
        .order_by()
        .values(ids=JoinedIds("id"))
    )
    return Subquery(townships, output_field=CharField())


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        users = (
            get_user_model()
            ._default_manager.select_related("staff_profile__unit__township")
            .annotate(**{_JOINED: county_township_ids()})
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
        return user if self.user_can_authenticate(user) else None
