"""Per-operation costs beside a baseline in the same run (folded in from the former
bench_intake.py and bench_audit.py): a receipt look-up (Argon2id of the receipt, then an indexed
look-up) against the indexed look-up alone, and a chained audit append (head row locked, SHA-256
over the previous hash) against a plain insert of the same row. Both leave the database as they
found it: the appends run in a transaction that is rolled back."""

import statistics

from django.db import transaction

from casework import audit
from casework.models import AuditEntry
from org.models import Township
from tipline import receipts, services
from tipline.models import Report

from .stats import result, timed

DATA = {"transition": "start_investigation", "source": "accepted", "target": "investigating"}


class Rollback(Exception):
    pass


def receipt_lookup(scale, runs):
    township = Township.objects.get(code="zhongshui")
    data = services.ReportInput(category="sex_determination", township_id=township.pk,
                                description="某诊所用B超鉴定胎儿性别，晚上营业。")  # fmt: skip
    found = [services.create_report(data)[1] for _ in range(3)]  # real receipts, real hashes
    hashes = [receipts.receipt_hash(r) for r in found]
    base = timed(lambda i: Report.objects.filter(receipt_hash=hashes[i % 3]).first(), runs)
    full = timed(lambda i: services.find_by_receipt(found[i % 3]), runs)
    baseline = ("indexed look-up by stored hash", statistics.median(base))
    return result("receipt look-up (Argon2id + indexed)", scale, full, "ms",
                  "none (the hash's cost is deliberate)", None, baseline)  # fmt: skip


def audit_append(scale, runs):
    def plain(i):
        with transaction.atomic():
            AuditEntry.objects.create(action="bench.baseline", object_type="casework.case",
                                      object_id=str(i), data=DATA, prev_hash="0" * 64,
                                      hash=f"bench{i:059d}")  # fmt: skip

    def chained(i):
        audit.record(None, "case.transition", object_type="casework.case", object_id=str(i),
                     **DATA)  # fmt: skip

    try:
        with transaction.atomic():  # neither the plain rows nor the appends stay
            base = timed(plain, runs)
            full = timed(chained, runs)
            raise Rollback
    except Rollback:
        pass
    baseline = ("plain insert of the same row", statistics.median(base))
    return result("audit append (chained)", scale, full, "ms", "none (reported)", None,
                  baseline)  # fmt: skip
