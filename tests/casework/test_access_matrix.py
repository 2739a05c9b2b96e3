"""The whole role × URL matrix of the staff site.

Every URL of casework/urls.py (GET pages and POST actions) is requested with objects of 中水镇 by
every member of the cast, by an anonymous visitor, by a signed-in user without a verified second
factor and by a verified user without a staff profile. The expected status of every cell is
written out in MATRIX below; a URL added to casework/urls.py without a row fails
test_every_staff_url_has_a_row.

Rules the table encodes:
- objects outside the user's township are 404 (their existence is not confirmed);
- read-only roles asking for an action they lack are 403;
- a user who lacks the permission for an action entirely gets 403 for *any* object id, so a 403
  there confirms nothing either: test_outsiders_learn_nothing_about_existence checks that a
  西山镇 user gets exactly the same answer for a 中水镇 object as for one that does not exist.
"""

import io
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve
from django.utils import timezone
from PIL import Image

from casework import identity, services
from casework.assessment import services as assessment
from casework.models import AuditEntry, Case, DocumentType, IdentityRequest
from casework.rewards import services as rewards
from casework.rewards.models import Reward
from casework.steps import STEPS as TRANSITIONS
from casework.urls import urlpatterns
from org import roles
from org.models import Township
from tipline import services as intake
from tipline.attachments import sanitize
from tipline.models import Category, Report

from ..rewards.helpers import fresh_code, step_up
from .conftest import make_staff, verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Cheap password and receipt hashing: the matrix builds a cast for each of its cells."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TIPLINE_RECEIPT_ARGON2 = {"memory_cost": 8, "iterations": 1, "lanes": 1}


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, "PNG")
    return buf.getvalue()


def clean_png():
    return sanitize(png_bytes(), max_bytes=1024 * 1024)


