"""Synthetic data at county and province scale, added to whatever the database holds.

`generate(reports)` builds, for N reports: 0.3·N cases over five years up to now, in
clamp(N / 3,334, 10, 300) townships of ten per county (300 townships in 30 counties at a million),
with their staff and yearly quotas; repeat reports (about four cases in ten are reported again,
up to three more times, within 30 days of the first report) linked to their case; the rest of the
reports rejected, or awaiting triage when received in the last ten days; case documents (about
eight per decided case, an open file now and then missing one); rewards (penalized and
transferred cases: proposed, approved, claimed, paid or lapsed as time allows) with payments;
sealed reporter identities for about a third of the reports (real per-row AES-GCM); a few
identity requests; and the audit entries of every step, continuing the real hash chain.

What is NOT real, to keep a million reports within minutes:
- receipt hashes are unique placeholders of the real shape (64 hex digits, SHA-256 of the report
  id), not Argon2id of a receipt (15 ms each): no receipt finds a generated report;
- case documents are rows without files, their wrapped keys random bytes of the right length:
  downloading one, or verify_vault, fails on them by design;
- filing a generated document leaves no audit entry (≈3.1 entries per report instead of 5.5,
  nearer the issue's reference data set);
- no reporter messages, notifications, attachments or reward claims are generated.

Rows go in with PostgreSQL COPY (executemany on SQLite) in one transaction for the whole load,
which holds the audit head locked while it extends the chain (ops/loadgen/sink.py); a large load
sets the tables' secondary indexes and foreign keys aside and rebuilds them at the end
(ops/loadgen/bulkload.py).
"""

import hashlib
import random
from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from casework import casefile
from casework.assessment import versions
from casework.models import AuditEntry, Case, CaseDocument, IdentityRequest
from casework.rewards.models import Reward, RewardPayment
from tipline.models import Category, Channel, RejectionReason, Report, ReporterIdentity
from vault.keyring import get_keyring

from . import org, people
from .chain import Chain
from .lifecycle import (
    CASE_FIELDS,
    DOC_FIELDS,
    PAYMENT_FIELDS,
    REPORT,
    REWARD_FIELDS,
    CaseMaker,
    due,
    local,
)  # fmt: skip
from .sink import open_sink, reserve_ids

CASES_PER_REPORT = 0.3
REPEATS = (0, 0, 0, 0, 0, 0, 1, 1, 2, 3)  # extra reports per case, drawn uniformly
IDENTIFIED = 0.35  # share of reports that give the reporter's identity
PENDING_DAYS = 10  # reports younger than this still await triage when not accepted
YEARS = 5
CHUNK = 4000  # cases per transaction
REPORT_FIELDS = ["id", "receipt_hash", "channel", "channel_reference", "category", "township",
                 "description", "occurred_on", "subject_name", "subject_address", "subject_phone",
                 "subject_phone_index", "status", "received_at", "acceptance_due", "case",
                 "accepted_at", "rejection_reason", "triaged_by", "triaged_at"]  # fmt: skip
REQUEST_FIELDS = ["report", "township", "requested_by", "reason", "status", "requested_at",
                  "decided_by", "decided_at", "decision_note", "expires_at"]  # fmt: skip
CATEGORIES = [Category.SEX_DETERMINATION] * 5 + [Category.SEX_SELECTIVE_ABORTION] * 2 + [
    Category.ABORTION_DRUG_SALE, Category.ILLEGAL_PRACTICE, Category.OTHER]  # fmt: skip
CHANNELS = [Channel.WEB] * 12 + [Channel.API] + [Channel.PHONE] * 4 + [
    Channel.MAILBOX, Channel.MAILBOX, Channel.LETTER, Channel.WALK_IN]  # fmt: skip
STAFF_CHANNELS = {Channel.PHONE, Channel.MAILBOX, Channel.LETTER, Channel.WALK_IN}


def volumes(reports: int) -> dict:
    return {
        "reports": reports,
        "cases": max(1, round(reports * CASES_PER_REPORT)),
        "townships": min(300, max(10, round(reports / 3334))),
    }


