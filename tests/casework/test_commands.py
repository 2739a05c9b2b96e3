"""Management commands: the state graph, the demo data and the audit check after it."""

import io
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from casework import audit, casefile
from casework.models import AuditEntry, Case, State
from tipline.models import Report

TRANSITION_NAMES = {
    "start_investigation",
    "penalize",
    "find_unfounded",
    "transfer",
    "reward",
    "archive",
}


def test_graph_transitions_outputs_every_state_and_transition():
    out = io.StringIO()
    call_command("graph_transitions", "casework.Case", stdout=out)
    dot = out.getvalue()
    assert dot.lstrip().startswith("digraph")
    nodes = set(re.findall(r'"casework\.[^."]+\.state\.(\w+)"', dot))
    assert nodes == set(State.values)
    edges = {
        (src, dst, label)
        for src, dst, label in re.findall(
            r'"casework\.[^."]+\.state\.(\w+)" -> "casework\.[^."]+\.state\.(\w+)" '
            r"\[label=(\w+)\]",
            dot,
        )
    }
    assert {label for _s, _d, label in edges} == TRANSITION_NAMES
    assert edges == {
        ("accepted", "investigating", "start_investigation"),
        ("investigating", "penalized", "penalize"),
        ("transferred", "penalized", "penalize"),
        ("investigating", "unfounded", "find_unfounded"),
        ("investigating", "transferred", "transfer"),
        ("penalized", "rewarded", "reward"),
        ("transferred", "rewarded", "reward"),
        ("penalized", "archived", "archive"),
        ("rewarded", "archived", "archive"),
        ("unfounded", "archived", "archive"),
        ("transferred", "archived", "archive"),
    }


def counts():
    from django.contrib.auth import get_user_model

    from casework.models import CaseDocument
    from org.models import County, StaffProfile, Township, Unit

    return {
        model.__name__: model.objects.count()
        for model in (
            Case,
            Report,
            AuditEntry,
            CaseDocument,
            County,
            Township,
            Unit,
            StaffProfile,
            get_user_model(),
        )
    }


@pytest.mark.django_db
@pytest.mark.slow  # seeds the whole demo county
def test_seed_demo_creates_cases_in_every_state():
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "Demo data ready" in out.getvalue()
    states = set(Case.objects.values_list("state", flat=True))
    assert states == set(State.values)

    today = timezone.localdate()
    cases = list(Case.objects.all())
    assert any(casefile.missing_documents(c) for c in cases), "no incomplete case file"
    assert any(casefile.score(c) == 100 for c in cases), "no complete case file"
    overdue_cases = [c for c in cases if "decision" in c.overdue_flags(today)]
    assert overdue_cases, "no overdue case"
    overdue_reports = Report.objects.filter(status=Report.Status.RECEIVED, acceptance_due__lt=today)
    assert overdue_reports.exists(), "no overdue report"
    # Archived cases close their reports; the archived demo case has a complete file.
    archived = Case.objects.get(state=State.ARCHIVED)
    assert casefile.missing_documents(archived) == []
    assert set(archived.reports.values_list("status", flat=True)) == {"closed"}
    # Every demo case was made through the services: its history is in the audit log.
    for case in cases:
        assert AuditEntry.objects.filter(
            action="case.opened", object_type="casework.case", object_id=str(case.pk)
        ).exists()
    ok, message = audit.verify()
    assert ok, message


@pytest.mark.django_db
@pytest.mark.slow  # seeds the whole demo county
def test_seed_demo_twice_creates_nothing_more():
    call_command("seed_demo", stdout=io.StringIO())
    first = counts()
    assert first["Case"] >= len(State.values)
    call_command("seed_demo", stdout=io.StringIO())
    assert counts() == first
    out = io.StringIO()
    call_command("verify_audit", stdout=out)
    assert f"{first['AuditEntry']} entries" in out.getvalue()


