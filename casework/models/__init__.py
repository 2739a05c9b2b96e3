from .audit import AuditEntry, AuditHead, AuditLogIsAppendOnly
from .case import Case, State
from .documents import CaseDocument, DocumentType
from .identity import IdentityRequest
from .org import County, StaffProfile, Township, Unit
from .otp import BackupCode, BackupCodeDevice

__all__ = [
    "AuditEntry",
    "AuditHead",
    "AuditLogIsAppendOnly",
    "BackupCode",
    "BackupCodeDevice",
    "Case",
    "CaseDocument",
    "County",
    "DocumentType",
    "IdentityRequest",
    "StaffProfile",
    "State",
    "Township",
    "Unit",
]
