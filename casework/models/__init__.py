from .audit import AuditEntry, AuditHead, AuditLogIsAppendOnly
from .case import Case, State
from .documents import CaseDocument, DocumentType
from .identity import IdentityRequest
from .otp import BackupCode, BackupCodeDevice

__all__ = [
    "AuditEntry",
    "AuditHead",
    "AuditLogIsAppendOnly",
    "BackupCode",
    "BackupCodeDevice",
    "Case",
    "CaseDocument",
    "DocumentType",
    "IdentityRequest",
    "State",
]
