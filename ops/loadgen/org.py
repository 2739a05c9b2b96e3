"""The generated jurisdiction: counties of ten townships, their units and staff, quotas.

A few hundred rows at most, so the ORM's bulk_create is fast enough here. Users get an unusable
password (benchmarks sign them in directly); each township has a clerk and an investigator, each
county a supervisor, custodian, finance clerk and auditor at county level.
"""

import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from casework.assessment.models import TownshipQuota
from org import roles
from org.models import County, StaffProfile, Township, Unit

TOWNSHIPS_PER_COUNTY = 10
TOWNSHIP_ROLES = (roles.CLERK, roles.INVESTIGATOR)
COUNTY_ROLES = (roles.SUPERVISOR, roles.CUSTODIAN, roles.FINANCE, roles.AUDITOR)
# Who works for each county (key → role); the "leader" is a second supervisor who approves the
# rewards the supervisor proposes (four eyes: a proposer never approves his own reward).
COUNTY_STAFF = (
    ("supervisor", roles.SUPERVISOR),
    ("leader", roles.SUPERVISOR),
    ("custodian", roles.CUSTODIAN),
    ("finance", roles.FINANCE),
    ("auditor", roles.AUDITOR),
)
COUNTY_UNIT = {
    roles.SUPERVISOR: Unit.Kind.FAMILY_PLANNING,
    roles.CUSTODIAN: Unit.Kind.DISCIPLINE,
    roles.FINANCE: Unit.Kind.FINANCE,
    roles.AUDITOR: Unit.Kind.DISCIPLINE,
}
SUFFIXES = ("镇", "乡", "街道办事处")


@dataclass
class Area:
    """One generated township and who works for it (user ids)."""

    township_id: int
    code: str
    county_id: int
    unit_id: int
    staff: dict[str, int] = field(default_factory=dict)  # role or COUNTY_STAFF key → user id


def batch_prefix() -> str:
    """A code prefix unused so far, so the command can run again on the same database."""
    taken = [
        int(m.group(1))
        for code in County.objects.filter(code__startswith="load").values_list("code", flat=True)
        if (m := re.match(r"load(\d+)-", code))
    ]
    return f"load{max(taken, default=0) + 1}"


def build(n_townships: int, years: list[int], cases_per_township_year: float, rng) -> list[Area]:
    prefix = batch_prefix()
    n_counties = -(-n_townships // TOWNSHIPS_PER_COUNTY)
    counties = County.objects.bulk_create(
        County(code=f"{prefix}-c{c:02d}", name=f"负载县{prefix[4:]}-{c:02d}")
        for c in range(n_counties)
    )
    townships = Township.objects.bulk_create(
        Township(
            county=counties[t // TOWNSHIPS_PER_COUNTY],
            code=f"{prefix}-t{t:03d}",
            name=f"负载{t:03d}{SUFFIXES[t % len(SUFFIXES)]}",
            reporting_phone=f"0000-{7000000 + t}",
            reporting_mailbox="" if t % 7 == 0 else "镇政府大门举报箱",
        )
        for t in range(n_townships)
    )
    county_units = {
        (c.pk, kind): Unit(county=c, township=None, kind=kind, name=f"{c.name}{kind}")
        for c in counties
        for kind in set(COUNTY_UNIT.values())
    }
    Unit.objects.bulk_create(county_units.values())
    township_units = Unit.objects.bulk_create(
        Unit(county_id=t.county_id, township=t, kind=Unit.Kind.FAMILY_PLANNING, name="计生办")
        for t in townships
    )
    password = make_password(None)  # unusable: benchmarks sign in without one
    User = get_user_model()
    planned = [
        (f"{t.code}-{role}", role, unit)
        for t, unit in zip(townships, township_units, strict=True)
        for role in TOWNSHIP_ROLES
    ] + [
        (f"{c.code}-{key}", role, county_units[(c.pk, COUNTY_UNIT[role])])
        for c in counties
        for key, role in COUNTY_STAFF
    ]
    users = User.objects.bulk_create(
        User(username=name, password=password, first_name=name[-8:], is_active=True)
        for name, _, _ in planned
    )
    StaffProfile.objects.bulk_create(
        StaffProfile(user=u, unit=unit) for u, (_, _, unit) in zip(users, planned, strict=True)
    )
    groups = {g.name: g for g in Group.objects.filter(name__in=TOWNSHIP_ROLES + COUNTY_ROLES)}
    Membership = User.groups.through
    Membership.objects.bulk_create(
        Membership(user_id=u.pk, group_id=groups[role].pk)
        for u, (_, role, _) in zip(users, planned, strict=True)
    )
    by_name = {u.username: u.pk for u in users}
    TownshipQuota.objects.bulk_create(
        TownshipQuota(
            township=t, year=y, quota=max(1, round(cases_per_township_year * rng.uniform(0.8, 1.3)))
        )
        for t in townships
        for y in years
    )
    areas = []
    for t, unit in zip(townships, township_units, strict=True):
        county_code = counties[[c.pk for c in counties].index(t.county_id)].code
        staff = {role: by_name[f"{t.code}-{role}"] for role in TOWNSHIP_ROLES}
        staff.update({key: by_name[f"{county_code}-{key}"] for key, _ in COUNTY_STAFF})
        areas.append(Area(t.pk, t.code, t.county_id, unit.pk, staff))
    return areas
