"""The step machinery both state machines (a case's, a reward's) are declared with.

A ``Step`` declares one state change once: label, sources, target, permission, the conditions
the object must meet (each with what to do first), guards on who acts, the inputs it asks for,
its effects and its history sentence. Services take it, pages offer it, django-fsm binds it.

``Hooks`` lets the layers above add to a machine's steps without the machine (or the app that
declares the steps) importing them: blockers checked before the step's own conditions, effects
run after its own, and sentences for the confirmation page. They are registered from an
``AppConfig.ready()`` and run inside the service's transaction, so a failing effect rolls the
step back; there is no ``send_robust`` here on purpose: an effect that must not be skipped (a
reward proposed at 查处) cannot be allowed to fail quietly.

This module imports nothing of the project: every layer may use it.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django_fsm import transition


@dataclass(frozen=True)
class Condition:
    check: Callable  # (obj) -> bool, evaluated on the locked row
    blocked: Promise  # what the user must do first


@dataclass(frozen=True)
class Guard:
    check: Callable  # (obj, user) -> bool: a rule about who acts (four eyes)
    refused: Promise


class Hooks:
    """What other apps add to the steps of one machine, by step name.

    Each addition has a key, so registering again (a second ``ready()``, a test) replaces it
    rather than running it twice.
    """

    def __init__(self):
        self._blockers: dict[str, dict[str, Condition]] = {}
        self._effects: dict[str, dict[str, Callable]] = {}
        self._notes: dict[str, dict[str, Callable]] = {}

    def block(self, step: str, key: str, condition: Condition) -> None:
        """A condition checked before the step's own (e.g. a reward still to be settled)."""
        self._blockers.setdefault(step, {})[key] = condition

    def after(self, step: str, key: str, effect: Callable) -> None:
        """An effect ``(obj, user, now)`` run after the step's own, in its transaction."""
        self._effects.setdefault(step, {})[key] = effect

    def note(self, step: str, key: str, lines: Callable) -> None:
        """``lines(obj) -> list[str]``: what the step will also do, for its confirmation."""
        self._notes.setdefault(step, {})[key] = lines

    def blockers(self, step: str) -> tuple[Condition, ...]:
        return tuple(self._blockers.get(step, {}).values())

    def effects(self, step: str) -> tuple[Callable, ...]:
        return tuple(self._effects.get(step, {}).values())

    def notes(self, step: str, obj) -> list[str]:
        return [line for lines in self._notes.get(step, {}).values() for line in lines(obj)]


@dataclass(frozen=True)
class Step:
    name: str
    label: Promise  # the button
    sources: tuple[str, ...]
    target: str
    permission: str
    history: Promise  # "%(actor)s …": one line of the history
    conditions: tuple[Condition, ...] = ()
    inputs: tuple[str, ...] = ()  # all required; stored as ``stored_in`` says
    missing_inputs: Promise | None = None
    audited_inputs: tuple[str, ...] = ()  # inputs copied into the audit entry
    effects: tuple[Callable, ...] = ()  # (obj, user, now) -> None, after the state changed
    decisive: bool = False  # ends the investigation: shown apart, confirmed before it runs
    irreversible: bool = False  # cannot be undone (sealing the file): confirmed before it runs
    confirm: Promise | None = None  # what will happen, shown with the confirmation
    extra: dict = field(default_factory=dict)
    by_hand: bool = True  # False: taken by another service (never a button on a page)
    guards: tuple[Guard, ...] = ()
    stored_in: dict = field(default_factory=dict)  # input name → the field it is stored in
    hooks: Hooks | None = field(default=None, compare=False, repr=False)

    @property
    def asks_confirmation(self) -> bool:
        """Taken only from its confirmation page, which says what will happen."""
        return self.decisive or self.irreversible

    def all_conditions(self) -> tuple[Condition, ...]:
        hooked = self.hooks.blockers(self.name) if self.hooks else ()
        return hooked + self.conditions

    def blocker(self, obj) -> Promise | None:
        """The message of the first condition the object does not meet, or None."""
        for condition in self.all_conditions():
            if not condition.check(obj):
                return condition.blocked
        return None

    def refusal(self, obj, user) -> Promise | None:
        """What stops this user taking the step now (conditions first, then guards), or None."""
        blocked = self.blocker(obj)
        if blocked:
            return blocked
        for guard in self.guards:
            if not guard.check(obj, user):
                return guard.refused
        return None

    def apply_effects(self, obj, user, now) -> None:
        """The step's own effects, then those other apps hooked to it."""
        hooked = self.hooks.effects(self.name) if self.hooks else ()
        for effect in self.effects + hooked:
            effect(obj, user, now)

    def notes(self, obj) -> list[str]:
        return self.hooks.notes(self.name, obj) if self.hooks else []

    def missing(self, inputs: dict) -> Promise | None:
        if any(not _filled(inputs.get(name)) for name in self.inputs):
            return self.missing_inputs
        return None

    def store(self, obj, inputs: dict) -> None:
        for name in self.inputs:
            value = inputs[name]
            setattr(obj, self.stored_in[name], value.strip() if isinstance(value, str) else value)

    def fsm_transition(self, state_field):
        """The model method django-fsm runs for this step (it changes nothing itself)."""

        def method(instance):
            pass

        def conditions_met(instance) -> bool:
            # Read when called, so conditions hooked after the model was built count too.
            return self.blocker(instance) is None

        method.__name__ = method.__qualname__ = self.name
        method.__doc__ = str(self.label)
        return transition(
            field=state_field,
            source=list(self.sources),
            target=self.target,
            permission=self.permission,
            conditions=[conditions_met] if self.conditions or self.hooks else [],
        )(method)


def _filled(value) -> bool:
    return bool(value.strip()) if isinstance(value, str) else value is not None
