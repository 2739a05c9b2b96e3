"""What happens next, for a reporter with a reward: the claim confirmation gives the payment
time, the in-person claim the finance window's address and hours, all from the county's
settings (edited by its administrator in the admin), with plain words while they are not set."""

import pytest
from django.contrib.auth.models import Group

from org import roles
from org.models import County

from ..casework.conftest import make_staff, verified_client
from .helpers import ACCOUNT, BANK

pytestmark = pytest.mark.django_db

CLAIM = "/receipt/claim/"
ADDRESS = "示范县政务服务中心一楼12号财政窗口（人民路1号）"
HOURS = "周一至周五 9:00—12:00、14:00—17:00"


@pytest.fixture
def window(county):
    County.objects.filter(pk=county.pk).update(
        finance_window_address=ADDRESS, finance_window_hours=HOURS, reward_payment_working_days=15
    )


def test_an_in_person_claim_says_where_and_when(client, approved, window):
    _reward, receipt = approved
    html = client.post(CLAIM, {"receipt": receipt, "method": "in_person"}).content.decode()
    assert 'id="claim-code"' in html
    assert f"财务窗口：{ADDRESS}。" in html
    assert f"办理时间：{HOURS}。" in html


def test_a_bank_claim_says_how_long_payment_takes(client, approved, window):
    _reward, receipt = approved
    response = client.post(CLAIM, {"receipt": receipt, **BANK, "account_number": ACCOUNT})
    html = response.content.decode()
    assert 'id="claim-bank"' in html
    assert "银行转账的申领，财务部门在15个工作日内支付。" in html
    # The receipt page says it again while the claim waits for payment.
    html = client.post("/receipt/", {"receipt": receipt}).content.decode()
    assert 'id="reward-claimed"' in html and "15个工作日内支付" in html


def test_the_offer_says_both_before_the_choice(client, approved, window):
    _reward, receipt = approved
    html = client.post("/receipt/", {"receipt": receipt}).content.decode()
    assert "15个工作日内支付" in html and ADDRESS in html and HOURS in html


def test_without_the_county_settings_the_reporter_is_told_what_to_do(client, approved):
    _reward, receipt = approved
    offer = client.post("/receipt/", {"receipt": receipt}).content.decode()
    payment = offer.split('id="payment-time">', 1)[1].split("</p>", 1)[0]
    assert payment == "银行转账的申领经核对后由财务部门支付。支付日期会显示在回执查询页面上。"
    html = client.post(CLAIM, {"receipt": receipt, "method": "in_person"}).content.decode()
    window = html.split('id="finance-window">', 1)[1].split("</p>", 1)[0]
    assert window == "县里尚未公布财务窗口的地址和办理时间：请先向所在乡镇政府询问后再前往。"


def test_the_county_administrator_sets_them_in_the_admin(client, county, units):
    admin = make_staff("countyadmin", roles.ADMINISTRATOR, units["county_fp"])
    admin.is_staff = True  # as the admin's staff form sets it
    admin.save()
    assert (
        Group.objects.get(name=roles.ADMINISTRATOR)
        .permissions.filter(codename="change_county")
        .exists()
    )
    verified_client(client, admin)
    url = f"/admin/org/county/{county.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200
    assert "财务窗口地址" in page.content.decode()
    response = client.post(
        url,
        {
            "code": county.code,
            "name": county.name,
            "reward_payment_working_days": "10",
            "finance_window_address": ADDRESS,
            "finance_window_hours": HOURS,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    county.refresh_from_db()
    assert (county.reward_payment_working_days, county.finance_window_address) == (10, ADDRESS)