class World(dict):
    """中水镇 objects, each made through the services on first use (``path.format_map(world)``)."""

    def __init__(self, cast, units, township):
        super().__init__()
        self.cast, self.units, self.township = cast, units, township
        self.generated_doc = {}  # case pk → its generated registration form

    def __missing__(self, key):
        value = getattr(self, f"_make_{key}")()
        self[key] = value
        return value

    # -- helpers
    def _report(self, **extra):
        data = {
            "category": Category.SEX_DETERMINATION,
            "township_id": self.township.id,
            "description": "某诊所鉴定胎儿性别",
            "reporter_name": "测试人",
            "reporter_phone": "13800000000",
        }
        data.update(extra)
        report, _receipt = intake.create_report(intake.ReportInput(**data), files=[clean_png()])
        return report

    def _case(self, state):
        report = self._report()
        case = services.open_case(report.pk, self.cast["clerk"])
        services.assign(
            case.pk,
            self.cast["supervisor"],
            unit_id=self.units["zs_fp"].pk,
            investigator=self.cast["investigator"],
        )
        if state == "accepted":
            return case
        services.start_investigation(case.pk, self.cast["investigator"])
        self._file(case, "penalty_decision")
        self.generated_doc[case.pk] = services.generate_registration_form(
            case.pk, self.cast["investigator"]
        )
        if state == "investigating":
            return case
        # 查处 by the second supervisor, so the reward it proposes is the supervisor's to approve
        # (whoever proposed a reward may not approve it).
        services.penalize(case.pk, self.cast["leader"], "罚款五千元")
        for code in (
            "acceptance_approval",
            "interview_record",
            "inspection_record",
            "evidence",
            "service_receipt",
            "reward_approval",
            "closing_report",
        ):
            self._file(case, code)
        return case

    def _file(self, case, code):
        doc_type = DocumentType.objects.get(code=code)
        return services.add_document(case.pk, self.cast["investigator"], doc_type, clean_png())

    # -- the objects paths and forms refer to
    def _make_report(self):
        return self._report().pk

    def _make_attachment(self):
        return Report.objects.get(pk=self["report"]).attachments.get().pk

    def _make_case(self):
        return self._case("accepted").pk

    def _make_inv_case(self):
        return self._case("investigating").pk

    def _make_pen_case(self):
        return self._case("penalized").pk

    def _make_arch_case(self):
        """Penalized, complete file, its reward settled (cancelled): ready to archive."""
        pk = self._case("penalized").pk
        rewards.cancel(Reward.objects.get(case_id=pk).pk, self.cast["supervisor"], "举报人放弃")
        return pk

    def _make_doc(self):
        return self.generated_doc[self["inv_case"]].pk

    def _make_id_pending(self):
        report = Report.objects.get(pk=self["report"])
        return identity.request_access(
            report, self.cast["investigator"], "需要当面核实举报的具体细节"
        ).pk

    def _make_id_approved(self):
        pk = self["id_pending"]
        identity.decide(pk, self.cast["custodian"], True)
        return pk

    def _make_zs_unit(self):
        return self.units["zs_fp"].pk

    def _make_investigator(self):
        return self.cast["investigator"].pk

    def _make_interview_type(self):
        return DocumentType.objects.get(code="interview_record").pk

    # -- rewards (casework/rewards)
    def _make_reward(self):
        """The reward proposed when the penalized case reached 查处."""
        return Reward.objects.get(case_id=self["pen_case"]).pk

    def _make_claimed(self):
        """Another case's reward, approved and claimed by bank transfer, awaiting payment."""
        report, receipt = intake.create_report(
            intake.ReportInput(
                category=Category.SEX_DETERMINATION,
                township_id=self.township.id,
                description="另一诊所鉴定胎儿性别",
            )
        )
        case = services.open_case(report.pk, self.cast["clerk"])
        services.assign(
            case.pk,
            self.cast["supervisor"],
            unit_id=self.units["zs_fp"].pk,
            investigator=self.cast["investigator"],
        )
        services.start_investigation(case.pk, self.cast["investigator"])
        self._file(case, "penalty_decision")
        services.penalize(case.pk, self.cast["supervisor"], "罚款两万元")
        reward = Reward.objects.get(case=case)
        # Four eyes: the supervisor proposed it (查处), the second supervisor approves.
        step_up(self.cast["leader"], reward)
        rewards.approve(reward.pk, self.cast["leader"])
        rewards.claim(
            reward.pk,
            receipt,
            method="bank",
            payee_name="某人",
            bank_name="某银行",
            account_number="6228480402564890018",
        )
        return reward.pk

    def _make_an_hour_ago(self):
        """When a tip taken by phone arrived, as the staff form's date-time field takes it."""
        return (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    def _make_quotas(self):
        """Every township of the county has its 2026 quota (a year is frozen only then)."""
        admin = self.cast["administrator"]
        for township in Township.objects.filter(county_id=self.township.county_id):
            assessment.set_quota(township.pk, 2026, 4, admin)
        return ""

    def _make_sup_code(self):
        return fresh_code(self.cast["supervisor"])

    def _make_fin_code(self):
        return fresh_code(self.cast["finance"])

    def _make_fin_stepped_up(self):
        """Finance re-entered a code for the claimed reward (the payment needs it)."""
        step_up(self.cast["finance"], self["claimed"])
        return "PZ-2026-007"


class MissingWorld(dict):
    """The same keys, pointing at objects that do not exist."""

    UUID_KEYS = {"report", "attachment", "doc"}

    def __missing__(self, key):
        return uuid.uuid4() if key in self.UUID_KEYS else 987654


FILE = object()  # marker: a fresh PNG upload in the POST data

ROLES = (
    "clerk",
    "investigator",
    "xs_clerk",
    "xs_investigator",
    "supervisor",
    "custodian",
    "auditor",
    "finance",
    "administrator",
)
CAST_KEY = {"xs_clerk": "other_clerk", "xs_investigator": "other_investigator"}


@dataclass(frozen=True)
class Row:
    expected: tuple  # one status per entry of ROLES
    method: str
    path: str  # formatted with a World
    data: dict = field(default_factory=dict)

    @property
    def id(self):
        return f"{self.method} {self.path}"

    @property
    def name(self):
        """The URL name in casework/urls.py, as the resolver sees the path."""
        match = resolve(self.path.format_map(MissingWorld()))
        assert match.namespace == "staff", self.path
        return match.url_name

    @property
    def has_object(self):
        return "{" in self.path

    def prepare(self, world):
        """Make the objects the path and data refer to (a World makes them on first use)."""
        self.path.format_map(world)
        for value in self.data.values():
            if isinstance(value, str):
                value.format_map(world)

    def request(self, client, world):
        path = self.path.format_map(world)
        if self.method == "GET":
            return client.get(path)
        data = {}
        for key, value in self.data.items():
            if value is FILE:
                data[key] = SimpleUploadedFile("x.png", png_bytes(), content_type="image/png")
            elif isinstance(value, str):
                data[key] = value.format_map(world)
            else:
                data[key] = value
        return client.post(path, data)


R, C, P = "/staff/reports/{report}", "/staff/cases/{case}", "/staff/cases/{inv_case}"
K = "/staff/cases/{pen_case}"
W, CL = "/staff/rewards/{reward}", "/staff/rewards/{claimed}"
A = "/staff/cases/{arch_case}"  # penalized, its reward settled
INV = {"expected_state": "investigating"}
PEN = {"expected_state": "penalized"}

# fmt: off
#        clk  inv  xsC  xsI  sup  cus  aud  fin  adm  (the order of ROLES)
MATRIX = [
    Row((200, 200, 200, 200, 200, 200, 200, 200, 200), "GET", "/staff/"),
    Row((200, 200, 200, 200, 200, 200, 200, 403, 403), "GET", "/staff/reports/"),
    Row((200, 403, 200, 403, 200, 403, 403, 403, 403), "GET", "/staff/reports/new/"),
    Row((200, 200, 404, 404, 200, 200, 200, 403, 403), "GET", R + "/"),
    Row((200, 200, 404, 404, 200, 200, 200, 403, 403), "GET", R + "/attachments/{attachment}/"),
    Row((200, 200, 200, 200, 200, 200, 200, 403, 403), "GET", "/staff/cases/"),
    Row((200, 200, 200, 200, 200, 200, 200, 403, 403), "GET", "/staff/cases/files/"),
    Row((200, 200, 404, 404, 200, 200, 200, 403, 403), "GET", C + "/"),
    Row((200, 200, 404, 404, 200, 200, 200, 403, 403), "GET", C + "/index/"),
    Row((200, 200, 404, 404, 200, 200, 200, 403, 403), "GET", P + "/documents/{doc}/"),
    Row((200, 200, 200, 200, 200, 200, 200, 403, 403), "GET", "/staff/identity/"),
    # Finance and the administrator read no report and no case: 403 whatever the id (above and
    # in every row below that names a report or a case).
    # Only the requester sees an approved identity; the custodian may know the request exists.
    Row((404, 200, 404, 404, 404, 403, 404, 403, 403), "GET", "/staff/identity/{id_approved}/"),
    Row((403, 403, 403, 403, 403, 403, 200, 403, 200), "GET", "/staff/audit/"),
    Row((403, 403, 403, 403, 403, 403, 200, 403, 200), "GET", "/staff/audit/export.csv"),
    # A 西山镇 clerk cannot pick 中水镇 in the form: 400, nothing created.
    Row((200, 403, 400, 403, 200, 403, 403, 403, 403), "POST", "/staff/reports/new/",
        {"category": Category.SEX_DETERMINATION, "township": "zhongshui", "channel": "phone",
         "received_at": "{an_hour_ago}", "description": "电话举报：某诊所鉴定胎儿性别"}),
    Row((302, 403, 404, 403, 302, 403, 403, 403, 403), "POST", R + "/reject/",
        {"reason": "no_facts", "note": "请补充具体地址"}),
    Row((302, 403, 404, 403, 302, 403, 403, 403, 403), "POST", R + "/open-case/",
        {"title": "某诊所鉴定胎儿性别"}),
    Row((302, 403, 404, 403, 302, 403, 403, 403, 403), "POST", R + "/link/",
        {"case": "{case}"}),
    # Clerks ask for missing facts before accepting; investigators during the investigation.
    Row((302, 302, 404, 404, 302, 403, 403, 403, 403), "POST", R + "/message/",
        {"body": "请问诊所的具体位置？"}),
    Row((403, 302, 403, 404, 302, 403, 403, 403, 403), "POST", R + "/identity/",
        {"reason": "需要当面核实举报细节"}),
    Row((302, 403, 404, 403, 302, 403, 403, 403, 403), "POST", C + "/assign/",
        {"unit": "{zs_unit}", "investigator": "{investigator}", "expected_state": "accepted"}),
    Row((403, 403, 403, 403, 302, 403, 403, 403, 403), "POST", C + "/extend/",
        {"reason": "需要补充调查", "expected_state": "accepted"}),
    Row((403, 403, 403, 403, 302, 403, 403, 403, 403), "POST", K + "/feedback/",
        {"body": "您举报的问题已查处。"}),
    Row((403, 302, 404, 404, 302, 403, 403, 403, 403), "POST",
        C + "/transition/start_investigation/",
        {"expected_state": "accepted"}),
    # Decisive steps, as posted from their confirmation page (its own test shows the page).
    Row((403, 403, 404, 404, 302, 403, 403, 403, 403), "POST", P + "/transition/penalize/",
        {**INV, "outcome": "罚款五千元", "confirmed": "on"}),
    Row((403, 403, 404, 404, 302, 403, 403, 403, 403), "POST", P + "/transition/find_unfounded/",
        {**INV, "outcome": "查无实据", "confirmed": "on"}),
    Row((403, 403, 404, 404, 302, 403, 403, 403, 403), "POST", P + "/transition/transfer/",
        {**INV, "receiving_unit": "县公安局", "transferred_on": "2025-03-01", "confirmed": "on"}),
    # 奖励 is taken by the reward payment, never through this URL.
    Row((404, 404, 404, 404, 404, 404, 404, 403, 403), "POST", K + "/transition/reward/",
        PEN),
    # Archiving seals the file: taken from its confirmation page too.
    Row((403, 403, 404, 404, 302, 403, 403, 403, 403), "POST", A + "/transition/archive/",
        {**PEN, "confirmed": "on"}),
    Row((404, 404, 404, 404, 404, 404, 404, 403, 403), "POST", C + "/transition/bogus/",
        {"expected_state": "accepted"}),
    Row((403, 302, 403, 404, 302, 403, 403, 403, 403), "POST", P + "/documents/",
        {"doc_type": "{interview_type}", "title": "询问笔录", "file": FILE}),
    Row((403, 302, 403, 404, 302, 403, 403, 403, 403), "POST", P + "/documents/generate/"),
    Row((403, 403, 403, 403, 403, 302, 403, 403, 403), "POST",
        "/staff/identity/{id_pending}/decide/",
        {"decision": "approve", "note": ""}),
    # assessment (考核): everyone sees their townships; quotas and freezing are for county
    # administrators (more cells: tests/assessment/test_pages.py)
    Row((200, 200, 200, 200, 200, 200, 200, 200, 200), "GET", "/staff/assessment/"),
    Row((200, 200, 404, 404, 200, 200, 200, 200, 200), "GET",
        "/staff/assessment/townships/zhongshui/"),
    Row((200, 200, 200, 200, 200, 200, 200, 200, 200), "GET", "/staff/assessment/export.csv"),
    Row((200, 200, 200, 200, 200, 200, 200, 200, 200), "GET", "/staff/assessment/export.xlsx"),
    Row((403, 403, 403, 403, 403, 403, 403, 403, 200), "GET", "/staff/assessment/settings/"),
    Row((403, 403, 403, 403, 403, 403, 403, 403, 302), "POST", "/staff/assessment/freeze/",
        {"year": "2026", "county": "demo", "quotas_set": "{quotas}"}),
    # the 1000-point sheet: the county's inspectors enter it, its administrator edits the
    # template (their cells: tests/assessment/test_sheet_pages.py); no one else does either
    Row((403, 403, 403, 403, 403, 403, 403, 403, 403), "GET",
        "/staff/assessment/townships/zhongshui/inspect/"),
    Row((403, 403, 403, 403, 403, 403, 403, 403, 403), "POST",
        "/staff/assessment/townships/zhongshui/inspect/", {"round": "q2", "points_art04": "5"}),
    Row((403, 403, 403, 403, 403, 403, 403, 403, 403), "POST",
        "/staff/assessment/townships/zhongshui/adjustments/",
        {"kind": "city_notice", "date": "2026-03-01", "files": FILE}),
    Row((404, 404, 404, 404, 404, 404, 404, 404, 404), "GET",
        "/staff/assessment/evidence/00000000-0000-4000-8000-000000000000/"),
    Row((403, 403, 403, 403, 403, 403, 403, 403, 403), "POST",
        "/staff/assessment/adjustments/1/withdraw/", {"reason": "录入错误"}),
    Row((403, 403, 403, 403, 403, 403, 403, 403, 200), "GET", "/staff/assessment/sheet/"),
    Row((302, 403, 404, 403, 302, 403, 403, 403, 403), "POST", R + "/repeats/{case}/dismiss/"),
    Row((403, 403, 403, 403, 302, 403, 403, 403, 403), "POST", P + "/falsified/",
        {"reason": "县督查组核查属实", "title": "督查报告", "file": FILE}),
    # rewards: supervisors approve, finance pays and keeps the ledger, auditors read it; the
    # administrator sees the rewards (amounts, states), not the ledger nor any payee
    Row((403, 403, 403, 403, 200, 403, 200, 200, 200), "GET", "/staff/rewards/"),
    Row((403, 403, 403, 403, 403, 403, 200, 200, 403), "GET", "/staff/rewards/ledger/"),
    Row((403, 403, 403, 403, 403, 403, 200, 200, 403), "GET", "/staff/rewards/ledger.csv"),
    Row((403, 403, 403, 403, 403, 403, 200, 200, 403), "GET", "/staff/rewards/ledger.xlsx"),
    Row((403, 403, 403, 403, 200, 403, 200, 200, 200), "GET", W + "/"),
    Row((403, 403, 403, 403, 403, 403, 403, 200, 403), "GET", CL + "/payment/"),
    Row((403, 403, 403, 403, 302, 403, 403, 403, 403), "POST", W + "/approve/",
        {"otp_code": "{sup_code}"}),
    Row((403, 403, 403, 403, 302, 403, 403, 403, 403), "POST", W + "/cancel/",
        {"reason": "举报人书面放弃奖励"}),
    Row((403, 403, 403, 403, 403, 403, 403, 302, 403), "POST", CL + "/step-up/",
        {"otp_code": "{fin_code}"}),
    Row((403, 403, 403, 403, 403, 403, 403, 302, 403), "POST", CL + "/pay/",
        {"voucher_number": "{fin_stepped_up}", "paid_on": "2026-03-02"}),
    Row((403, 403, 403, 403, 302, 403, 403, 403, 403), "POST",
        "/staff/rewards/propose/{pen_case}/"),
    Row((302, 403, 404, 403, 302, 403, 403, 403, 403), "POST",
        "/staff/rewards/reports/{report}/marks/",
        {"reporter_is_involved": "on", "note": "举报人系当事人亲属"}),
]
# fmt: on

# Sign-in and sign-out are the only staff URLs outside the matrix (see test_staff_login.py).
AUTH_URLS = {"login", "logout", "otp", "otp_setup"}

CELLS = [
    pytest.param(row, role, row.expected[i], id=f"{row.id} [{role}]")
    for row in MATRIX
    for i, role in enumerate(ROLES)
]


@pytest.fixture
def world(cast, units, township, other_township):
    return World(cast, units, township)


def cast_member(cast, role):
    return cast[CAST_KEY.get(role, role)]


def test_every_staff_url_has_a_row():
    names = {p.name for p in urlpatterns}
    assert {row.name for row in MATRIX} == names - AUTH_URLS
    covered = {
        row.path.rsplit("/transition/", 1)[1].strip("/")
        for row in MATRIX
        if "/transition/" in row.path
    }
    assert set(TRANSITIONS) <= covered
    for row in MATRIX:
        assert len(row.expected) == len(ROLES), row.id


def everything():
    """What a refused request must leave as it was: every row count of the project's apps, the
    state of every case, report and identity request, and the audit log."""
    return {
        "rows": {
            m._meta.label: m.objects.count()
            for m in apps.get_models()
            if m._meta.app_label
            in ("org", "tipline", "casework", "rewards", "assessment", "notifications")
        },
        "rewards": sorted(Reward.objects.values_list("pk", "state", "approved_at", "paid_at")),
        "cases": sorted(
            Case.objects.values_list(
                "pk", "state", "unit_id", "investigator_id", "decision_due", "outcome"
            )
        ),
        "reports": sorted(Report.objects.values_list("pk", "status", "case_id"), key=str),
        "requests": sorted(IdentityRequest.objects.values_list("pk", "status")),
        "audit": AuditEntry.objects.count(),
    }


@pytest.mark.parametrize(("row", "role", "expected"), CELLS)
def test_matrix(login, cast, world, row, role, expected):
    client = login(cast_member(cast, role))
    row.prepare(world)  # the objects the request names exist before the snapshot
    before = everything() if expected >= 400 else None
    response = row.request(client, world)
    assert response.status_code == expected, (
        f"{role} {row.id}: {response.status_code}, expected {expected}"
    )
    if before is not None:
        assert everything() == before, f"{role} {row.id} was refused but changed something"
    if expected == 302:
        location = response["Location"]
        assert not location.startswith(("/staff/login/", "/staff/otp/")), location
        # The action went through: allowed cells are given valid data and a case in the right
        # state, so anything but a success message means a rule turned away someone it should
        # have let in.
        levels = {m.level: str(m) for m in get_messages(response.wsgi_request)}
        assert set(levels) == {message_levels.SUCCESS}, f"{role} {row.id}: {levels}"


@pytest.mark.parametrize("row", MATRIX, ids=[r.id for r in MATRIX])
def test_anonymous_is_sent_to_login(client, world, row):
    response = row.request(client, world)
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/?next=")


@pytest.mark.parametrize("row", MATRIX, ids=[r.id for r in MATRIX])
def test_unverified_is_sent_to_otp(client, cast, world, row):
    client.force_login(cast["clerk"])  # password accepted, no second factor yet
    response = row.request(client, world)
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/otp/?next=")


@pytest.mark.parametrize("row", MATRIX, ids=[r.id for r in MATRIX])
def test_user_without_staff_profile_is_refused(client, world, row):
    user = get_user_model().objects.create_user("nobody", "nobody@example.invalid", "pw-nobody")
    response = row.request(verified_client(client, user), world)
    assert response.status_code == 403


OUTSIDER_CELLS = [
    pytest.param(row, role, row.expected[ROLES.index(role)], id=f"{row.id} [{role}]")
    for row in MATRIX
    if row.has_object
    for role in ("xs_clerk", "xs_investigator")
]


@pytest.mark.parametrize(("row", "role", "expected"), OUTSIDER_CELLS)
def test_outsiders_learn_nothing_about_existence(login, cast, row, role, expected):
    """For a 西山镇 user a 中水镇 object answers exactly like one that does not exist."""
    assert expected in (403, 404)
    client = login(cast_member(cast, role))
    response = row.request(client, MissingWorld())
    assert response.status_code == expected


# Pages that are a form on GET and its submission on POST.
FORM_PAGES = {"staff_tip", "assessment_inspect"}
POST_ONLY = [row for row in MATRIX if row.method == "POST" and row.name not in FORM_PAGES]


@pytest.mark.parametrize("row", POST_ONLY, ids=[r.id for r in POST_ONLY])
def test_actions_refuse_get(login, cast, world, row):
    client = login(cast["supervisor"])
    assert client.get(row.path.format_map(world)).status_code == 405


# --- list pages of an outsider --------------------------------------------------------------


def test_outsider_lists_contain_no_other_township_objects(login, cast, units, world):
    zs_received = world["report"]
    zs_case = services.open_case(world._report().pk, cast["clerk"])
    zs_request = world["id_pending"]

    xs_custodian = make_staff("xs_custodian", roles.CUSTODIAN, units["xs_fp"])
    xs_report = world._report(township_id=units["xs_fp"].township_id)
    xs_accepted = world._report(township_id=units["xs_fp"].township_id)
    xs_case = services.open_case(xs_accepted.pk, cast["other_clerk"])
    xs_request = identity.request_access(
        xs_report, cast["other_investigator"], "需要当面核实举报细节"
    )

    zs_markers = [
        "中水镇",
        "ZHONGSHUI-",
        str(zs_received),
        f"/staff/cases/{zs_case.pk}/",
        f"/staff/identity/{zs_request}/",
    ]
    pages = {
        "other_clerk": [
            "/staff/reports/",
            "/staff/reports/?status=accepted",
            "/staff/cases/?state=all",
            "/staff/cases/files/",
            "/staff/identity/",
            "/staff/",
        ],
        "other_investigator": ["/staff/identity/", "/staff/cases/?state=all"],
    }
    for who, urls in pages.items():
        client = login(cast[who])
        for url in urls:
            html = client.get(url).content.decode()
            for marker in zs_markers:
                assert marker not in html, f"{who} sees {marker!r} on {url}"

    # A 西山镇 custodian decides only 西山镇 requests.
    client = login(xs_custodian)
    html = client.get("/staff/identity/").content.decode()
    assert f"/staff/identity/{xs_request.pk}/decide/" in html
    assert f"/staff/identity/{zs_request}/decide/" not in html
    assert "中水镇" not in html
    assert (
        client.post(f"/staff/identity/{zs_request}/decide/", {"decision": "approve"}).status_code
        == 404
    )
    assert IdentityRequest.objects.get(pk=zs_request).status == IdentityRequest.Status.PENDING

    # Positive controls: the 西山镇 objects are listed for 西山镇, and the county sees both.
    client = login(cast["other_clerk"])
    assert str(xs_report.pk) in client.get("/staff/reports/").content.decode()
    assert xs_case.number in client.get("/staff/cases/?state=all").content.decode()
    assert xs_case.number in client.get("/staff/cases/files/").content.decode()
    client = login(cast["supervisor"])
    for url in ("/staff/cases/?state=all", "/staff/cases/files/"):
        html = client.get(url).content.decode()
        assert zs_case.number in html and xs_case.number in html, url
    html = client.get("/staff/reports/").content.decode()
    assert str(zs_received) in html and str(xs_report.pk) in html
    client = login(cast["custodian"])
    html = client.get("/staff/identity/").content.decode()
    assert f"/staff/identity/{xs_request.pk}/decide/" in html
    assert f"/staff/identity/{zs_request}/decide/" in html


def test_the_snapshot_sees_what_an_allowed_action_changes(cast, world):
    """Positive control for ``everything()``: a refusal that changed something would show."""
    report = world["report"]
    before = everything()
    services.reject_report(report, cast["clerk"], "no_facts", "")
    after = everything()
    assert after != before
    assert after["audit"] == before["audit"] + 1
