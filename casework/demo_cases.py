"""Demo cases in every state, made through the same services as real work (so the audit chain
is real), including incomplete files and overdue deadlines."""

import io
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone
from pypdf import PdfWriter

from org.models import Unit
from tipline import services as intake
from tipline.attachments import sanitize
from tipline.models import Category

from . import services
from .models import Case, DocumentType


def _pdf():
    buf = io.BytesIO()
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.write(buf)
    return sanitize(buf.getvalue(), max_bytes=1_000_000)


def file_documents(case, user, *codes):
    """File a blank PDF (or the generated form) under each document type code."""
    for code in codes:
        doc_type = DocumentType.objects.get(code=code)
        if doc_type.generated:
            services.generate_registration_form(case.pk, user)
        else:
            services.add_document(case.pk, user, doc_type, _pdf(), title=str(doc_type.name))


BASE_DOCS = (
    "registration_form",
    "acceptance_approval",
    "interview_record",
    "inspection_record",
    "evidence",
)


def demo_cases(township, *, pay_out) -> list[str]:
    """``pay_out(case, receipt)`` takes a penalized case's reward through to payment (the
    rewards app's demo does; the case core knows nothing of money)."""
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in=["clerk", "investigator", "supervisor"]
        )
    }
    clerk, investigator, supervisor = users["clerk"], users["investigator"], users["supervisor"]
    unit = Unit.objects.get(township=township, kind=Unit.Kind.FAMILY_PLANNING)
    receipts = []

    def new_case(
        text,
        *,
        category=Category.SEX_DETERMINATION,
        subject="某诊所",
        days_ago=0,
        birth_permit=False,
    ):
        report, receipt = intake.create_report(
            intake.ReportInput(
                category=category,
                township_id=township.id,
                description=text,
                subject_name=subject,
                subject_address=f"{township.name}建设路",
            ),
            received_at=timezone.now() - timedelta(days=days_ago),
        )
        receipts.append(receipt)
        return services.open_case(report.pk, clerk, involves_birth_permit=birth_permit)

    def investigate(case):
        services.assign(case.pk, supervisor, unit_id=unit.pk, investigator=investigator)
        return services.start_investigation(case.pk, investigator)

    new_case("个体诊所夜间为孕妇做B超鉴定胎儿性别。")  # 受理, nothing filed yet
    case = investigate(new_case("有人在村卫生室旁出租屋内做性别鉴定。"))
    file_documents(case, investigator, "registration_form", "interview_record")  # 调查, incomplete

    case = investigate(
        new_case(
            "私人诊所为怀孕五个月妇女引产，疑为选择性别。",
            category=Category.SEX_SELECTIVE_ABORTION,
            subject="某私人诊所",
            birth_permit=True,
        )
    )
    file_documents(case, investigator, *BASE_DOCS, "penalty_decision")
    services.penalize(case.pk, supervisor, "没收违法所得，罚款三万元。")  # 查处, file incomplete

    case = investigate(
        new_case(
            "某药店无处方销售米非司酮。",
            category=Category.ABORTION_DRUG_SALE,
            subject="某药店",
        )
    )
    file_documents(case, investigator, *BASE_DOCS, "penalty_decision", "service_receipt")
    services.penalize(case.pk, supervisor, "罚款两万元，吊销执业许可。")
    pay_out(case, receipts[-1])  # 奖励: approved, claimed and paid (casework/rewards)

    case = investigate(new_case("流动B超车在集市鉴定胎儿性别。"))
    file_documents(
        case, investigator, *BASE_DOCS, "penalty_decision", "service_receipt", "closing_report"
    )
    services.penalize(case.pk, supervisor, "罚款五万元。")
    pay_out(case, receipts[-1])
    services.give_feedback(case.pk, supervisor, "您举报的案件已查处，请凭回执申领奖励。")
    services.archive(case.pk, supervisor)  # 结案归档

    case = investigate(new_case("据称某人介绍孕妇外出鉴定性别。"))
    services.find_unfounded(case.pk, supervisor, "经走访核查，未发现违法事实。")  # 查无实据

    case = investigate(
        new_case(
            "团伙组织孕妇鉴定胎儿性别并引产女胎，涉嫌犯罪。",
            category=Category.SEX_SELECTIVE_ABORTION,
            subject="某团伙",
        )
    )
    services.transfer(case.pk, supervisor, "县公安局刑侦大队", timezone.localdate())  # 移送

    # An old case, past its 90-day decision deadline: age it (demo data only).
    case = investigate(
        new_case(
            "半年前举报：无证人员开设非法B超点。",
            category=Category.ILLEGAL_PRACTICE,
            subject="无证B超点",
            days_ago=120,
        )
    )
    accepted = timezone.now() - timedelta(days=110)
    Case.objects.filter(pk=case.pk).update(
        accepted_at=accepted,
        decision_due=(accepted + timedelta(days=90)).date(),
        next_due=(accepted + timedelta(days=90)).date(),
    )
    # And a report nobody has decided on, past its acceptance deadline.
    _r, receipt = intake.create_report(
        intake.ReportInput(
            category=Category.ILLEGAL_PRACTICE,
            township_id=township.id,
            description="无证人员在家中开展B超检查。",
        ),
        received_at=timezone.now() - timedelta(days=20),
    )
    receipts.append(receipt)
    return receipts
