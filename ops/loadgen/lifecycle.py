"""One case from its first report to its archive, as the services would have left it.

States agree with timestamps (a case is decided only after its decision step, rewarded only once
its reward is paid, archived only with a complete file, no pending reward and the reporters
told); deadlines come from the real rules (org.deadlines), cached per date; nothing happens after
`now`. Every step leaves the audit entry its service writes, except filing a document: generated
documents are rows without files and without audit entries, which keeps the chain near the
proportions of the issue's reference data set (≈3 entries per report rather than 5.5; filing
entries alone were 2.4 per report).
"""

import functools
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.conf import settings

from casework.models import Case, DocumentType
from casework.rewards.models import Reward
from casework.states import State
from casework.steps import closing_deadlines
from org import deadlines
from tipline.models import Report

from . import people

TZ = ZoneInfo(settings.TIME_ZONE)
AMOUNT = Decimal("3000.00")
CASE = Case._meta.label_lower
REPORT = Report._meta.label_lower
REWARD = Reward._meta.label_lower
SKIP_TYPES = {"falsification_finding"}  # filed only with a falsification finding
CASE_FIELDS = ["id", "number", "township", "category", "title", "state", "unit", "investigator",
               "involves_birth_permit", "opened_by", "accepted_at", "decision_due", "closed_at",
               "penalized_at", "rewarded_at", "feedback_due", "feedback_given_at", "archive_due",
               "archived_at", "outcome", "approved_by", "transfer_unit", "transferred_on",
               "next_due"]  # fmt: skip
DOC_FIELDS = ["id", "kek_version", "wrapped_key", "case", "doc_type", "title", "mime", "extension",
              "size", "generated", "uploaded_by", "uploaded_at"]  # fmt: skip
REWARD_FIELDS = ["id", "case", "report", "township", "state", "category", "outcome", "amount",
                 "claim_window_days", "selection", "proposed_at", "proposed_by", "approved_at",
                 "approved_by", "claim_due", "claimed_at", "paid_at", "lapsed_at"]  # fmt: skip
PAYMENT_FIELDS = ["reward", "amount", "method", "voucher_number", "paid_on", "paid_by",
                  "recorded_at"]  # fmt: skip


@functools.cache
def due(rule: str, day):
    return deadlines.due(rule, day)


@functools.cache
def working_days_after(day, n: int):
    return deadlines.add_working_days(day, n)


@functools.cache
def _closing(day):
    return closing_deadlines(day)


def local(dt):
    return dt.astimezone(TZ).date()  # timezone.localdate, without its per-call look-ups


def step(chain, at, actor, case_id, name, source, target, **extra):
    chain.add(at, actor, "case.transition", CASE, case_id, transition=name, source=source,
              target=target, **extra)  # fmt: skip


def plan(rng, now, accepted):
    """When the case was decided and how, or None while it is still open."""
    decided = accepted + timedelta(days=rng.uniform(20, 85))
    if decided > now:
        return None, None
    roll = rng.random()
    return decided, (State.PENALIZED if roll < 0.35 else State.TRANSFERRED if roll < 0.45
                     else State.UNFOUNDED)  # fmt: skip


