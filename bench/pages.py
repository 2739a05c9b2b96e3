"""Staff list pages, requested in-process as three viewers, each page only by viewers allowed to
open it: a page that answers 403 to a role is not that role's page, so it is listed under
`not_allowed` and never becomes a result row (a 403 is the access rule working, not a slow page).
"""

import re
import time
import tracemalloc

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from org import roles
from org.models import County, StaffProfile, Unit
from tipline.models import Report

from .stats import MIB, result, stats

COUNTY_ROLES = (roles.SUPERVISOR, roles.CUSTODIAN, roles.FINANCE, roles.AUDITOR)
VIEWERS = ("province", "county", "clerk")
TARGET = "p95 ≤ 100 ms, < 20 MiB, ≤ 10 queries, median ≤ 3× demo size"


def pages():
    """Every staff list page; the audit log's last page is reached through the page's own links."""
    return {
        "home": "/staff/",
        **{f"queue ({s})": f"/staff/reports/?status={s}" for s in Report.Status.values},
        "cases": "/staff/cases/",
        "cases (archived)": "/staff/cases/?state=archived",
        # Search (casework.finding). The generated texts come from six templates
        # (ops/loadgen/people.py): "堕胎药" is in one in six reports, "引产" (two characters:
        # no trigram) in two, "人民路17号" in about one in 14,000.
        "queue search (words, 3+ characters)": "/staff/reports/?status=all&words=堕胎药",
        "queue search (words, 2 characters)": "/staff/reports/?status=all&words=引产",
        "queue search (rare words)": "/staff/reports/?status=all&words=人民路17号",
        "queue search (number)": "/staff/reports/?status=all&number=ZHONGSHUI-2026-0001",
        "queue filtered (dates, overdue)": (
            "/staff/reports/?since=2026-01-01&until=2026-06-30&overdue=1"
        ),
        "cases search (words)": "/staff/cases/?state=all&words=堕胎药",
        "cases search (rare words)": "/staff/cases/?state=all&words=人民路17号",
        "cases search (number)": "/staff/cases/?state=all&number=ZHONGSHUI-2026-0001",
        "cases of a home card (unassigned)": "/staff/cases/?state=all&work=unassigned",
        "file scores": "/staff/cases/files/",
        "identity requests": "/staff/identity/",
        "audit log (first page)": "/staff/audit/",
        "rewards": "/staff/rewards/",
        "rewards ledger": "/staff/rewards/ledger/",
        "assessment": "/staff/assessment/",
    }


def viewer(kind, county_code, clerk_name):
    """A signed-in client with a verified second factor: county staff holding every county role,
    a superuser who sees every township, or a township clerk."""
    User = get_user_model()
    if kind == "clerk":
        user = User.objects.get(username=clerk_name)
    else:
        user, _ = User.objects.get_or_create(username=f"bench-{kind}-{county_code}")
        if kind == "province":
            user.is_superuser = user.is_staff = True
            user.save()
        else:
            county = County.objects.get(code=county_code)
            unit, _ = Unit.objects.get_or_create(
                county=county, township=None, kind=Unit.Kind.FAMILY_PLANNING
            )
            StaffProfile.objects.get_or_create(user=user, defaults={"unit": unit})
            user.groups.set(Group.objects.filter(name__in=COUNTY_ROLES))
        user = User.objects.get(pk=user.pk)
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def last_audit_page(client):
    """Follow the audit log to its end, however it paginates (?page=N or ?before=<id>)."""
    html = client.get("/staff/audit/").content.decode()
    last = re.search(r'href="(\?page=\d+)"[^>]*>[^<]*(?:last|最后|末页)', html, re.I)
    if last:
        return "/staff/audit/" + last.group(1).replace("&amp;", "&")
    numbers = [int(p) for p in re.findall(r"\?page=(\d+)", html)]
    if numbers:
        return f"/staff/audit/?page={max(numbers)}"
    from casework.models import AuditEntry

    first = AuditEntry.objects.order_by("id").values_list("id", flat=True)[:2]
    return f"/staff/audit/?before={list(first)[-1] + 1}" if first else "/staff/audit/"


def samples(client, url, runs):
    """(times in ms, queries, Python peak MiB, status); None when the viewer may not open it."""
    status = client.get(url).status_code  # also warms templates and caches
    if status == 403:
        return None
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        status = client.get(url).status_code
        times.append((time.perf_counter() - start) * 1000)
    reset_queries()  # with DEBUG the log is capped (9,000) and a full one counts nothing new
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    tracemalloc.start()
    client.get(url)
    peak = tracemalloc.get_traced_memory()[1] / MIB
    tracemalloc.stop()
    return times, len(ctx.captured_queries), peak, status


def measure(county_code, clerk_name, runs):
    """{(viewer, page): (url, samples…)} for the pages each viewer may open, and
    {page: [viewers refused]}."""
    out, refused = {}, {}
    for kind in VIEWERS:
        client = viewer(kind, county_code, clerk_name)
        urls = {**pages(), "audit log (last page)": last_audit_page(client)}
        for name, url in urls.items():
            measured = samples(client, url, runs)
            if measured is None:
                refused.setdefault(name, []).append(kind)
            else:
                out[kind, name] = (url, *measured)
    return out, refused


def results(demo, scaled, scale):
    rows = []
    for key, (url, times, queries, peak, status) in scaled.items():
        if key not in demo:  # refused at demo size though allowed now: nothing to compare with
            continue
        demo_median = stats(demo[key][1])[0]
        median, p95 = stats(times)
        met = (status == 200 and p95 <= 100 and peak < 20 and queries <= 10
               and median <= 3 * demo_median)  # fmt: skip
        rows.append(result(
            f"page {key[1]} as {key[0]}", scale, times, "ms", TARGET, met,
            ("same page at demo size", demo_median), url=url, role=key[0], queries=queries,
            peak_mib=round(peak, 2), status=status,
        ))  # fmt: skip
    return rows


def allowed(scaled, refused):
    """Per page, the viewers it was measured for and those refused (403)."""
    names = dict.fromkeys(name for _, name in scaled) | dict.fromkeys(refused)
    return {
        name: {"measured as": [k for k in VIEWERS if (k, name) in scaled],
               "refused (403)": refused.get(name, [])}
        for name in names
    }  # fmt: skip