class Generator:
    def __init__(self, reports: int, seed: int, log):
        self.rng = random.Random(seed)  # noqa: S311 — reproducible synthetic data, not secrets
        self.now = timezone.now()
        self.start = self.now - timedelta(days=365 * YEARS)
        self.ring = get_keyring()
        self.log = log
        self.v = volumes(reports)
        rng = self.rng
        self.repeats = [rng.choice(REPEATS) for _ in range(self.v["cases"])]
        while self.v["cases"] + sum(self.repeats) > reports:  # tiny N: fewer repeats
            self.repeats[self.repeats.index(max(self.repeats))] -= 1
        self.unlinked = reports - self.v["cases"] - sum(self.repeats)
        years = sorted({self.start.year + i for i in range(YEARS + 1)})
        per_year = self.v["cases"] / self.v["townships"] / YEARS
        self.areas = org.build(self.v["townships"], years, per_year, rng)
        # Ids from their own stream, seeded by the batch too: the same seed run again on the same
        # database (a new batch prefix) must not repeat them.
        self.ids = random.Random(f"{seed}:{self.areas[0].code}")  # noqa: S311
        self.weights = [rng.lognormvariate(0, 0.5) for _ in self.areas]
        self.subjects = {a.township_id: [] for a in self.areas}
        self.reporters = [people.reporter(rng) for _ in range(max(20, reports // 5))]
        # Everything read or reserved through Django's connection happens here, before the sink's
        # transaction locks the tables the loaded ones refer to (dropping a foreign key locks
        # the referenced table too). A reward id per case is an upper bound: unused ids are gaps.
        self.next_case = reserve_ids(Case, self.v["cases"])
        self.next_reward = reserve_ids(Reward, self.v["cases"])
        self.doc_types = CaseMaker.document_types()

    def when(self, fraction: float):
        return self.start + (self.now - self.start) * fraction

    def subject(self, area):
        pool = self.subjects[area.township_id]
        if len(pool) < 8 or self.rng.random() < 0.35:
            pool.append(people.subject(self.rng))
            return pool[-1]
        return self.rng.choice(pool)

    def run(self, sink) -> None:
        """Jurisdiction and staff are made (and committed) in __init__, before the sink's
        transaction may lock the tables they are referenced from."""
        rng, self.sink, self.chain = self.rng, sink, Chain(sink)
        self.maker = CaseMaker(rng, self.now, self.ring, self.chain, self.doc_types)
        self.maker.ids = self.ids
        n_cases = self.v["cases"]
        case_at = sorted(rng.random() for _ in range(n_cases))
        loose_at = sorted(rng.random() for _ in range(self.unlinked))
        loose = 0
        for begin in range(0, n_cases, CHUNK):
            end = min(begin + CHUNK, n_cases)
            upto = case_at[end] if end < n_cases else 1.0
            upto_loose = loose
            while upto_loose < len(loose_at) and loose_at[upto_loose] < upto:
                upto_loose += 1
            self.chunk(case_at[begin:end], self.repeats[begin:end], loose_at[loose:upto_loose])
            loose = upto_loose
            self.log(f"  {end:,} of {n_cases:,} cases")

    def chunk(self, case_at, repeats, loose_at):
        rng, now, sink, chain, m = self.rng, self.now, self.sink, self.chain, self.maker
        ids = self.ids
        m.cases, m.docs, m.rewards = [], [], []
        reports, identities, requests = [], [], []
        first_case, self.next_case = self.next_case, self.next_case + len(case_at)
        for i, (fraction, extra) in enumerate(zip(case_at, repeats, strict=True)):
            area = rng.choices(self.areas, self.weights)[0]
            name, address, phone, phone_index = self.subject(area)
            category = rng.choice(CATEGORIES)
            text = people.description(rng, name, address)
            received = min(self.when(fraction), now - timedelta(hours=1))
            first_id = people.new_id(ids)
            case = m.make(first_case + i, area, (first_id, received), category, text[:200],
                          rng.random() < 0.1)  # fmt: skip
            status = "closed" if case["archived_at"] else "accepted"
            subject = (name, address, phone, phone_index)
            reports.append(self.report(first_id, area, category, text, subject, received, status,
                                       first_case + i, case["accepted_at"]))  # fmt: skip
            for _ in range(extra):
                again = min(received + timedelta(days=rng.uniform(0.5, 30)), now)
                linked = again + timedelta(hours=rng.uniform(2, 72))
                rid = people.new_id(ids)
                if linked > now:
                    reports.append(self.report(rid, area, category, text, subject, again,
                                               "received"))  # fmt: skip
                elif case["archived_at"] and linked >= case["archived_at"]:
                    reports.append(self.rejected(rid, area, category, text, subject, again,
                                                 RejectionReason.ALREADY_HANDLED))  # fmt: skip
                else:
                    reports.append(self.report(rid, area, category, text, subject, again, status,
                                               first_case + i, linked))  # fmt: skip
                    chain.add(linked, area.staff["clerk"], "report.linked", REPORT, rid,
                              case=m.cases[-1][1])  # fmt: skip
        for fraction in loose_at:
            area = rng.choices(self.areas, self.weights)[0]
            subject = self.subject(area)
            category = rng.choice(CATEGORIES)
            text = people.description(rng, subject[0], subject[1])
            received = self.when(fraction)
            if received > now - timedelta(days=PENDING_DAYS):
                reports.append(self.report(people.new_id(ids), area, category, text, subject,
                                           received, "received"))  # fmt: skip
            else:
                reason = rng.choice(RejectionReason.values)
                reports.append(self.rejected(people.new_id(ids), area, category, text, subject,
                                             received, reason))  # fmt: skip
        staff = {a.township_id: a.staff for a in self.areas}
        for row in reports:
            if rng.random() < IDENTIFIED:
                identities.append(people.sealed_identity(
                    self.ring, people.new_id(ids), row[0], rng.choice(self.reporters),
                    rng.random() < 0.3))  # fmt: skip
                if row[15] and rng.random() < 0.01:
                    requests.append(self.request(row, staff[row[5]]))
        first_reward, self.next_reward = self.next_reward, self.next_reward + len(m.rewards)
        rewards, payments = m.reward_rows(first_reward)
        sink.write(Case, CASE_FIELDS, m.cases)
        sink.write(Report, REPORT_FIELDS, reports)
        sink.write(ReporterIdentity, people.IDENTITY_FIELDS, identities)
        sink.write(CaseDocument, DOC_FIELDS, m.docs)
        sink.write(Reward, REWARD_FIELDS, rewards)
        sink.write(RewardPayment, PAYMENT_FIELDS, payments)
        sink.write(IdentityRequest, REQUEST_FIELDS, requests)
        chain.flush()

    def report(self, rid, area, category, text, subject, received, status, case=None, at=None):
        rng = self.rng
        channel = rng.choice(CHANNELS)
        occurred = (
            local(received) - timedelta(days=rng.randrange(30)) if rng.random() < 0.6 else None
        )
        return (
            rid, hashlib.sha256(rid.encode()).hexdigest(), channel,
            f"登记{rng.randrange(1, 9999):04d}" if channel in STAFF_CHANNELS else "", category,
            area.township_id, text, occurred, *subject, status, received,
            due("acceptance", local(received)), case, at, "",
            area.staff["clerk"] if at else None, at,
        )  # fmt: skip

    def rejected(self, rid, area, category, text, subject, received, reason):
        at = min(received + timedelta(days=self.rng.uniform(0.2, 7)), self.now)
        row = list(self.report(rid, area, category, text, subject, received, "rejected"))
        row[17], row[18], row[19] = reason, area.staff["clerk"], at
        self.maker.chain.add(at, area.staff["clerk"], "report.rejected", REPORT, rid,
                             reason=reason)  # fmt: skip
        return tuple(row)

    def request(self, report_row, staff):
        rng = self.rng
        asked = min(report_row[16] + timedelta(days=rng.uniform(1, 40)), self.now)
        decided = asked + timedelta(days=rng.uniform(0.1, 3))
        if decided > self.now:
            return (report_row[0], report_row[5], staff["investigator"], "核实举报人身份以便询问",
                    "pending", asked, None, None, "", None)  # fmt: skip
        status = rng.choice(("approved", "approved", "refused"))
        return (report_row[0], report_row[5], staff["investigator"], "核实举报人身份以便询问",
                status, asked,
                staff["custodian"], decided, "同意" if status == "approved" else "理由不足",
                decided + timedelta(days=7) if status == "approved" else None)  # fmt: skip


def finish() -> None:
    """The last step of every generation, after all rows are in. Stored summaries that other
    code keeps current as cases change (denormalised counts, materialised views) are refreshed
    here, once, over the whole database; then the planner's statistics are brought up to date."""
    # The file-scores page sorts by each case's stored missing-document count, which the
    # services keep current; rows written by COPY bypass them.
    casefile.refresh_all()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            if not connection.in_atomic_block:
                # refresh_all rewrote every case row (half the table is dead rows) and no page
                # of a table filled by COPY is marked all-visible yet. Autovacuum would vacuum
                # them within minutes (after an UPDATE, and after inserts since PostgreSQL 13);
                # a server running without it (the bench's) would otherwise measure every
                # index-only scan (the staff home's counts, the lists' counts) as a heap read
                # per row. VACUUM cannot run in a transaction (tests call this inside one: they
                # only analyse).
                tables = ", ".join(model._meta.db_table for model in LOADED)
                cursor.execute(f"VACUUM (ANALYZE) {tables}")
            cursor.execute("ANALYZE")


LOADED = [Case, Report, ReporterIdentity, CaseDocument, Reward, RewardPayment, IdentityRequest,
          AuditEntry]  # fmt: skip


def generate(reports: int, *, seed: int = 12, log=print) -> dict:
    """Add `reports` reports and everything that goes with them; return rows written per model."""
    if settings.DEBUG:
        connection.force_debug_cursor = False  # do not keep every COPY in connection.queries
    generator = Generator(reports, seed, log)
    with open_sink(reports, [m._meta.db_table for m in LOADED], log) as sink:
        generator.run(sink)
    finish()
    # COPY and bulk_create send no signals: every county's cached assessment is dropped.
    versions.touch_all()
    return sink.written
