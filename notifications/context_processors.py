from django.utils.functional import SimpleLazyObject

from .inbox import unread_count


def inbox(request):
    """The unread count in the staff header. Lazy: counted (and the user looked up) only when a
    page shows it, so public pages never touch the session for it."""

    def count() -> int:
        user = getattr(request, "user", None)
        return unread_count(user) if user is not None and user.is_authenticated else 0

    return {"inbox_unread": SimpleLazyObject(count)}
