"""A small named cast for casework tests, made through the same services the app uses."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from casework import services
from org import roles
from org.models import StaffProfile, Township, Unit
from tipline import services as intake
from tipline.models import Category


def make_staff(username, role, unit):
    user = get_user_model().objects.create_user(
        username, f"{username}@example.invalid", "pw-" + username
    )
    user.groups.add(Group.objects.get(name=role))
    StaffProfile.objects.create(user=user, unit=unit)
    return get_user_model().objects.get(pk=user.pk)  # fresh: no cached permissions


@pytest.fixture
def units(county, township, other_township):
    def unit(kind, ts):
        return Unit.objects.create(
            county=county, township=ts, kind=kind, name=f"{kind}-{ts and ts.code}"
        )

    return {
        "zs_fp": unit(Unit.Kind.FAMILY_PLANNING, township),
        "xs_fp": unit(Unit.Kind.FAMILY_PLANNING, other_township),
        "county_fp": unit(Unit.Kind.FAMILY_PLANNING, None),
        "county_discipline": unit(Unit.Kind.DISCIPLINE, None),
        "county_finance": unit(Unit.Kind.FINANCE, None),
    }


class Cast(dict):
    """The cast; ``cast["leader"]``, a second county supervisor (分管领导) who approves the
    rewards the supervisor proposed (four eyes), and ``cast["administrator"]``, the county's
    administrator (organisation and settings, no report or case), join on first mention only,
    so tests that never need them see the same people (and notices) as before."""

    LATE = {
        "leader": ("leader", roles.SUPERVISOR, "county_fp"),
        "administrator": ("administrator", roles.ADMINISTRATOR, "county_fp"),
    }

    def __init__(self, units, people):
        super().__init__(people)
        self.units = units

    def __missing__(self, key):
        if key not in self.LATE:
            raise KeyError(key)
        username, role, unit = self.LATE[key]
        self[key] = make_staff(username, role, self.units[unit])
        return self[key]


@pytest.fixture
def cast(units):
    """Clerk and investigator of 中水镇, their 西山镇 peers, and county-level roles."""
    return Cast(
        units,
        {
            "clerk": make_staff("clerk", roles.CLERK, units["zs_fp"]),
            "investigator": make_staff("investigator", roles.INVESTIGATOR, units["zs_fp"]),
            "other_investigator": make_staff("xs_investigator", roles.INVESTIGATOR, units["xs_fp"]),
            "other_clerk": make_staff("xs_clerk", roles.CLERK, units["xs_fp"]),
            "supervisor": make_staff("supervisor", roles.SUPERVISOR, units["county_fp"]),
            "custodian": make_staff("custodian", roles.CUSTODIAN, units["county_discipline"]),
            "auditor": make_staff("auditor", roles.AUDITOR, units["county_discipline"]),
            "finance": make_staff("finance", roles.FINANCE, units["county_finance"]),
        },
    )


def verified_client(client, user):
    """Log in with a confirmed TOTP device marked verified in the session."""
    device = TOTPDevice.objects.create(user=user, name="t", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def login(client):
    def _login(user):
        client.logout()
        return verified_client(client, user)

    return _login


# The receipt of every report made here, by report id: tests that take a case to its reward
# claim it with the receipt, as the reporter would.
RECEIPTS: dict = {}


def new_report(township: Township, **extra):
    data = {
        "category": Category.SEX_DETERMINATION,
        "township_id": township.id,
        "description": "某诊所鉴定胎儿性别",
    }
    data.update(extra)
    report, receipt = intake.create_report(intake.ReportInput(**data))
    RECEIPTS[report.pk] = receipt
    return report


@pytest.fixture
def report(township):
    return new_report(township)


@pytest.fixture
def case(report, cast):
    return services.open_case(report.pk, cast["clerk"])


@pytest.fixture
def investigating_case(case, cast, units):
    services.assign(
        case.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    return services.start_investigation(case.pk, cast["investigator"])


def ids_subquery(sql: str) -> str:
    """The bare rows' query of a list page read ids first (casework.views.common
    IdsFirstPaginator: ``WHERE pk IN (SELECT U0.id … LIMIT n)``, or a county's townships merged:
    ``IN (SELECT "id" FROM ((… LIMIT n) UNION ALL (…) … LIMIT n) AS "page")``, joined after),
    or ``sql`` itself when it has none."""
    merged = re.search(r'IN \((SELECT "id" FROM \(.*\) AS "page")\)', sql)
    inner = merged or re.search(r'IN \((SELECT U0\."id" .*? LIMIT \d+(?: OFFSET \d+)?)\)', sql)
    return inner.group(1) if inner else sql
