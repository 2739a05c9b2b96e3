"""generate_load_data at a tiny scale after seed_demo: counts, proportions, a valid audit chain,
identities that decrypt, and staff pages that answer with the generated data."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.models import F
from django.test import Client

from casework import casefile
from casework.models import Case, CaseDocument, IdentityRequest
from casework.rewards.models import Reward
from ops.loadgen import volumes
from org.models import Township
from tests.casework.conftest import verified_client
from tipline.models import Report, ReporterIdentity

pytestmark = pytest.mark.slow  # seeds the demo county, then generates load data on top

N = 300
PAGES = ("/staff/", "/staff/reports/", "/staff/reports/?status=rejected", "/staff/cases/",
         "/staff/cases/files/", "/staff/identity/", "/staff/audit/", "/staff/assessment/",
         "/staff/rewards/")  # fmt: skip


@pytest.fixture
def loaded(db):
    call_command("seed_demo", stdout=io.StringIO())
    before = {m: m.objects.count() for m in (Report, Case)}
    call_command("generate_load_data", "--reports", str(N), stdout=io.StringIO())
    return before


def test_generated_data(loaded):
    assert Report.objects.count() - loaded[Report] == N
    assert Case.objects.count() - loaded[Case] == volumes(N)["cases"]
    new = Report.objects.filter(township__code__startswith="load1-")
    assert Township.objects.filter(code__startswith="load1-").count() == volumes(N)["townships"]
    linked = new.filter(case__isnull=False).count()
    assert volumes(N)["cases"] < linked < 2 * volumes(N)["cases"]  # first reports and repeats
    assert new.filter(status="rejected").exists() and new.filter(status="closed").exists()
    docs = CaseDocument.objects.filter(case__township__code__startswith="load1-").count()
    assert 4 * volumes(N)["cases"] < docs < 12 * volumes(N)["cases"]
    assert Reward.objects.filter(township__code__startswith="load1-", state="paid").exists()
    # Four eyes in the generated rewards too: every reward names its proposer, and no approved
    # reward was approved by the person who proposed it.
    generated = Reward.objects.filter(township__code__startswith="load1-")
    assert not generated.filter(proposed_by=None).exists()
    assert generated.exclude(approved_by=None).exists()
    assert not generated.filter(approved_by=F("proposed_by")).exists()
    # Every linked report lies in its case's township; archived cases hold only closed reports.
    assert not new.exclude(case__isnull=True).exclude(case__township=F("township")).exists()

    # The stored missing-document count agrees with the checklist (rows written by COPY are
    # refreshed at the end), and some generated cases do miss documents.
    generated = Case.objects.filter(township__code__startswith="load1-").prefetch_related(
        "documents"
    )
    stored = {case.pk: case.missing_documents for case in generated}
    computed = {case.pk: len(casefile.missing_documents(case)) for case in generated}
    assert stored == computed and any(stored.values())
    # Identity requests carry their report's township.
    requests = IdentityRequest.objects.filter(report__township__code__startswith="load1-")
    assert not requests.exclude(township=F("report__township")).exists()

    # Every foreign key holds (on PostgreSQL the keys set aside during the load were re-added,
    # which validates every row; this checks the deferred ones of this transaction too).
    connection.check_constraints()

    # The audit chain still verifies; a generated identity decrypts.
    call_command("verify_audit", stdout=io.StringIO())  # raises SystemExit when broken
    identity = ReporterIdentity.objects.filter(report__township__code__startswith="load1-").first()
    revealed = identity.reveal()
    assert len(revealed["phone"]) == 11 and revealed["name"]

    # Staff pages answer with the generated data, for county and township staff.
    for who in ("c00-supervisor", "c00-auditor", "t000-clerk"):
        client = Client()
        user = get_user_model().objects.get(username=f"load1-{who}")
        verified_client(client, user)
        for url in PAGES:
            response = client.get(url)
            assert response.status_code in (200, 403), (url, response.status_code)
            if who != "t000-clerk" or url in ("/staff/", "/staff/reports/", "/staff/cases/"):
                assert response.status_code == 200 or url in ("/staff/audit/", "/staff/rewards/")
