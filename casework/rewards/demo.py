"""Demo rewards in every state, made through the same services as real work (so the audit chain
is real). Not for production data: the step-up a person would give by re-entering an
authenticator code is recorded directly, since demo users enrol their authenticator only at
their first sign-in."""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from org.models import Unit
from tipline import services as intake
from tipline.models import Category

from .. import services as casework
from ..demo_cases import file_documents
from . import claims, services
from .models import Reward, StepUp


def _users():
    names = ("clerk", "investigator", "supervisor", "finance")
    found = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    return [found[n] for n in names]


def _leader():
    """分管领导: approves the rewards the supervisor proposed by taking 查处 (four eyes)."""
    return get_user_model().objects.get(username="leader")


def _granted(user, reward):
    StepUp.objects.create(user=user, reward=reward)  # stands for a re-entered code (demo only)
    return reward


def approve(reward):
    leader = _leader()
    return services.approve(_granted(leader, reward).pk, leader)


def pay_out(case, receipt):
    """Approve the case's reward, claim it by bank transfer with the receipt, pay it (奖励)."""
    *_, finance = _users()
    reward = approve(Reward.objects.get(case=case))
    services.claim(
        reward.pk,
        receipt,
        method="bank",
        payee_name="王某某",
        bank_name="中国农业银行中水支行",
        account_number="6228 4804 0256 4890 018",
    )
    return services.pay(
        _granted(finance, reward).pk,
        finance,
        voucher_number=f"JL-{timezone.localdate():%Y}-{reward.pk:03d}",
        paid_on=timezone.localdate(),
    )


def demo_rewards(township, write) -> None:
    """Rewards proposed, approved (one to claim), claimed by bank and in person (both awaiting
    payment), cancelled and lapsed; paid ones come with the demo cases at 奖励 and 结案归档."""
    clerk, investigator, supervisor, _finance = _users()
    unit = Unit.objects.get(township=township, kind=Unit.Kind.FAMILY_PLANNING)

    def penalized(text):
        report, receipt = intake.create_report(
            intake.ReportInput(
                category=Category.SEX_DETERMINATION,
                township_id=township.id,
                description=text,
                subject_name="某诊所",
            )
        )
        case = casework.open_case(report.pk, clerk)
        casework.assign(case.pk, supervisor, unit_id=unit.pk, investigator=investigator)
        casework.start_investigation(case.pk, investigator)
        file_documents(case, investigator, "registration_form", "penalty_decision")
        casework.penalize(case.pk, supervisor, "罚款两万元。")  # proposes the reward
        return Reward.objects.get(case=case), receipt

    # Lapsed first: the job lapses every approved reward past its deadline.
    reward, _r = penalized("镇西某诊所为孕妇做B超鉴定性别（奖励逾期未领）。")
    reward = approve(reward)
    services.lapse_overdue(today=reward.claim_due + timedelta(days=1))

    reward, _r = penalized("村民反映有人上门鉴定胎儿性别（举报经查系虚假）。")
    services.mark_report(reward.report_id, clerk, falsified=True, note="经复核系虚假举报")
    services.cancel(reward.pk, supervisor, "经复核，该举报系虚假举报，撤销奖励。")

    reward, to_claim = penalized("集市旁诊所夜间鉴定胎儿性别（奖励待申领）。")
    approve(reward)

    reward, receipt = penalized("某卫生室医生私下鉴定性别（已申领：银行转账）。")
    approve(reward)
    services.claim(
        reward.pk,
        receipt,
        method="bank",
        payee_name="李某某",
        bank_name="中国邮政储蓄银行中水支行",
        account_number="6210 9853 1000 0000 0007",
        confirm_check_digit=True,
    )

    reward, receipt = penalized("流动人员携便携B超上门鉴定（已申领：当面领取）。")
    approve(reward)
    code = services.claim(reward.pk, receipt, method="in_person").claim_code

    write(f"Demo receipt with a reward to claim on /receipt/: {to_claim}")
    write(f"Demo claim code for the in-person reward awaiting payment: {claims.grouped_code(code)}")
