"""What one online report costs beyond its receipt hash, pinned: the SQL statements (counted on
the database the suite runs on, outside a test transaction so that BEGIN and COMMIT are the
request's own) and, with Redis as the cache, the round trips of the rate limits.

Measured on PostgreSQL with Redis (issue 21): 12 statements and 9 rate-limit round trips
without a photo, 14 and 9 with one; then 9 and 2, 10 and 2. Gone: the savepoint around spending
the form token (ON CONFLICT DO NOTHING), the sweep of old tokens on every report (the nightly
purge does it), the evidence total of a report made in the same transaction (it holds nothing),
and two round trips per rate-limit counter (one MULTI for all the counters of a step).

Now 3 statements with or without a photo, and 2 round trips: two look-ups (the form's token,
the township) and one INSERT that writes the token, the report, its sealed identity, its
evidence and its notice, its own transaction (tipline.together: no BEGIN, no COMMIT, no
savepoint), and nothing after it: the hand-over mark after the commit is gone.
"""

import re
from datetime import timedelta

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ops import retention
from tipline import submissions
from tipline.models import Attachment, Report, ReporterIdentity, SubmissionToken

from .helpers import form_data, upload

TOKEN_FIELD = re.compile(r'name="submission" value="([A-Za-z0-9_-]+)"')
REDIS_CACHE = "redis" in settings.CACHES["default"]["BACKEND"].lower()


@pytest.fixture
def redis_round_trips(monkeypatch):
    """Every command or pipeline sent to any Redis (cache and broker), in order."""
    sent = []
    command, pipeline = redis.Redis.execute_command, redis.client.Pipeline.execute

    def execute_command(self, *args, **kwargs):
        sent.append(str(args[0]))
        return command(self, *args, **kwargs)

    def execute(self, *args, **kwargs):
        sent.append("MULTI " + " ".join(str(c[0][0]) for c in self.command_stack))
        return pipeline(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "execute_command", execute_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    return sent


def filled_form(client, township, photo, description="县城东街一家诊所用B超给孕妇查胎儿性别。"):
    """A fresh form; each report of one browser tells something else (the same text again from
    the same browser is answered as a reload: tipline/resubmission.py)."""
    token = TOKEN_FIELD.search(client.get("/report/").content.decode()).group(1)
    data = {
        **form_data(
            township, reporter_name="张三", reporter_phone="13912345678", description=description
        )
    }
    if photo:
        data["evidence"] = [upload()]
    return {**data, "submission": token}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("photo", "statements"), [(False, 3), (True, 3)])
def test_one_online_report_costs_at_most_its_pinned_queries(
    client, township, attachment_files, redis_round_trips, photo, statements
):
    first = client.post("/report/", filled_form(client, township, photo))
    assert first.status_code == 200  # connections and caches warm
    data = filled_form(client, township, photo, description="西街药店私下出售堕胎药，不要处方。")
    redis_round_trips.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/report/", data)
    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    # The submission's own statements end with its last write; after it, the notice is handed
    # to the broker and nothing more is written (production's path), or, without a broker,
    # processed right here.
    written = {"tipline_submissiontoken", "tipline_report", "tipline_reporteridentity"}
    written |= {"tipline_attachment"} if photo else set()
    written |= {"notifications_event"}
    inserts = [(i, re.findall(r'INSERT INTO "(\w+)"', s)) for i, s in enumerate(sql)]
    inserts = [(i, tables) for i, tables in inserts if tables]
    end = inserts[-1][0] + 1
    end += sql[end : end + 1] == ["COMMIT"]  # elsewhere (SQLite) the rows go one by one
    own, after = sql[:end], sql[end:]
    assert {table for _i, tables in inserts for table in tables} == written
    assert "SUM(" not in " ".join(own) and "DELETE" not in " ".join(own)
    if connection.vendor == "postgresql":
        # One statement writes every row (tipline.together), its own transaction.
        assert len(own) <= statements, "\n".join(s[:120] for s in own)
        assert [s for s in own if not s.startswith("SELECT ")] == [own[-1]]
    if not current_app.conf.task_always_eager:
        assert after == [], after
    # Everything was still written, once: report, sealed identity, evidence, token, notice.
    assert Report.objects.count() == ReporterIdentity.objects.count() == 2
    assert Attachment.objects.count() == (2 if photo else 0)
    assert SubmissionToken.objects.count() == 2
    if REDIS_CACHE:
        limits = [c for c in redis_round_trips if ":rl:" in c or c.startswith("MULTI SET")]
        assert limits == ["MULTI SET INCRBY", "MULTI SET INCRBY SET INCRBY"]


@pytest.mark.django_db
def test_the_nightly_purge_forgets_form_tokens_past_their_days():
    now = timezone.now()
    old = SubmissionToken.objects.create(
        digest="a" * 64, used_at=now - timedelta(days=submissions.TOKEN_DAYS, seconds=1)
    )
    kept = SubmissionToken.objects.create(
        digest="b" * 64, used_at=now - timedelta(days=submissions.TOKEN_DAYS - 1)
    )
    assert retention.run(now).form_tokens_forgotten == 1
    assert list(SubmissionToken.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not SubmissionToken.objects.filter(pk=old.pk).exists()
