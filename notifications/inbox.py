"""A staff member's inbox and their channel preferences: one function per change."""

from django.db import transaction
from django.utils import timezone

from . import outbox
from .models import Delivery, Event, Preferences


def items_for(user):
    return Delivery.objects.filter(recipient=user, channel=Delivery.Channel.INBOX)


def unread_count(user) -> int:
    return items_for(user).filter(read_at__isnull=True).count()


def mark_read(user, delivery_id) -> bool:
    """Mark one of the user's own notices read; False when it is not theirs (or not there)."""
    notice = items_for(user).filter(pk=delivery_id)
    if not notice.exists():
        return False
    notice.filter(read_at__isnull=True).update(read_at=timezone.now())
    return True


def settle(user=None, *, object_type: str = "", object_id: str = "", quick=False) -> int:
    """Settle the unread inbox notices whose task is done, by the rule of each notice's kind
    (``Kind.done``): a new report once it is triaged, a reward proposal once it is approved or
    cancelled, an identity request once decided, a reminder once its deadline is met. They are
    marked read and done. Only one user's notices with ``user``; only those about one object
    with ``object_type``/``object_id``; with ``quick``, only the kinds whose rule is one query
    (a page's query count stays flat whatever the number of notices). Returns how many."""
    kinds = {
        k.name: k
        for k in outbox.staff_kinds()
        if k.done is not None and not (quick and not getattr(k.done, "bulk", False))
    }
    unread = Delivery.objects.filter(
        channel=Delivery.Channel.INBOX, read_at__isnull=True, event__kind__in=list(kinds)
    )
    if user is not None:
        unread = unread.filter(recipient=user)
    events = Event.objects.filter(pk__in=unread.values("event_id"))
    if object_type:
        events = events.filter(object_type=object_type, object_id=object_id)
    by_kind: dict[str, list] = {}
    for event in events.order_by("pk"):
        by_kind.setdefault(event.kind, []).append(event)
    finished = set().union(*(kinds[kind].done(evs) for kind, evs in by_kind.items()))
    if not finished:
        return 0
    now = timezone.now()
    return unread.filter(event_id__in=finished).update(read_at=now, done_at=now)


def mark_all_read(user) -> int:
    return items_for(user).filter(read_at__isnull=True).update(read_at=timezone.now())


def open_notice(user, delivery_id) -> Delivery | None:
    """The user's notice, marked read (None when it is not theirs)."""
    notice = items_for(user).filter(pk=delivery_id).first()
    if notice is not None and notice.read_at is None:
        items_for(user).filter(pk=notice.pk).update(read_at=timezone.now())
    return notice


def open_event(user, event_id) -> Delivery | None:
    """From an e-mail or text: the user's inbox notice of that event, marked read."""
    notice = items_for(user).filter(event_id=event_id).first()
    return open_notice(user, notice.pk) if notice is not None else None


def preferences_of(user) -> Preferences:
    return Preferences.objects.filter(user=user).first() or Preferences(user=user)


def channels_chosen(user, prefs: Preferences | None = None) -> dict[str, tuple[str, ...]]:
    """Per staff kind, the external channels in force for this user (their choice or the
    kind's default)."""
    prefs = prefs or preferences_of(user)
    return {
        kind.name: tuple(prefs.channels.get(kind.name, kind.channels))
        for kind in outbox.staff_kinds()
    }


def save_preferences(user, channels: dict[str, list[str]], mobile: str) -> Preferences:
    """Store the user's choice per kind (only kinds and channels that exist)."""
    allowed = {outbox.EMAIL, outbox.SMS}
    known = {kind.name for kind in outbox.staff_kinds()}
    clean = {
        name: sorted(set(chosen) & allowed) for name, chosen in channels.items() if name in known
    }
    with transaction.atomic():
        prefs, _ = Preferences.objects.select_for_update().get_or_create(user=user)
        prefs.channels = clean
        prefs.mobile = mobile
        prefs.save()
    return prefs
