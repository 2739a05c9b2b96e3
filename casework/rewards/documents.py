"""The reward's documents in the case file: the approval form (奖励审批表) and the payment
voucher (支付凭证). Neither holds the reporter's identity or the payee's details. Rendering and
writing only: the services decide when, inside their own transaction."""

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from vault import storage

from .. import audit, casefile
from ..audit_catalogue import Action
from ..models import CaseDocument, DocumentType
from .eligibility import explain

# Created by this app's migration; re-created here if a test database was flushed since.
TYPES = {
    "reward_approval": ("奖励审批表", 90, "rewarded"),
    "payment_voucher": ("奖励支付凭证", 95, "rewarded"),
}


def doc_type(code: str) -> DocumentType:
    name, order, when = TYPES[code]
    found, _created = DocumentType.objects.get_or_create(
        code=code,
        defaults={"name": name, "order": order, "required_when": when, "generated": True},
    )
    return found


def _render(template: str, context: dict) -> bytes:
    with translation.override(settings.LANGUAGE_CODE):
        return render_to_string(template, {**context, "now": timezone.now()}).encode()


def approval_form(reward) -> bytes:
    return _render(
        "rewards/approval_form.html",
        {"reward": reward, "case": reward.case, "selection": explain(reward.selection)},
    )


def payment_voucher(reward, payment) -> bytes:
    return _render(
        "rewards/payment_voucher.html",
        {"reward": reward, "case": reward.case, "payment": payment},
    )


def file_generated(case, user, code: str, content: bytes, written: list) -> CaseDocument:
    """Write the encrypted file and its row; the path goes into ``written`` at once, so the
    caller can remove it if its transaction does not commit."""
    kind = doc_type(code)
    doc = CaseDocument(
        case=case,
        doc_type=kind,
        title=str(kind.name),
        mime="text/html",
        extension="html",
        size=len(content),
        uploaded_by=user,
        generated=True,
    )
    written.append(storage.write(doc, content))
    doc.save()
    casefile.refresh_case(case)
    audit.record(user, Action.DOCUMENT_GENERATED, case, document=str(doc.id), type=code)
    return doc
