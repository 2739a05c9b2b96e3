"""Demo county, townships, units and staff (idempotent). Not for production data."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from casework import demo_output
from casework.assessment import demo as assessment_demo
from casework.assessment import versions
from casework.demo_cases import demo_cases
from casework.models import Case
from casework.rewards.demo import demo_rewards, pay_out
from org import roles
from org.models import County, StaffProfile, Township, Unit
from tipline import services
from tipline.models import Category, Channel, Report

DEFAULT_PASSWORD = "tipline-demo-2026"  # noqa: S105 — demo only, printed for the user

TOWNSHIPS = [
    ("zhongshui", "中水镇", "0000-1234567", "镇政府大门东侧举报箱"),
    ("xishan", "西山镇", "0000-2345678", "镇计生办门口举报箱"),
    ("nanhu", "南湖街道办事处", "0000-3456789", "办事处一楼举报箱"),
    # No mailbox: 2.5 of the 5 reporting-system points of the assessment (考核).
    ("beishan", "北山乡", "0000-4567890", ""),
]
COUNTY_UNITS = [
    (Unit.Kind.FAMILY_PLANNING, "县卫生健康局（计生）"),
    (Unit.Kind.HEALTH_CENTER, "县人民医院"),
    (Unit.Kind.POLICE, "县公安局"),
    (Unit.Kind.DRUG_ADMIN, "县药品监督管理局"),
    (Unit.Kind.MARKET_REGULATION, "县市场监督管理局"),
    (Unit.Kind.DISCIPLINE, "县纪委"),
    (Unit.Kind.FINANCE, "县财政局"),
]
TOWNSHIP_UNITS = [
    (Unit.Kind.FAMILY_PLANNING, "计生办"),
    (Unit.Kind.HEALTH_CENTER, "卫生院"),
    (Unit.Kind.POLICE, "派出所"),
]
# username → (role, unit kind, township code or None for county level). Every township has a
# clerk with an e-mail address, so each new report tells someone.
STAFF = {
    "clerk": (roles.CLERK, Unit.Kind.FAMILY_PLANNING, "zhongshui"),
    "clerk_xishan": (roles.CLERK, Unit.Kind.FAMILY_PLANNING, "xishan"),
    "clerk_nanhu": (roles.CLERK, Unit.Kind.FAMILY_PLANNING, "nanhu"),
    "clerk_beishan": (roles.CLERK, Unit.Kind.FAMILY_PLANNING, "beishan"),
    "investigator": (roles.INVESTIGATOR, Unit.Kind.FAMILY_PLANNING, "zhongshui"),
    "supervisor": (roles.SUPERVISOR, Unit.Kind.FAMILY_PLANNING, None),
    # 分管领导: the second person who may approve rewards. The supervisor takes 查处 and 移送,
    # which propose the reward, and may not approve what he proposed (four eyes).
    "leader": (roles.SUPERVISOR, Unit.Kind.FAMILY_PLANNING, None),
    "custodian": (roles.CUSTODIAN, Unit.Kind.DISCIPLINE, None),
    "finance": (roles.FINANCE, Unit.Kind.FINANCE, None),
    "auditor": (roles.AUDITOR, Unit.Kind.DISCIPLINE, None),
    "admin": (roles.ADMINISTRATOR, Unit.Kind.FAMILY_PLANNING, None),
    # 督查: enters the assessment's inspection points (the 1000-point sheet) of every township.
    "inspector": (roles.INSPECTOR, Unit.Kind.DISCIPLINE, None),
}
# Full names (family name, given name): pages and the audit log name people by them.
NAMES = {
    "clerk": ("王", "丽"),
    "clerk_xishan": ("赵", "敏"),
    "clerk_nanhu": ("孙", "婷"),
    "clerk_beishan": ("周", "强"),
    "investigator": ("张", "伟"),
    "supervisor": ("刘", "建国"),
    "leader": ("郑", "海"),
    "custodian": ("陈", "静"),
    "finance": ("杨", "帆"),
    "auditor": ("吴", "刚"),
    "admin": ("黄", "磊"),
    "inspector": ("钱", "进"),
}
DEMO_REPORTS = [
    ("zhongshui", Category.SEX_DETERMINATION, "镇东头某诊所晚上用B超给孕妇看胎儿性别，收费500元。"),
    ("xishan", Category.ABORTION_DRUG_SALE, "西山镇某药店不凭处方出售终止妊娠药品。"),
]


# What the demo county tells a reporter who claims a reward (editable in the admin: 县).
FINANCE_WINDOW = {
    "finance_window_address": "示范县政务服务中心一楼12号财政窗口（人民路1号）",
    "finance_window_hours": "周一至周五 9:00—12:00、14:00—17:00（法定节假日除外）",
    "reward_payment_working_days": 15,
}

PRODUCTION_FLAG = "--i-know-this-is-production"
SHOWN_RECEIPTS = 3  # printed in the closing block; all of them go to var/demo-receipts.txt


def _password(production: bool) -> str:
    """The demo staff password. Outside development it must come from TIPLINE_DEMO_PASSWORD and
    pass the password validators: the default is printed in the README for anyone to read."""
    password = os.environ.get("TIPLINE_DEMO_PASSWORD") or ""
    if settings.TIPLINE_DEVELOPMENT:
        return password or DEFAULT_PASSWORD
    if not production:
        raise CommandError(
            "Refusing to load demo data under production settings (DJANGO_DEBUG=0): it creates "
            "staff accounts, an administrator among them. On a demonstration server, run it "
            f"with {PRODUCTION_FLAG} and a strong TIPLINE_DEMO_PASSWORD."
        )
    if not password or password == DEFAULT_PASSWORD:
        raise CommandError(
            f"{PRODUCTION_FLAG} needs TIPLINE_DEMO_PASSWORD set to a strong password; "
            "the published demo password is only for development."
        )
    try:
        password_validation.validate_password(password)
    except ValidationError as exc:
        raise CommandError("TIPLINE_DEMO_PASSWORD: " + " ".join(exc.messages)) from None
    return password


class Command(BaseCommand):
    help = "Create the demo county, townships, units and staff users (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument(
            PRODUCTION_FLAG,
            action="store_true",
            dest="production",
            help="allow demo data under DJANGO_DEBUG=0 (needs TIPLINE_DEMO_PASSWORD)",
        )

    def handle(self, *args, production=False, **options):
        password = _password(production)
        notes: list[str] = []  # what the demo steps want the person to see, printed last
        # The transaction commits inside quietly(): every notice goes out then (in this process
        # without a broker, else by the worker), into var/mail when the console would print it.
        with demo_output.quietly() as mail, transaction.atomic():
            receipts = self._seed(password, notes.append)
            # Some demo steps write with update() (no signals): the cached figures are dropped.
            versions.touch_all()
        self._summary(password, receipts, notes, mail)

    def _seed(self, password, note) -> list[str]:
        county, _ = County.objects.get_or_create(code="demo", defaults={"name": "示范县"})
        for field, value in FINANCE_WINDOW.items():  # what claimants are told; admin edits kept
            if not getattr(county, field):
                setattr(county, field, value)
        county.save()
        townships = {}
        for code, name, phone, box in TOWNSHIPS:
            townships[code], _ = Township.objects.update_or_create(
                code=code,
                defaults={
                    "county": county,
                    "name": name,
                    "reporting_phone": phone,
                    "reporting_mailbox": box,
                },
            )
            for kind, unit_name in TOWNSHIP_UNITS:
                Unit.objects.get_or_create(
                    county=county,
                    township=townships[code],
                    kind=kind,
                    defaults={"name": f"{name}{unit_name}"},
                )
        for kind, unit_name in COUNTY_UNITS:
            Unit.objects.get_or_create(
                county=county, township=None, kind=kind, defaults={"name": unit_name}
            )
        for role in roles.ALL:
            Group.objects.get_or_create(name=role)

        User = get_user_model()
        for username, (role, kind, township_code) in STAFF.items():
            user, created = User.objects.get_or_create(
                username=username, defaults={"email": f"{username}@example.invalid"}
            )
            if created:
                user.set_password(password)
            if not user.email:
                user.email = f"{username}@example.invalid"
            user.last_name, user.first_name = NAMES[username]
            user.is_staff = True
            user.is_superuser = username == "admin"
            user.save()
            user.groups.add(Group.objects.get(name=role))
            unit = Unit.objects.get(
                county=county,
                kind=kind,
                township=townships[township_code] if township_code else None,
            )
            StaffProfile.objects.update_or_create(user=user, defaults={"unit": unit})

        receipts = []
        self.fresh = not Report.objects.exists()  # a new demo: its receipts file starts again
        if self.fresh:
            for code, category, text in DEMO_REPORTS:
                _report, receipt = services.create_report(
                    services.ReportInput(
                        category=category, township_id=townships[code].id, description=text
                    ),
                    channel=Channel.WEB,
                )
                receipts.append(receipt)
        if not Case.objects.exists():
            receipts.extend(demo_cases(townships["zhongshui"], pay_out=pay_out))
            demo_rewards(townships["zhongshui"], note)  # rewards in every state
        receipts.extend(assessment_demo.seed(county, townships))
        # Reminders and escalations for the overdue demo report and case (once: the scan
        # records each reminder one time only). Every notice is sent after the commit: in this
        # process without a broker, else by the worker.
        call_command("scan_deadlines", stdout=self.stdout)

        return receipts

    def _summary(self, password, receipts, notes, mail) -> None:
        """One short block, last: where to go, who to sign in as, which receipts to try."""
        site = settings.TIPLINE_SITE_URL.rstrip("/")
        shown = password if settings.TIPLINE_DEVELOPMENT else "(TIPLINE_DEMO_PASSWORD)"
        saved = demo_output.save_receipts(
            [*notes, *(f"Demo report receipt (try it on /receipt/): {r}" for r in receipts)],
            append=not self.fresh,
        )
        out = self.stdout.write
        if mail is not None and receipts:
            out(f"Demo e-mails were written to {demo_output.shown_path(mail)}/ (not printed).")
        out("")
        out(
            self.style.SUCCESS(
                "Demo data ready: 示范县 with 中水镇, 西山镇, 南湖街道办事处, 北山乡."
            )
        )
        out(f"Public site: {site}/   Staff: {site}/staff/   Admin: {site}/admin/")
        out(f"Staff users: {', '.join(STAFF)}; password: {shown}")
        out(
            "Staff sign-in asks for a second factor: the first time, scan the QR code with an "
            "authenticator app (or type the key shown under it) and keep the backup codes. "
            "Notifications: the inbox in the staff header."
        )
        for line in notes:
            out(line)
        if receipts and saved is not None:
            first = ", ".join(receipts[:SHOWN_RECEIPTS])
            out(f"Demo report receipts (try them on /receipt/): {first} …")
            out(f"All {len(receipts)} demo receipts: {demo_output.shown_path(saved)}")
        elif receipts:  # no file outside development: every receipt is printed, once
            for receipt in receipts:
                out(f"Demo report receipt (try it on /receipt/): {receipt}")
        elif demo_output.receipts_file().exists() and settings.TIPLINE_DEVELOPMENT:
            out(
                "The demo data existed already, so no receipts were made; those of the run that "
                f"made them: {demo_output.shown_path(demo_output.receipts_file())}"
            )
        else:
            out(
                "The demo data existed already, so no receipts were made; only the run that made "
                "them printed them (a receipt is stored as a hash, never in clear)."
            )
