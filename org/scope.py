"""Who may act where: the one jurisdiction rule that views, services, tasks and commands share.

Township staff act in their township; county staff in every township of their county. Views
filter their querysets with ``townships_for``; services call ``require`` on the object they are
about to change, so a task, command or admin action on another township's object is refused too.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from .auth_backend import COUNTY_TOWNSHIPS
from .models import Township


class OutOfScope(Exception):
    """The object lies outside the user's townships (shown as 'not found', never confirmed)."""


def townships_for(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return Township.objects.none()
    if user.is_superuser:
        return Township.objects.all()
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return Township.objects.none()
    unit = profile.unit
    if unit.township_id is None:
        return Township.objects.filter(county_id=unit.county_id)
    return Township.objects.filter(pk=unit.township_id)


def township_list(user) -> list:
    """townships_for(user) as a list, by name. A township's own staff get theirs from their
    unit, a county's staff their county's townships, both read with the user
    (org.auth_backend): no query. Others' (a superuser's, a user not signed in through the
    backend) are read once per user object (one query per request: the signed-in user is read
    anew for each), so a page that both shows the townships and filters by their ids
    (township_ids) asks once."""
    profile = getattr(user, "staff_profile", None)
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if not user.is_superuser and profile is not None:
        if profile.unit.township_id is not None:
            return [profile.unit.township]
        joined = getattr(user, COUNTY_TOWNSHIPS, None)
        if joined is not None and joined[0] == profile.unit_id:
            return joined[1]
    # Keyed by what decides the scope, so a user moved to another unit is read again.
    key = (user.is_superuser, profile.unit_id if profile is not None else None)
    cached = getattr(user, "_township_list", None)
    if cached is None or cached[0] != key:
        cached = (key, list(townships_for(user).order_by("name")))
        user._township_list = cached
    return cached[1]


def township_ids(user) -> list[int] | None:
    """The ids of the user's townships, as literal values for ``township_id IN (…)``; None for
    a superuser, who sees every township (no filter).

    Lists filter on these rather than on a subquery over the townships: with the ids in the
    query, PostgreSQL estimates from each township's own row count (its statistics), so a
    small county's list starts from its townships' rows instead of walking a province-wide
    index in the list's order and discarding nearly every row."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    if user.is_superuser:
        return None
    profile = getattr(user, "staff_profile", None)
    if profile is not None and profile.unit.township_id is not None:
        return [profile.unit.township_id]
    return [t.pk for t in township_list(user)]


def in_townships(queryset, user):
    """`queryset` (of a model with a township) narrowed to the user's townships, named by
    their ids in the query (township_ids): a superuser's is left whole."""
    ids = township_ids(user)
    return queryset if ids is None else queryset.filter(township_id__in=ids)


def in_scope(user, township_id) -> bool:
    """Whether ``township_id`` is one of the user's townships (one indexed query at most)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    profile = getattr(user, "staff_profile", None)
    if profile is None:
        return False
    unit = profile.unit
    if unit.township_id is not None:
        return unit.township_id == township_id
    return Township.objects.filter(pk=township_id, county_id=unit.county_id).exists()


def require(user, township_id) -> None:
    if not in_scope(user, township_id):
        raise OutOfScope


def staff_for_township(township, *roles: str):
    """Active users in any of `roles` who see this township: its own and its county's staff."""
    return (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=roles)
        .filter(
            Q(staff_profile__unit__township=township)
            | Q(
                staff_profile__unit__township__isnull=True,
                staff_profile__unit__county_id=township.county_id,
            )
        )
        .distinct()
    )
