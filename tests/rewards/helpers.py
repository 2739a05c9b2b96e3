"""Helpers for reward tests (and casework tests that need a paid reward), made through the
services the app uses."""

import io
import time

from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from casework import services
from casework.models import DocumentType
from casework.rewards import services as rewards
from casework.rewards import stepup
from casework.rewards.models import Reward
from tipline import services as intake
from tipline.attachments import sanitize
from tipline.models import Category

from ..casework.conftest import RECEIPTS

NAME = "李举报"
PHONE = "13912345678"


def filed(township, **extra):
    """A report through the intake service: (report, receipt)."""
    data = {
        "category": Category.SEX_DETERMINATION,
        "township_id": township.id,
        "description": "某诊所鉴定胎儿性别，收费八百元",
    }
    data.update(extra)
    report, receipt = intake.create_report(intake.ReportInput(**data))
    RECEIPTS[report.pk] = receipt
    return report, receipt


def device_for(user) -> TOTPDevice:
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def code_for(device, at: float | None = None) -> str:
    device = TOTPDevice.objects.get(pk=device.pk)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else time.time()  # what django-otp verifies against
    return f"{totp.token():0{device.digits}d}"


def fresh_code(user) -> str:
    """A current code the device will accept (tests that do not test reuse reset last_t)."""
    device = device_for(user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    return code_for(device)


def step_up(user, reward):
    return stepup.verify(user, reward.pk if hasattr(reward, "pk") else reward, fresh_code(user))


def png_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "white").save(buf, "PNG")
    return buf.getvalue()


def file_doc(case_obj, user, code):
    clean = sanitize(png_bytes(), max_bytes=1024 * 1024)
    services.add_document(case_obj.pk, user, DocumentType.objects.get(code=code), clean)


def investigate(report, cast, units):
    c = services.open_case(report.pk, cast["clerk"])
    services.assign(
        c.pk, cast["supervisor"], unit_id=units["zs_fp"].pk, investigator=cast["investigator"]
    )
    return services.start_investigation(c.pk, cast["investigator"])


def penalize(case_obj, cast):
    file_doc(case_obj, cast["investigator"], "penalty_decision")
    return services.penalize(case_obj.pk, cast["supervisor"], "罚款三万元")


def reward_of(case_obj) -> Reward:
    return Reward.objects.get(case_id=case_obj.pk)


def approve(reward, user):
    step_up(user, reward)
    return rewards.approve(reward.pk, user)


def pay(reward, user, **kwargs):
    step_up(user, reward)
    kwargs.setdefault("voucher_number", "PZ-2026-001")
    kwargs.setdefault("paid_on", timezone.localdate())
    return rewards.pay(reward.pk, user, **kwargs)


BANK = {"method": "bank", "payee_name": NAME, "bank_name": "农业银行中水支行"}
ACCOUNT = "6228480402564890018"  # 19 digits, valid Luhn check digit


def pay_out(case_obj, cast, *, method="bank"):
    """Take a case at 查处 or 移送 through approval, claim and payment to 奖励."""
    reward = reward_of(case_obj)
    if reward.state == "proposed":
        approve(reward, cast["leader"])
    receipt = RECEIPTS[reward.report_id]
    if method == "bank":
        rewards.claim(
            reward.pk,
            receipt,
            method="bank",
            payee_name="任意名",
            bank_name="某银行",
            account_number="6228480402564890018",
        )
        return pay(reward, cast["finance"])
    code = rewards.claim(reward.pk, receipt, method="in_person").claim_code
    return pay(reward, cast["finance"], claim_code=code)


def waive(case_obj, cast, reason="举报人书面放弃奖励"):
    """Settle a case's pending reward by cancelling it (a case cannot be archived before)."""
    return rewards.cancel(reward_of(case_obj).pk, cast["supervisor"], reason)


def make_xs_supervisor(units):
    from org import roles

    from ..casework.conftest import make_staff

    return make_staff("xs_supervisor", roles.SUPERVISOR, units["xs_fp"])
