"""The staff rewards list in the order each person works it: first what they act on (claims
awaiting payment for finance, then proposals awaiting approval for supervisors), then every
other reward; within each part by the claim date, then the newest proposal first.

Each part is its own query, ordered on the index (state, claim_due, proposed_at, id) and taken
only as far as the page shown needs, the parts put together with UNION ALL: one query for the
page. (One ORDER BY over a CASE expression of the state sorted every reward in scope before it
could show the first fifty: 250 ms for a province at a million reports.) The count is the
capped count of the whole list, as every staff list counts (the page: views.page_of_rewards).
"""

from django.db import connection
from django.db.models import F, IntegerField, Value

from .states import PERM_APPROVE, PERM_PAY, RewardState

# Within each part: rewards without a claim date (not approved yet) after those with one, on
# every database; the id breaks ties (two rewards proposed in the same microsecond), so that no
# reward is on two pages.
ORDER = (F("claim_due").asc(nulls_last=True), F("proposed_at").desc(), F("id").desc())


def acted_on(user) -> list[str]:
    """The states this person acts on, in the order the list shows them."""
    return [
        state
        for perm, state in ((PERM_PAY, RewardState.CLAIMED), (PERM_APPROVE, RewardState.PROPOSED))
        if user.has_perm(perm)
    ]


def ordered(rewards, first: list[str], *, upto: int | None = None):
    """``rewards`` (a queryset) with the rewards in the states ``first`` before the others.

    ``upto``: no page shown reads beyond this row, so each part is cut there in its own query
    (where the database allows a LIMIT inside a UNION; SQLite does not: the parts are whole)."""
    if not first:
        return rewards.order_by(*ORDER)
    parts = [rewards.filter(state=state) for state in first]
    parts.append(rewards.exclude(state__in=first))
    cut = upto is not None and connection.features.supports_slicing_ordering_in_compound
    queries = []
    for rank, part in enumerate(parts):
        part = part.annotate(part=Value(rank, output_field=IntegerField()))
        queries.append(part.order_by(*ORDER)[:upto] if cut else part.order_by())
    return queries[0].union(*queries[1:], all=True).order_by("part", *ORDER)
