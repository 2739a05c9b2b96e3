"""Who may act where: the one jurisdiction rule that views, services, tasks and commands share.

Township staff act in their township; county staff in every township of their county. Views
filter their querysets with ``townships_for``; services call ``require`` on the object they are
about to change, so a task, command or admin action on another township's object is refused too.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

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
    unit, read with the user (org.auth_backend): no query."""
    profile = getattr(user, "staff_profile", None)
    if (
        user is not None
        and user.is_authenticated
        and user.is_active
        and not user.is_superuser
        and profile is not None
        and profile.unit.township_id is not None
    ):
        return [profile.unit.township]
    return list(townships_for(user).order_by("name"))


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
