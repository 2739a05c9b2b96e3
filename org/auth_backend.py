"""The default model backend, reading a signed-in user together with their unit.

Every staff page asks for the user's townships (org.scope), which reads the staff profile and
its unit: joining them to the session's user query saves two queries on every page. The ids of
the townships of the user's county come with it too (org.scope.township_ids: what a county
user's lists filter on), as one short list in the same row.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Aggregate, CharField, OuterRef, Subquery

from .models import Township

# The attribute org.scope reads: "3,7,12", or None when the user has no unit.
COUNTY_TOWNSHIP_IDS = "county_township_ids"


class JoinedIds(Aggregate):
    """The ids of a group, comma-separated, in any order."""

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
        .values("county_id")
        .annotate(ids=JoinedIds("id"))
        .values("ids")
    )
    return Subquery(townships, output_field=CharField())


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        users = (
            get_user_model()
            ._default_manager.select_related("staff_profile__unit__township")
            .annotate(**{COUNTY_TOWNSHIP_IDS: county_township_ids()})
        )
        try:
            user = users.get(pk=user_id)
        except get_user_model().DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
