"""Demo data for the assessment (考核) of the current year, made through the services, so every
rule shows on the page: a township above its quota, one below, one in the bottom band, one
without a mailbox and without a quota (not ranked, 未下达任务: the year cannot be frozen until
the county sets it); repeat reports within and outside the 30-day window; a falsified case;
missing documents; a case decided late; a report the system suggests as a repeat.

Then one inspection round (第二季度督查) of 中水镇 and 西山镇 by the demo inspector, with notes,
records, a county commendation and a city notice, so the ranking is by total on the sheet.

Expected figures (written out by hand in tests/assessment/test_demo.py):
  中水镇 zhongshui  quota 3, handled 4, 16 missing, −20           net 85     total 797    rank 1
  西山镇 xishan     quota 4, handled 3, 1 late, 1 missing, −580    net −420   total 149    rank 2
  南湖街道 nanhu    quota 5, handled 2 (bottom band), −1200        net −1031  total −1031  rank 3
  北山乡 beishan    no quota set, no cases, phone only            net 202.5  total 202.5  unranked
"""

import io
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from pypdf import PdfWriter

from org.models import Unit
from tipline import services as intake
from tipline.attachments import sanitize
from tipline.models import Category

from .. import services
from ..models import Case, DocumentType, State
from . import inspections, sheet, versions
from . import services as assessment
from .inputs import year_bounds
from .models import TownshipQuota

FULL_FILE = (
    "acceptance_approval",
    "interview_record",
    "inspection_record",
    "evidence",
    "penalty_decision",
    "service_receipt",
    "closing_report",
)
# 北山乡 has none: the county has not set its quota yet (未下达任务), so it is not ranked.
QUOTAS = {"zhongshui": 3, "xishan": 4, "nanhu": 5}


def _pdf():
    buf = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.write(buf)
    return sanitize(buf.getvalue(), max_bytes=1_000_000)


def _file(case, user, codes):
    services.generate_registration_form(case.pk, user)
    for code in codes:
        doc_type = DocumentType.objects.get(code=code)
        services.add_document(case.pk, user, doc_type, _pdf(), title=str(doc_type.name))


def seed(county, townships: dict) -> list[str]:
    """Add the assessment demo once (it is skipped when the county already has quotas)."""
    if TownshipQuota.objects.filter(township__county=county).exists():
        return []
    now = timezone.now()
    year = timezone.localdate(now).year
    admin = get_user_model().objects.get(username="admin")
    supervisor = get_user_model().objects.get(username="supervisor")
    clerk = get_user_model().objects.get(username="clerk")
    receipts = []

    for code, quota in QUOTAS.items():
        assessment.set_quota(townships[code].pk, year, quota, admin)

    def report(
        code,
        text,
        *,
        category=Category.SEX_DETERMINATION,
        name="",
        address="",
        phone="",
        ago=timedelta(0),
    ):
        rep, receipt = intake.create_report(
            intake.ReportInput(
                category=category,
                township_id=townships[code].id,
                description=text,
                subject_name=name,
                subject_address=address,
                subject_phone=phone,
            ),
            received_at=max(now - ago, _start_of(year)),
        )
        receipts.append(receipt)
        return rep

    def decided_case(code, text, outcome="penalize", files=FULL_FILE, late=False, **subject):
        case = services.open_case(report(code, text, **subject).pk, supervisor)
        unit = Unit.objects.get(township=townships[code], kind=Unit.Kind.FAMILY_PLANNING)
        services.assign(case.pk, supervisor, unit_id=unit.pk, investigator=supervisor)
        services.start_investigation(case.pk, supervisor)
        _file(case, supervisor, files)
        if late:  # past its decision deadline before it is decided (demo data only)
            Case.objects.filter(pk=case.pk).update(
                decision_due=timezone.localdate(now) - timedelta(1)
            )
            versions.touch_townships(case.township_id)  # update() sends no signal
        if outcome == "penalize":
            return services.penalize(case.pk, supervisor, "罚款一万元，没收违法所得。")
        return services.find_unfounded(case.pk, supervisor, "经核查，未发现违法事实。")

    # 中水镇: the casework demo's cases (4 handled, 16 missing documents). Its rewarded case is
    # reported again 10 days before its first report (−20); its penalized case 45 days before
    # (outside the window: no deduction).
    zs = townships["zhongshui"]
    for state, days in ((State.REWARDED, 10), (State.PENALIZED, 45)):
        case = Case.objects.filter(township=zs, state=state).order_by("pk").first()
        if case is not None:
            # Reported again in the case's own words (its category and what it was about).
            again = report(
                "zhongshui",
                f"又有人举报：{case.title}",
                category=case.category,
                ago=timedelta(days=days),
            )
            services.link_report(again.pk, case.pk, clerk)

    # 西山镇: quota 4, three penalized (one falsified, one reported three times within a week,
    # one missing its 送达回证) and one decided late as unfounded.
    xs_subject = {"name": "李记诊所", "address": "西山镇人民路8号", "phone": "13912345678"}
    repeated = decided_case("xishan", "李记诊所用B超鉴定胎儿性别。", **xs_subject)
    for days in (3, 5):
        again = report("xishan", "李记诊所仍在做性别鉴定。", ago=timedelta(days=days), **xs_subject)
        services.link_report(again.pk, repeated.pk, supervisor)
    falsified = decided_case(
        "xishan",
        "西山镇某村卫生室为孕妇做选择性别的引产。",
        category=Category.SEX_SELECTIVE_ABORTION,
        name="某村卫生室",
    )
    decided_case(
        "xishan",
        "药店无处方出售终止妊娠药品（米非司酮）。",
        category=Category.ABORTION_DRUG_SALE,
        files=tuple(c for c in FULL_FILE if c != "service_receipt"),
        name="西山大药房",
    )
    decided_case("xishan", "据称有人介绍孕妇鉴定性别。", outcome="unfounded", late=True)
    assessment.mark_falsified(
        falsified.pk,
        supervisor,
        "县督查组核查：该案件为虚构，当事人与举报内容不符。",
        _pdf(),
        "督查核查报告",
    )
    # A new report the system suggests as a repeat of the 李记诊所 case (same phone, name
    # written with full-width characters and spaces).
    report(
        "xishan",
        "李记 诊所（人民路）晚上偷偷做B超。",
        name="李记　诊所",
        address="西山镇人民路８号",
        phone="13912345678",
    )

    # 南湖街道: quota 5, two penalized cases: below half the quota (bottom band).
    decided_case("nanhu", "南湖街道某诊所鉴定胎儿性别。", name="南湖诊所")
    decided_case("nanhu", "南湖街道流动B超车。", name="流动B超车")

    _inspection_round(townships, year, timezone.localdate(now))
    return receipts


