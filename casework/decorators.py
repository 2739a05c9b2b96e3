"""Every staff page: a logged-in, active staff member with a verified second factor."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode


def staff_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return redirect(
                f"{reverse('staff:login')}?{urlencode({'next': request.get_full_path()})}"
            )
        if not user.is_verified():
            return redirect(
                f"{reverse('staff:otp')}?{urlencode({'next': request.get_full_path()})}"
            )
        if not (user.is_superuser or hasattr(user, "staff_profile")):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def perm_required(perm: str):
    def decorator(view):
        @wraps(view)
        @staff_required
        def wrapper(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
