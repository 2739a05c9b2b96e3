"""Kinds of event and who hears of each: a registry any layer may add to.

A kind says what a notice says (subject and text with placeholders filled by the delivery
layer: %(reference)s, %(township)s, %(due)s, %(deadline)s), who receives it and on which
channels by default. The delivery layer (notifications.delivery) registers the kinds of the
core workflow from its app config; a module above may register its own from its ready().
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

from org.scope import staff_for_township

INBOX, EMAIL, SMS = "inbox", "email", "sms"


@dataclass(frozen=True)
class Recipient:
    """A staff user, or the reporter of a report (reached only by a text message, only if
    they gave a mobile number and asked for news)."""

    user: Any = None
    report_id: str = ""

    @property
    def key(self) -> str:
        return f"user:{self.user.pk}" if self.user is not None else f"reporter:{self.report_id}"


@dataclass(frozen=True)
class Kind:
    name: str
    label: Promise  # on the preferences page
    subject: Promise
    body: Promise
    recipients: Callable[[Any], Iterable[Recipient]]  # (event) -> recipients
    # Channels besides the inbox a staff member gets unless they choose otherwise.
    channels: tuple[str, ...] = (EMAIL,)
    inbox: bool = True  # staff see it in their inbox (always, whatever they choose)
    for_reporters: bool = False  # a text saying only that there is news at the site
    # (event) -> False when the event no longer matters (the report was dealt with meanwhile):
    # nothing more is sent for it.
    relevant: Callable[[Any], bool] | None = None
    # (event) -> {"reference": …, "link": …, …}: overrides what the delivery layer works out
    # from the event's object.
    context: Callable[[Any], dict] | None = None
    # (events of this kind) -> the pks of those whose task is done (the report was triaged,
    # the reward approved): their unread inbox notices are then settled
    # (notifications.inbox.settle). Made with object_left (one query for any number of events)
    # or each_event (a look per event).
    done: Callable[[list], set] | None = None
    extra: dict = field(default_factory=dict)


KINDS: dict[str, Kind] = {}


class UnknownKind(ValueError):
    """An event kind nobody registered (a programming error, never user input)."""


def register(kind: Kind) -> Kind:
    """Add a kind (or replace one of the same name: the last registration wins)."""
    KINDS[kind.name] = kind
    return kind


def get(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise UnknownKind(f"{name!r} is not a registered notification kind") from None


def object_left(model, **still) -> Callable[[list], set]:
    """A kind's ``done``: the task is done once the event's object no longer matches ``still``
    (the report is no longer awaiting review, the reward no longer proposed). One query for
    any number of events."""

    def done(events) -> set:
        ids = {e.object_id for e in events}
        waiting = model.objects.filter(pk__in=ids, **still).values_list("pk", flat=True)
        left = ids - {str(pk) for pk in waiting}
        return {e.pk for e in events if e.object_id in left}

    done.bulk = True
    return done


def each_event(relevant: Callable[[Any], bool]) -> Callable[[list], set]:
    """A kind's ``done``: the task is done once the event is no longer relevant, looked at
    event by event (for rules a single query cannot say, such as a deadline's)."""

    def done(events) -> set:
        return {e.pk for e in events if not relevant(e)}

    done.bulk = False
    return done


def staff_kinds() -> list[Kind]:
    return [k for k in KINDS.values() if not k.for_reporters]


# --- audiences usable by any layer ------------------------------------------------------------


def roles(*names: str) -> Callable:
    """Recipients: the active staff in these roles who see the event's township (its own staff
    and its county's)."""

    def recipients(event) -> list[Recipient]:
        if event.township_id is None:
            return []
        return [Recipient(user=u) for u in staff_for_township(event.township, *names)]

    recipients.__name__ = f"roles_{'_'.join(names)}"
    return recipients


def reporters(event) -> list[Recipient]:
    """Recipients: the reporter of the event's report, or of each report in data["reports"]."""
    if event.object_type == "tipline.report":
        ids = [event.object_id]
    else:
        ids = event.data.get("reports", [])
    return [Recipient(report_id=str(i)) for i in ids]
