"""The reporter's claim, through the service and through the public form at /receipt/claim/:
the receipt proves who claims; bank details are checked and sealed; an in-person claim gets a
code shown once; every claim and change is audited without the payee details."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone, translation
from django.utils.html import escape

from casework.models import AuditEntry
from casework.rewards import claims
from casework.rewards import services as rewards
from casework.rewards.models import Reward, RewardClaim
from notifications.models import Event
from tipline import receipts, submissions
from vault import crypto

from .helpers import ACCOUNT, BANK, NAME, filed, investigate, penalize, reward_of

pytestmark = pytest.mark.django_db

CLAIM = "/receipt/claim/"


def fresh(reward) -> Reward:
    return Reward.objects.get(pk=reward.pk)


def wrong(receipt: str) -> str:
    return receipt[:-1] + ("1" if receipt[-1] != "1" else "2")


@pytest.fixture
def english():
    with translation.override("en"):
        yield


# --- the service -----------------------------------------------------------------------------


def test_bank_claim_is_sealed_and_indexed(approved):
    reward, receipt = approved
    result = rewards.claim(
        reward.pk,
        receipt,
        method="bank",
        payee_name=" 李　举报 ",  # a full-width space typed by a Chinese input method
        bank_name="农业银行中水支行",
        account_number="6228 4804 0256 4890 018",
    )
    assert result.claim_code == ""
    stored = fresh(reward)
    assert stored.state == "claimed"
    record = RewardClaim.objects.get(reward=reward)
    assert record.name_checked is True
    assert record.account_index == crypto.blind_index("bank_account", ACCOUNT)
    assert record.payee() == {
        "payee_name": "李　举报",
        "bank_name": "农业银行中水支行",
        "account_number": ACCOUNT,
    }
    for field in ("payee_name_sealed", "account_number_sealed", "bank_name_sealed"):
        assert ACCOUNT.encode() not in bytes(getattr(record, field))
        assert "农业银行".encode() not in bytes(getattr(record, field))
    entry = AuditEntry.objects.get(action="reward.claimed", object_id=str(reward.pk))
    assert entry.data == {"method": "bank", "name_checked": True, "check_digit_overridden": False}
    assert entry.actor is None


def test_the_payee_name_must_be_the_reporters(approved, english):
    reward, receipt = approved
    with pytest.raises(rewards.ClaimError, match="name you gave") as exc:
        rewards.claim(
            reward.pk,
            receipt,
            method="bank",
            payee_name="张三",
            bank_name="银行",
            account_number=ACCOUNT,
        )
    assert exc.value.field == "payee_name"
    assert fresh(reward).state == "approved"
    assert not RewardClaim.objects.exists()


def test_without_a_name_given_any_name_is_accepted_but_not_checked(township, cast, units):
    report, receipt = filed(township)  # anonymous: no name to compare
    reward = reward_of(penalize(investigate(report, cast, units), cast))
    from .helpers import approve

    approve(reward, cast["leader"])
    rewards.claim(reward.pk, receipt, **{**BANK, "payee_name": "随便谁"}, account_number=ACCOUNT)
    assert RewardClaim.objects.get(reward=reward).name_checked is False


@pytest.mark.parametrize(
    "number",
    ["12345678901", "1" * 31, "6228-4804-0256", "６２２８abc", "", "62284804025648900１８x"],
)
def test_account_numbers_outside_the_rules_are_refused(approved, number, english):
    reward, receipt = approved
    with pytest.raises(rewards.ClaimError, match="12 to 30 digits"):
        rewards.claim(reward.pk, receipt, **BANK, account_number=number)
    assert not RewardClaim.objects.exists()


def test_account_number_rules():
    assert claims.account_digits("6228 4804 0256 4890 018") == ACCOUNT
    assert claims.account_digits("６２２８４８０４０２５６４８９００１８") == ACCOUNT  # full-width
    assert claims.account_digits("123456789012") == "123456789012"  # 12: the shortest
    assert claims.account_digits("1" * 30) == "1" * 30  # 30: the longest
    assert claims.luhn_ok("4111111111111111") and not claims.luhn_ok("4111111111111112")
    # Luhn only for 16 and 19 digits; other lengths are passbook accounts without one.
    assert claims.needs_luhn_warning("4111111111111112")
    assert not claims.needs_luhn_warning("41111111111111121")
    assert not claims.needs_luhn_warning(ACCOUNT)


def test_a_failed_check_digit_can_be_confirmed(approved, english):
    reward, receipt = approved
    bad = ACCOUNT[:-1] + "7"
    with pytest.raises(rewards.ClaimError, match="check digit"):
        rewards.claim(reward.pk, receipt, **BANK, account_number=bad)
    rewards.claim(reward.pk, receipt, **BANK, account_number=bad, confirm_check_digit=True)
    assert RewardClaim.objects.get(reward=reward).check_digit_overridden is True


def test_in_person_claim_code_is_shown_once_and_stored_as_a_hash(approved):
    reward, receipt = approved
    code = rewards.claim(reward.pk, receipt, method="in_person").claim_code
    assert len(code) >= 10 and set(code) <= set(claims.ALPHABET)
    record = RewardClaim.objects.get(reward=reward)
    assert record.code_hash.startswith("h1$") and code not in record.code_hash
    assert claims.code_matches(claims.grouped_code(code).upper(), record.code_hash)
    assert not claims.code_matches(code[:-1], record.code_hash)
    assert record.payee() == {"payee_name": "", "bank_name": "", "account_number": ""}


def test_a_wrong_receipt_cannot_claim(approved, township, english):
    reward, receipt = approved
    _other, other_receipt = filed(township)
    for bad in (other_receipt, wrong(receipt), "not a receipt"):
        with pytest.raises(rewards.ClaimError, match="does not belong"):
            rewards.claim(reward.pk, bad, method="in_person")
    assert fresh(reward).state == "approved"


def test_a_proposed_reward_cannot_be_claimed(proposed, english):
    reward, receipt = proposed
    with pytest.raises(rewards.ServiceError):
        rewards.claim(reward.pk, receipt, method="in_person")
    assert fresh(reward).state == "proposed"


def test_changing_a_claim_is_audited_and_replaces_the_code(approved):
    reward, receipt = approved
    first = rewards.claim(reward.pk, receipt, method="in_person").claim_code
    seen = rewards.claim_version(RewardClaim.objects.get(reward=reward))
    second = rewards.claim(reward.pk, receipt, method="in_person", replaces=seen).claim_code
    record = RewardClaim.objects.get(reward=reward)
    assert not claims.code_matches(first, record.code_hash)
    assert claims.code_matches(second, record.code_hash)
    seen = rewards.claim_version(record)
    rewards.claim(reward.pk, receipt, **BANK, account_number=ACCOUNT, replaces=seen)
    record = RewardClaim.objects.get(reward=reward)
    assert (record.method, record.code_hash) == ("bank", "")
    assert record.changed_at is not None
    names = list(
        AuditEntry.objects.filter(object_id=str(reward.pk), action__startswith="reward.claim")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert names == ["reward.claimed", "reward.claim_changed", "reward.claim_changed"]
    for entry in AuditEntry.objects.filter(action__startswith="reward.claim"):
        text = str(entry.data)
        assert ACCOUNT not in text and NAME not in text and "农业银行" not in text
    assert fresh(reward).state == "claimed"


# --- the public form ---------------------------------------------------------------------------


def test_get_goes_to_the_receipt_page(client, db):
    response = client.get(CLAIM)
    assert response.status_code == 302
    assert response["Location"] == "/receipt/"


def test_claim_in_person_through_the_form(client, approved):
    reward, receipt = approved
    response = client.post(CLAIM, {"receipt": receipts.grouped(receipt), "method": "in_person"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    html = response.content.decode()
    code = html.split('id="claim-code">', 1)[1].split("<", 1)[0]
    record = RewardClaim.objects.get(reward=reward)
    assert claims.code_matches(code, record.code_hash)
    assert len(code.replace("-", "")) == 12
    assert len(response.content) < 20 * 1024


def test_claim_by_bank_through_the_form_with_the_check_digit_warning(client, approved):
    reward, receipt = approved
    bad = ACCOUNT[:-1] + "7"
    data = {"receipt": receipt, **BANK, "account_number": bad}
    response = client.post(CLAIM, data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'name="confirm_check_digit"' in html  # offered only after the warning
    assert not RewardClaim.objects.exists()
    response = client.post(CLAIM, {**data, "confirm_check_digit": "on"})
    assert response.status_code == 200
    assert 'id="claim-bank"' in response.content.decode()
    assert fresh(reward).state == "claimed"


def test_form_errors_write_nothing(client, approved):
    reward, receipt = approved
    n = AuditEntry.objects.count()
    for data in (
        {"method": "bank", "payee_name": "", "bank_name": "", "account_number": ""},
        {"method": "bank", **BANK, "account_number": "123"},
        {"method": "cash"},
        {},
    ):
        response = client.post(CLAIM, {"receipt": receipt, **data})
        assert response.status_code == 400, data
    assert fresh(reward).state == "approved"
    assert not RewardClaim.objects.exists()
    assert AuditEntry.objects.count() == n


def test_wrong_receipts_and_wrong_names_are_throttled(client, approved, settings):
    reward, receipt = approved
    limit = settings.TIPLINE_RATE_LIMITS["receipt_fail_per_client"][0]
    for _ in range(limit - 1):
        assert (
            client.post(CLAIM, {"receipt": wrong(receipt), "method": "in_person"}).status_code
            == 404
        )
    wrong_name = {"receipt": receipt, **BANK, "payee_name": "冒名者", "account_number": ACCOUNT}
    response = client.post(CLAIM, wrong_name)
    assert response.status_code == 400
    assert escape("冒名者") in response.content.decode()  # their own input, shown back
    # Both kinds of failure used the same allowance: the client is now paced (one try per
    # TIPLINE_RECEIPT_PACE_SECONDS); this slot's try goes to one more wrong receipt ...
    assert client.post(CLAIM, {"receipt": wrong(receipt), "method": "in_person"}).status_code == 404
    # ... so even the right claim waits, and /receipt/ shares the allowance.
    response = client.post(CLAIM, {"receipt": receipt, "method": "in_person"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= settings.TIPLINE_RECEIPT_PACE_SECONDS + 1
    assert fresh(reward).state == "approved"
    assert client.post("/receipt/", {"receipt": receipt}).status_code == 429


def test_nothing_to_claim_is_a_plain_answer(client, proposed):
    _reward, receipt = proposed
    response = client.post(CLAIM, {"receipt": receipt, "method": "in_person"})
    assert response.status_code == 400
    assert not RewardClaim.objects.exists()


def test_after_the_deadline_the_form_is_gone_and_claims_refused(client, approved):
    reward, receipt = approved
    Reward.objects.filter(pk=reward.pk).update(claim_due=timezone.localdate() - timedelta(days=1))
    response = client.post("/receipt/", {"receipt": receipt})
    assert 'id="claim-form"' not in response.content.decode()
    response = client.post(CLAIM, {"receipt": receipt, "method": "in_person"})
    assert response.status_code == 400
    assert not RewardClaim.objects.exists()


# --- repeats: the same claim again changes nothing ---------------------------------------------


def claim_counts(reward) -> tuple[int, int, int]:
    """(claim audit entries, claim changes, reward.claimed events) of this reward."""
    entries = AuditEntry.objects.filter(object_id=str(reward.pk))
    return (
        entries.filter(action="reward.claimed").count(),
        entries.filter(action="reward.claim_changed").count(),
        Event.objects.filter(kind="reward.claimed", object_id=str(reward.pk)).count(),
    )


def claim_form(client, receipt) -> dict:
    """The hidden fields of the claim form on the receipt page, as the browser would post them."""
    html = client.post("/receipt/", {"receipt": receipt}).content.decode()
    form = html.split('id="claim-form"', 1)[1].split("</form>", 1)[0]
    fields = {}
    for tag in re.findall(r'<input type="hidden"[^>]*>', form):
        name = re.search(r'name="(\w+)"', tag).group(1)
        value = re.search(r'value="([^"]*)"', tag)
        fields[name] = unescape(value.group(1)) if value else ""
    assert set(fields) >= {"receipt", "submission", "replaces"}, fields
    return fields


def shown_code(response) -> str:
    html = response.content.decode()
    assert 'id="claim-code"' in html, html
    return html.split('id="claim-code">', 1)[1].split("<", 1)[0]


def test_a_repeated_claim_through_the_service_changes_nothing(approved):
    reward, receipt = approved
    first = rewards.claim(reward.pk, receipt, method="in_person")
    assert first.claim_code and not first.already
    again = rewards.claim(reward.pk, receipt, method="in_person")
    assert again.already and again.claim_code == ""
    bank = rewards.claim(reward.pk, receipt, **BANK, account_number=ACCOUNT)  # no change asked
    assert bank.already
    record = RewardClaim.objects.get(reward=reward)
    assert record.method == "in_person" and record.changed_at is None
    assert claims.code_matches(first.claim_code, record.code_hash)
    assert claim_counts(reward) == (1, 0, 1)


def test_a_spent_form_token_changes_nothing_even_for_a_change(approved):
    reward, receipt = approved
    token = submissions.new_token()
    first = rewards.claim(reward.pk, receipt, method="in_person", submission=token)
    seen = rewards.claim_version(RewardClaim.objects.get(reward=reward))
    again = rewards.claim(
        reward.pk, receipt, **BANK, account_number=ACCOUNT, replaces=seen, submission=token
    )
    assert again.already
    record = RewardClaim.objects.get(reward=reward)
    assert record.method == "in_person"
    assert claims.code_matches(first.claim_code, record.code_hash)
    assert claim_counts(reward) == (1, 0, 1)


def test_reloading_the_claim_page_is_answered_already_claimed(client, approved):
    reward, receipt = approved
    form = claim_form(client, receipt)
    code = shown_code(client.post(CLAIM, {**form, "method": "in_person"}))
    for _ in range(3):  # reload, Back and send again
        response = client.post(CLAIM, {**form, "method": "in_person"})
        assert response.status_code == 409
        html = response.content.decode()
        assert "已申领" in html
        assert 'id="claim-code"' not in html
        assert "只显示一次" in html and "财务" in html and "回执" in html  # where to get help
        assert "no-store" in response["Cache-Control"]
    record = RewardClaim.objects.get(reward=reward)
    assert claims.code_matches(code, record.code_hash)
    assert claim_counts(reward) == (1, 0, 1)


def test_a_second_tab_and_a_post_without_token_claim_nothing_more(client, approved):
    reward, receipt = approved
    first_tab, second_tab = claim_form(client, receipt), claim_form(client, receipt)
    assert first_tab["submission"] != second_tab["submission"]
    code = shown_code(client.post(CLAIM, {**first_tab, "method": "in_person"}))
    response = client.post(CLAIM, {**second_tab, "method": "in_person"})
    assert response.status_code == 409 and "已申领" in response.content.decode()
    response = client.post(CLAIM, {"receipt": receipt, "method": "in_person"})  # no token at all
    assert response.status_code == 409
    assert claims.code_matches(code, RewardClaim.objects.get(reward=reward).code_hash)
    assert claim_counts(reward) == (1, 0, 1)


def test_a_change_is_made_once_and_its_reload_keeps_the_new_code(client, approved):
    reward, receipt = approved
    shown_code(client.post(CLAIM, {**claim_form(client, receipt), "method": "in_person"}))
    change = claim_form(client, receipt)  # the "change how you receive it" form
    assert change["replaces"]
    new_code = shown_code(client.post(CLAIM, {**change, "method": "in_person"}))
    response = client.post(CLAIM, {**change, "method": "in_person"})  # reload of the change
    assert response.status_code == 409
    # A change form shown before the change, without its token (an old tab): no change either.
    response = client.post(
        CLAIM, {"receipt": receipt, "replaces": change["replaces"], "method": "in_person"}
    )
    assert response.status_code == 409
    assert claims.code_matches(new_code, RewardClaim.objects.get(reward=reward).code_hash)
    assert claim_counts(reward) == (1, 1, 2)


def test_a_corrected_form_error_keeps_the_token_unspent(client, approved):
    reward, receipt = approved
    form = claim_form(client, receipt)
    response = client.post(CLAIM, {**form, **BANK, "account_number": "123"})
    assert response.status_code == 400
    assert form["submission"] in response.content.decode()  # the same form, posted back
    response = client.post(CLAIM, {**form, **BANK, "account_number": ACCOUNT})
    assert response.status_code == 200 and 'id="claim-bank"' in response.content.decode()
    assert claim_counts(reward) == (1, 0, 1)