# The county inspectors' second-quarter round (督查录入) of 中水镇 and 西山镇: every entered
# item below its maximum. 中水镇 702 points and a county commendation (+10): total
# 85 + 702 + 10 = 797; 西山镇 599 points and a city notice (−30): −420 + 599 − 30 = 149.
ROUND = {
    "zhongshui": {
        "art04": 10, "art05": 35, "art06": 10, "art07": 8, "art08": 10, "art09": 12,
        "art10": 15, "art11": 4, "art12": 5, "art13": 10, "art14": 70, "art15": 10,
        "art16": 360, "art17": 15, "art18": 8, "art20": 10, "art21": 110,
    },
    "xishan": {
        "art04": 8, "art05": 30, "art06": 5, "art07": 6, "art08": 10, "art09": 8,
        "art10": 10, "art11": 3, "art12": 5, "art13": 5, "art14": 60, "art15": 5,
        "art16": 320, "art17": 10, "art18": 6, "art20": 8, "art21": 100,
    },
}  # fmt: skip
NOTES = {
    ("zhongshui", "art16"): "抽查持证对象30名，孕情与上报不符1名。",
    ("xishan", "art06"): "第一季度未召开联席会议，第二季度有会议记录。",
    ("xishan", "art14"): "漏报2人。",
}


def _inspection_round(townships, year, today):
    inspector = get_user_model().objects.get(username="inspector")
    on = max(today - timedelta(days=20), today.replace(month=1, day=1))
    for code, points in ROUND.items():
        values = {
            item: inspections.ItemInput(
                value,
                NOTES.get((code, item), ""),
                [_pdf()] if (code, item) in NOTES else [],
            )
            for item, value in points.items()
        }
        inspections.enter_round(townships[code].pk, year, sheet.Q2, values, inspector)
    inspections.add_adjustment(
        townships["zhongshui"].pk, year, "commendation_county", on, "县委、县政府通报表彰。",
        [_pdf()], inspector,
    )  # fmt: skip
    inspections.add_adjustment(
        townships["xishan"].pk, year, "city_notice", on, "性别比报表迟报，市计生委通报一次。",
        [_pdf()], inspector,
    )  # fmt: skip


def _start_of(year):
    return year_bounds(year)[0]