@pytest.mark.django_db
@pytest.mark.slow  # seeds the whole demo county
def test_seed_demo_users_have_their_roles():
    from django.contrib.auth import get_user_model

    call_command("seed_demo", stdout=io.StringIO())
    users = {u.username: u for u in get_user_model().objects.all()}
    assert users["clerk"].has_perm("casework.triage_report")
    assert not users["clerk"].has_perm("casework.decide_case")
    assert users["investigator"].has_perm("casework.investigate_case")
    assert not users["investigator"].has_perm("casework.decide_case")
    assert users["supervisor"].has_perm("casework.decide_case")
    assert users["auditor"].has_perm("casework.view_audit")
    assert users["clerk"].staff_profile.unit.township.code == "zhongshui"
    assert users["supervisor"].staff_profile.unit.township is None


def expected_category(text: str) -> str:
    """What a county office worker would file a tip under, read from its words."""
    if "米非司酮" in text or "终止妊娠药" in text:
        return "abortion_drug_sale"
    if "引产" in text:
        return "sex_selective_abortion"
    if "无证" in text or "非法B超点" in text:
        return "illegal_practice"
    return "sex_determination"


@pytest.mark.django_db
@pytest.mark.slow  # seeds the whole demo county
def test_seed_demo_is_plausible():
    """Each demo report's category matches what it says; every township has a clerk with an
    e-mail address to be told of new reports; people have names."""
    from django.contrib.auth import get_user_model

    from org import roles
    from org.models import Township
    from org.scope import staff_for_township

    call_command("seed_demo", stdout=io.StringIO())
    assert expected_category("某药店无处方销售米非司酮。") == "abortion_drug_sale"  # the rule
    wrong = [
        (r.description, r.category)
        for r in Report.objects.all()
        if r.category != expected_category(r.description)
    ]
    assert not wrong, wrong
    categories = set(Report.objects.values_list("category", flat=True))
    assert {"abortion_drug_sale", "sex_selective_abortion", "illegal_practice"} <= categories
    for case in Case.objects.all():  # a case keeps the category of its first report
        first = case.reports.order_by("accepted_at").first()
        assert case.category == first.category, case.number
    for township in Township.objects.all():
        clerks = staff_for_township(township, roles.CLERK)
        assert any(c.email for c in clerks), f"{township.name} has no clerk with an e-mail"
    for user in get_user_model().objects.all():
        assert user.last_name and user.first_name, user.username


# --- demo data stays out of production ---------------------------------------------------------


def nothing_created():
    return all(n == 0 for name, n in counts().items() if name != "AuditEntry") and not (
        AuditEntry.objects.exists()
    )


@pytest.mark.django_db
def test_seed_demo_refuses_production_settings(settings, monkeypatch):
    settings.TIPLINE_DEVELOPMENT = False
    monkeypatch.setenv("TIPLINE_DEMO_PASSWORD", "a-Strong-demo-passphrase-91")
    with pytest.raises(CommandError, match="--i-know-this-is-production"):
        call_command("seed_demo", stdout=io.StringIO())
    assert nothing_created()


@pytest.mark.django_db
@pytest.mark.parametrize("password", [None, "", "tipline-demo-2026", "12345678"])
def test_seed_demo_in_production_needs_a_strong_password_from_the_environment(
    settings, monkeypatch, password
):
    settings.TIPLINE_DEVELOPMENT = False
    if password is None:
        monkeypatch.delenv("TIPLINE_DEMO_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("TIPLINE_DEMO_PASSWORD", password)
    with pytest.raises(CommandError, match="TIPLINE_DEMO_PASSWORD"):
        call_command("seed_demo", "--i-know-this-is-production", stdout=io.StringIO())
    assert nothing_created()


@pytest.mark.django_db
@pytest.mark.slow  # seeds the whole demo county
def test_seed_demo_in_production_with_the_flag_and_a_password(settings, monkeypatch):
    from django.contrib.auth import get_user_model

    settings.TIPLINE_DEVELOPMENT = False
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setenv("TIPLINE_DEMO_PASSWORD", "a-Strong-demo-passphrase-91")
    out = io.StringIO()
    call_command("seed_demo", "--i-know-this-is-production", stdout=out)
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password("a-Strong-demo-passphrase-91")
    assert not admin.check_password("tipline-demo-2026")
    assert "a-Strong-demo-passphrase-91" not in out.getvalue()  # never printed to a log