class CaseMaker:
    def __init__(self, rng, now, ring, chain, doc_types):
        self.rng, self.now, self.ring, self.chain = rng, now, ring, chain
        self.doc_types = doc_types
        self.ids = rng  # the generator gives its id stream
        self.numbers: dict[tuple[str, int], int] = {}
        self.cases, self.docs, self.rewards, self.payments = [], [], [], []

    @staticmethod
    def document_types():
        return [t for t in DocumentType.objects.all() if t.code not in SKIP_TYPES]

    def number(self, area, when) -> str:
        year = local(when).year
        seq = self.numbers.get((area.code, year), 0) + 1
        self.numbers[area.code, year] = seq
        return f"{area.code.upper()}-{year}-{seq:04d}"

    def make(self, case_id, area, first, category, title, birth_permit) -> dict:
        """Rows of one case; `first` is its first report (id, received_at). Returns what its
        reports need: state, accepted_at, archived_at."""
        rng, now, chain, staff = self.rng, self.now, self.chain, area.staff
        clerk, inv, sup = staff["clerk"], staff["investigator"], staff["supervisor"]
        accepted = min(first[1] + timedelta(hours=rng.uniform(2, 72)), now)
        c = SimpleNamespace(
            id=case_id, state=State.ACCEPTED, unit=None, investigator=None, closed_at=None,
            penalized_at=None, rewarded_at=None, feedback_due=None, feedback_given_at=None,
            archive_due=None, archived_at=None, outcome="", approved_by=None, transfer_unit="",
            transferred_on=None, category=category, involves_birth_permit=birth_permit,
        )  # fmt: skip
        chain.add(accepted, clerk, "case.opened", CASE, case_id, report=str(first[0]),
                  number=(number := self.number(area, accepted)))  # fmt: skip
        started = accepted + timedelta(days=rng.uniform(0.5, 3))
        if started <= now:
            c.unit, c.investigator, c.state = area.unit_id, inv, State.INVESTIGATING
            chain.add(started - timedelta(hours=2), sup, "case.assigned", CASE, case_id,
                      unit=area.unit_id, investigator=inv,
                      previous={"unit": None, "investigator": None})  # fmt: skip
            step(chain, started, inv, case_id, "start_investigation", "accepted", "investigating")
        decided, outcome = plan(rng, now, accepted)
        reward = None
        if decided:
            c.closed_at, c.state = decided, outcome
            c.feedback_due, c.archive_due = _closing(local(decided))
            extra = {}
            if outcome == State.PENALIZED:
                c.penalized_at, c.approved_by, c.outcome = decided, sup, "罚款并没收B超设备"
                name = "penalize"
            elif outcome == State.TRANSFERRED:
                c.transfer_unit, c.transferred_on, name = "县公安局", local(decided), "transfer"
                extra = {"receiving_unit": c.transfer_unit,
                         "transferred_on": c.transferred_on.isoformat()}  # fmt: skip
            else:
                c.outcome, name = "现场未发现违法行为", "find_unfounded"
            step(chain, decided, sup, case_id, name, "investigating", outcome, **extra)
            if outcome != State.UNFOUNDED:
                reward = self._reward(c, area, first, decided)
            told = decided + timedelta(days=rng.uniform(2, 18))
            if told <= now:
                c.feedback_given_at = told
                chain.add(told, inv, "case.feedback", CASE, case_id)
            settled = reward is None or reward["state"] in ("paid", "lapsed")
            if settled and c.feedback_given_at and rng.random() < 0.92:
                ready = max(told, (reward or {}).get("paid_at") or told,
                            (reward or {}).get("lapsed_at") or told)  # fmt: skip
                archived = ready + timedelta(days=rng.uniform(1, 10))
                if archived <= now:
                    c.archived_at = archived
        self._documents(c, area, accepted, started, decided, c.archived_at is not None)
        if c.archived_at:
            step(chain, c.archived_at, sup, case_id, "archive", c.state, "archived")
            c.state = State.ARCHIVED
        if c.state in (State.ACCEPTED, State.INVESTIGATING):
            next_due = due("decision", local(accepted))
        else:
            pairs = ((c.feedback_due, c.feedback_given_at), (c.archive_due, c.archived_at))
            open_dates = [d for d, done in pairs if d and not done]
            next_due = min(open_dates) if open_dates else None
        self.cases.append((
            case_id, number, area.township_id, category, title, c.state, c.unit, c.investigator,
            birth_permit, clerk, accepted, due("decision", local(accepted)), c.closed_at,
            c.penalized_at, c.rewarded_at, c.feedback_due, c.feedback_given_at, c.archive_due,
            c.archived_at, c.outcome, c.approved_by, c.transfer_unit, c.transferred_on, next_due,
        ))  # fmt: skip
        return {"state": c.state, "accepted_at": accepted, "archived_at": c.archived_at}

    def _reward(self, c, area, first, decided) -> dict:
        """The reward of a penalized or transferred case, as far as `now` allows; pays the 奖励
        step (the case moves to rewarded) when it is paid."""
        rng, now, staff = self.rng, self.now, area.staff
        r = {"case": c.id, "report": first[0], "township": area.township_id, "state": "proposed",
             "category": c.category, "outcome": c.state, "proposed_at": decided,
             "approved_at": None, "approved_by": None, "claim_due": None, "claimed_at": None,
             "paid_at": None, "lapsed_at": None, "staff": staff}  # fmt: skip
        approved = decided + timedelta(days=rng.uniform(1, 5))
        if approved <= now:
            r.update(state="approved", approved_at=approved, approved_by=staff["leader"])
            r["claim_due"] = working_days_after(local(approved), 30)
            if rng.random() < 0.08:
                lapsed = approved + timedelta(days=45)
                if lapsed <= now:
                    r.update(state="lapsed", lapsed_at=lapsed)
            else:
                claimed = approved + timedelta(days=rng.uniform(2, 20))
                if claimed <= now:
                    r.update(state="claimed", claimed_at=claimed)
                    paid = claimed + timedelta(days=rng.uniform(1, 10))
                    if paid <= now:
                        r.update(state="paid", paid_at=paid)
                        c.rewarded_at, c.state = paid, State.REWARDED
        self.rewards.append(r)
        return r

    def _documents(self, c, area, accepted, started, decided, complete):
        rng, now, inv = self.rng, self.now, area.staff["investigator"]
        for t in self.doc_types:
            if not t.applies_to(c):
                continue
            when = t.required_when
            if t.code in ("registration_form", "acceptance_approval"):
                at = accepted + timedelta(hours=rng.uniform(0, 20))
            elif when in ("always", "birth_permit"):
                at = started + timedelta(days=rng.uniform(1, 15))
            elif when == "decided":
                at = decided - timedelta(hours=rng.uniform(1, 48))
            elif when == "rewarded":
                at = c.rewarded_at - timedelta(hours=rng.uniform(1, 24))
            else:
                at = decided + timedelta(days=rng.uniform(0.5, 2))
            if at > now or (c.archived_at and at > c.archived_at):
                continue
            # An open file misses a required document now and then; an archived one never does.
            if not complete and rng.random() < (0.08 if t.required else 0.3):
                continue
            for _ in range(rng.choice((1, 1, 1, 2, 3)) if t.code == "evidence" else 1):
                doc_id = people.new_id(self.ids)
                self.docs.append((
                    doc_id, self.ring.current_kek, rng.randbytes(60), c.id, t.pk, t.name,
                    "application/pdf", "pdf", rng.randrange(40_000, 900_000), t.generated,
                    inv, at,
                ))  # fmt: skip

    def reward_rows(self, first_id: int):
        """Reward and payment rows once the chunk's reward ids are reserved (with their audit
        entries, which name the reward)."""
        rewards, payments = [], []
        for i, r in enumerate(self.rewards):
            rid, s, chain = first_id + i, r["staff"], self.chain
            rewards.append((
                rid, r["case"], r["report"], r["township"], r["state"], r["category"],
                r["outcome"], AMOUNT, 30, [], r["proposed_at"], s["supervisor"], r["approved_at"],
                r["approved_by"], r["claim_due"], r["claimed_at"], r["paid_at"], r["lapsed_at"],
            ))  # fmt: skip
            chain.add(r["proposed_at"], s["supervisor"], "reward.proposed", REWARD, rid,
                      case=r["case"], amount=str(AMOUNT))  # fmt: skip
            if r["approved_at"]:
                chain.add(r["approved_at"], s["leader"], "reward.approved", REWARD, rid)
            if r["claimed_at"]:
                chain.add(r["claimed_at"], None, "reward.claimed", REWARD, rid, method="bank")
            if r["lapsed_at"]:
                chain.add(r["lapsed_at"], None, "reward.lapsed", REWARD, rid)
            if r["paid_at"]:
                paid = r["paid_at"]
                payments.append((rid, AMOUNT, "bank", f"PZ{rid:08d}", local(paid), s["finance"],
                                 paid))  # fmt: skip
                chain.add(paid, s["finance"], "reward.paid", REWARD, rid, voucher=f"PZ{rid:08d}")
                step(chain, paid, s["finance"], r["case"], "reward", r["outcome"], "rewarded")
        return rewards, payments
