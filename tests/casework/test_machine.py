"""The step machinery (casework/machine.py) with hooks other apps add: blockers checked before
the step's own conditions, effects after its own, keyed so a second registration replaces the
first. Plain objects: the machine knows nothing of cases or rewards."""

from types import SimpleNamespace

from casework.machine import Condition, Guard, Hooks, Step


def make_step(hooks, **kwargs):
    return Step(
        name="close",
        label="Close",
        sources=("open",),
        target="closed",
        permission="",
        history="%(actor)s closed it",
        hooks=hooks,
        **kwargs,
    )


def test_a_hooked_blocker_is_checked_before_the_steps_own_conditions():
    hooks = Hooks()
    step = make_step(hooks, conditions=(Condition(lambda o: o.filed, "file it first"),))
    thing = SimpleNamespace(filed=False, paid=False)
    assert step.blocker(thing) == "file it first"
    hooks.block("close", "money", Condition(lambda o: o.paid, "pay it first"))
    assert step.blocker(thing) == "pay it first"  # both unmet: the hooked one speaks
    thing.paid = True
    assert step.blocker(thing) == "file it first"
    thing.filed = True
    assert step.blocker(thing) is None
    assert make_step(hooks).blocker(SimpleNamespace(paid=False)) == "pay it first"
    assert make_step(Hooks()).blocker(SimpleNamespace(paid=False)) is None  # other machine


def test_hooked_effects_run_after_the_steps_own_in_order_and_replace_by_key():
    hooks, ran = Hooks(), []
    step = make_step(hooks, effects=(lambda o, u, now: ran.append("own"),))
    hooks.after("close", "a", lambda o, u, now: ran.append("a"))
    hooks.after("close", "b", lambda o, u, now: ran.append("b"))
    hooks.after("close", "a", lambda o, u, now: ran.append("a again"))  # a second ready()
    hooks.after("other", "c", lambda o, u, now: ran.append("c"))
    step.apply_effects(SimpleNamespace(), None, None)
    assert ran == ["own", "a again", "b"]


def test_a_failing_hooked_effect_propagates():
    """Nothing swallows it: the service's transaction rolls the step back."""
    hooks = Hooks()

    def boom(o, u, now):
        raise RuntimeError("the reward could not be proposed")

    hooks.after("close", "boom", boom)
    try:
        make_step(hooks).apply_effects(SimpleNamespace(), None, None)
    except RuntimeError as exc:
        assert str(exc) == "the reward could not be proposed"
    else:
        raise AssertionError("the failure was swallowed")


def test_notes_and_guards():
    hooks = Hooks()
    hooks.note("close", "money", lambda o: ["A reward will be proposed."] if o.new else [])
    step = make_step(hooks, guards=(Guard(lambda o, user: user != o.owner, "not yours"),))
    assert step.notes(SimpleNamespace(new=True)) == ["A reward will be proposed."]
    assert step.notes(SimpleNamespace(new=False)) == []
    thing = SimpleNamespace(owner="ann")
    assert step.refusal(thing, "ann") == "not yours"
    assert step.refusal(thing, "bob") is None
