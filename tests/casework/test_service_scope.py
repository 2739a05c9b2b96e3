"""Services check jurisdiction themselves, whoever calls them (a view, a task, a command).

Each service that acts for a user is called directly, bypassing every view, by a 西山镇 user who
holds the right permission, on a 中水镇 object: it raises OutOfScope and changes nothing. The same
call by the 中水镇 (or county) counterpart succeeds, so the refusal is about place, not role.
"""

from datetime import date

import pytest
from django.db import transaction

from casework import identity, services
from casework.models import DocumentType
from org import roles
from org.scope import OutOfScope
from tipline import services as intake
from tipline.attachments import sanitize
from tipline.models import Category

from .conftest import make_staff, new_report
from .test_access_matrix import _fast_hashing, everything, png_bytes  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def xs(units):
    """西山镇 staff holding every permission the services below ask for."""
    return {
        "supervisor": make_staff("xs_supervisor", roles.SUPERVISOR, units["xs_fp"]),
        "custodian": make_staff("xs_custodian", roles.CUSTODIAN, units["xs_fp"]),
        "investigator": make_staff("xs_inv", roles.INVESTIGATOR, units["xs_fp"]),
    }


def clean_png():
    return sanitize(png_bytes(), max_bytes=1024 * 1024)


def _calls(cast, units, township, investigating_case):
    """(name, callable(user)) for every service acting for a user, on 中水镇 objects."""
    case = investigating_case
    report = new_report(township, reporter_name="测试人")
    second = new_report(township)
    request = identity.request_access(report, cast["investigator"], "需要当面核实举报细节")
    evidence = DocumentType.objects.get(code="evidence")
    tip = intake.ReportInput(
        category=Category.SEX_DETERMINATION, township_id=township.id, description="电话举报内容"
    )
    return [
        (
            "reject_report",
            "supervisor",
            lambda u: services.reject_report(second.pk, u, "no_facts", ""),
        ),
        ("open_case", "supervisor", lambda u: services.open_case(second.pk, u)),
        ("link_report", "supervisor", lambda u: services.link_report(second.pk, case.pk, u)),
        (
            "register_staff_tip",
            "supervisor",
            lambda u: services.register_staff_tip(u, tip, "phone"),
        ),
        (
            "assign",
            "supervisor",
            lambda u: services.assign(case.pk, u, unit_id=units["zs_fp"].pk, investigator=None),
        ),
        (
            "extend_deadline",
            "supervisor",
            lambda u: services.extend_deadline(case.pk, u, "补充调查"),
        ),
        ("take_step", "supervisor", lambda u: services.find_unfounded(case.pk, u, "查无实据")),
        (
            "transfer",
            "supervisor",
            lambda u: services.transfer(case.pk, u, "县公安局", date(2026, 3, 2)),
        ),
        (
            "message_reporter",
            "investigator",
            lambda u: services.message_reporter(report.pk, u, "问"),
        ),
        (
            "add_document",
            "investigator",
            lambda u: services.add_document(case.pk, u, evidence, clean_png()),
        ),
        (
            "generate_registration_form",
            "investigator",
            lambda u: services.generate_registration_form(case.pk, u),
        ),
        (
            "identity.request_access",
            "investigator",
            lambda u: identity.request_access(report, u, "需要当面核实举报的细节"),
        ),
        ("identity.decide", "custodian", lambda u: identity.decide(request.pk, u, True)),
    ]


NAMES = [
    "reject_report",
    "open_case",
    "link_report",
    "register_staff_tip",
    "assign",
    "extend_deadline",
    "take_step",
    "transfer",
    "message_reporter",
    "add_document",
    "generate_registration_form",
    "identity.request_access",
    "identity.decide",
]


@pytest.mark.parametrize("name", NAMES)
def test_outsider_with_the_permission_is_refused_and_nothing_changes(
    name, cast, units, xs, township, investigating_case
):
    calls = {n: (role, call) for n, role, call in _calls(cast, units, township, investigating_case)}
    role, call = calls[name]
    before = everything()
    with pytest.raises(OutOfScope):
        call(xs[role])
    assert everything() == before


@pytest.mark.parametrize("name", NAMES)
def test_the_same_call_succeeds_inside_the_scope(name, cast, units, township, investigating_case):
    calls = {n: (role, call) for n, role, call in _calls(cast, units, township, investigating_case)}
    role, call = calls[name]
    insider = {"supervisor": cast["supervisor"], "investigator": cast["investigator"]}
    insider["custodian"] = cast["custodian"]
    before = everything()
    call(insider[role])
    assert everything() != before


def test_every_service_acting_for_a_user_is_listed():
    """A new service that takes a user must be added to the scope tests above."""
    import inspect

    listed = {n.split(".")[-1] for n in NAMES} | {
        "penalize",
        "find_unfounded",
        "start_investigation",
        "reward",
        "archive",
        "give_feedback",
        "reveal",
        "lock_case",  # the row locks other apps' services use: test_locks_check_scope
        "lock_report",
    }
    for module in (services, identity):
        for name, func in inspect.getmembers(module, inspect.isfunction):
            if func.__module__ != module.__name__ or name.startswith("_"):
                continue
            params = inspect.signature(func).parameters
            if {"user", "custodian"} & set(params):
                assert name in listed, f"{module.__name__}.{name} acts for a user: test its scope"


def test_give_feedback_checks_scope(cast, xs, township, investigating_case):
    case = services.find_unfounded(investigating_case.pk, cast["supervisor"], "查无实据")
    before = everything()
    with pytest.raises(OutOfScope):
        services.give_feedback(case.pk, xs["supervisor"], "已办结")
    assert everything() == before


def test_locks_check_scope(cast, xs, township, investigating_case):
    """The row locks the other apps' services take (the assessment's) refuse an outsider before
    anything is read, and give an insider the row."""
    report = new_report(township)
    with transaction.atomic():
        with pytest.raises(OutOfScope):
            services.lock_case(investigating_case.pk, xs["supervisor"])
        with pytest.raises(OutOfScope):
            services.lock_report(report.pk, xs["supervisor"])
        assert services.lock_case(investigating_case.pk, cast["supervisor"]) == investigating_case
        assert services.lock_report(report.pk, cast["clerk"]) == report
