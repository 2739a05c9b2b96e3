"""Words looked for in the report text, at a million reports: which of two plans answers is
chosen per query, by the database, from how common the words are among the latest reports.

A common word ("堕胎药", in one report in six) is found fastest by walking the list in its own
order and testing each row until the page is full (a few hundred rows); the trigram index
(tipline migration 0006) would first gather every one of its 170,000 matches. A rare word
("人民路17号") is the opposite: the trigram index finds its few rows at once, a walk would read
the whole list. So each query holds both plans, each behind a one-time condition on a probe (how
many of the latest PROBE_ROWS reports hold the words, read from the received_at index): the
database runs exactly one of them. Both return exactly the rows that hold every word, in the
list's order: the common plan compares the text as it is (``description LIKE``, which no index
serves and whose statistics PostgreSQL has), valid only for words without letter case (Chinese,
digits, punctuation: upper-casing changes nothing in them nor makes them of anything else);
words with letters keep the one case-insensitive plan (casework.finding.text_matches).

A search counts at most COUNT_CAP matches (the page says "more than" past it): counting a common
word's every match in a county read tens of thousands of rows.
"""

import re
import unicodedata

from django.db import connection
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

COUNT_CAP = 1_000
PROBE_ROWS = 500
COMMON = 5  # matches among PROBE_ROWS from which a word is common (1 %)


def uncased(word: str) -> bool:
    """Whether comparing `word` as it is finds what comparing it upper-cased finds: Chinese
    characters (CJK ideographs), digits and punctuation only."""
    for ch in word:
        if "0" <= ch <= "9":
            continue
        category = unicodedata.category(ch)
        if category.startswith("P") and ch.upper() == ch == ch.lower():
            continue
        if category == "Lo" and unicodedata.name(ch, "").startswith("CJK "):
            continue
        return False
    return True


def as_typed(words, field="description") -> Q:
    """Every word somewhere in the text, compared as typed (for uncased words only)."""
    q = Q()
    for word in words:
        q &= Q(**{f"{field}__contains": word})
    return q


def _probe(words, *, common: bool) -> RawSQL:
    """True when (common) / unless (not common) at least COMMON of the latest PROBE_ROWS
    reports hold every word: no column of the outer query in it, so PostgreSQL evaluates it
    once, before the plan it guards."""
    # Only placeholders and fixed text go into the SQL; the words are parameters.
    like = " AND ".join(["s.description LIKE %s ESCAPE '\\'"] * len(words))
    latest = "SELECT description FROM tipline_report ORDER BY received_at DESC LIMIT %s"
    test = ">=" if common else "<"
    # pg_backend_pid() is parallel restricted: it keeps the guard above any parallel Gather,
    # whose workers (10-20 ms to start) would otherwise start before the guard is read.
    held = f"(SELECT COUNT(*) FROM ({latest}) s WHERE {like})"  # noqa: S608
    sql = f"{held} {test} %s AND pg_backend_pid() <> 0"
    patterns = [f"%{connection.ops.prep_for_like_query(w)}%" for w in words]
    return RawSQL(sql, (PROBE_ROWS, *patterns, COMMON), output_field=BooleanField())  # noqa: S611


def planned(words) -> bool:
    """Whether `words` get the two plans: on PostgreSQL, words without letter case."""
    return bool(words) and connection.vendor == "postgresql" and all(uncased(w) for w in words)


def plans(queryset, words, matches_ignoring_case, matches_as_typed):
    """`queryset` narrowed to `words` both ways (see planned()): (as typed, ignoring case)."""
    return queryset.filter(matches_as_typed), queryset.filter(matches_ignoring_case)


class Matches:
    """The matching ids of a list, for the paginator: counted up to COUNT_CAP, sliced in the
    list's order. Each query unites both plans, each behind the probe (one of them runs), but
    the last page: there the walk would have to reach the end of the list to know it saw every
    match (a county's walk reads the province's reports in order), so the trigram plan answers,
    which costs at most the word's matches; and when nothing matched, no query at all."""

    count_cap = COUNT_CAP

    def __init__(self, common, rare, words, order):
        self.common = common.filter(_probe(words, common=True))
        self.rare = rare
        self.rare_guarded = rare.filter(_probe(words, common=False))
        # Named as the united queries' columns are: the id first, then what the order reads.
        self.order = [re.sub(r"^(-?)pk$", r"\1id", o) for o in order]
        self.columns = ["id", *(o.lstrip("-") for o in self.order if o.lstrip("-") != "id")]
        self.counted = None  # (count, capped) once counted

    def count_up_to(self, limit: int) -> int:
        n = (
            self.common.order_by()
            .values("pk")[:limit]
            .union(self.rare_guarded.order_by().values("pk")[:limit], all=True)
            .count()
        )
        self.counted = (n, n >= limit)
        return n

    def count(self) -> int:
        return self.count_up_to(self.count_cap + 1)

    def __len__(self):
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start = index.start or 0
        if index.stop is not None and index.stop <= start:
            return []  # Django makes an empty slice an empty query, which unites as no query
        n, capped = self.counted or (None, True)
        if n is not None and n <= start:
            return []

        def branch(qs):
            return qs.order_by(*self.order).values_list(*self.columns)[index]

        if not capped and index.stop is not None and index.stop >= n:  # the last page
            return [row[0] for row in branch(self.rare)]
        both = branch(self.common).union(branch(self.rare_guarded), all=True)
        return [row[0] for row in both.order_by(*self.order)]
