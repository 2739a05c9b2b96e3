"""Each role walks the pages it can reach from its links, in the demo county: starting from the
staff home, every same-site link in <main> is followed breadth first (at most PAGES_PER_ROLE
pages a role, at most PER_SHAPE pages of one shape such as /staff/cases/<id>/), and

(a) no link a person is shown answers 403, 404 or 500 (a person sees only links they may use);
(b) no <main> holds an English word or a raw code (the rule: tests/walk.py);
(c) every CSV or XLSX linked from those pages has a Chinese header row (and Chinese sheet names).

Logout, the admin site (its own pages, reached from the header) and links to POST-only views
are not followed. The English detector is first shown to find what it must.
"""

import re
from collections import deque
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.test import Client

from casework.management.commands.seed_demo import STAFF

from .casework.conftest import verified_client
from .walk import english_headers, english_words, read_main

PAGES_PER_ROLE = 40
PER_SHAPE = 3  # pages of one shape: /staff/cases/<id>/, /staff/cases/?…
ID = re.compile(r"/(?:\d+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/")
SKIP_PREFIXES = ("/staff/logout/", "/admin/", "/staff/login/", "/staff/otp/")
DOWNLOADS = {"text/csv": "csv", "application/vnd.openxmlformats-officedocument": "xlsx"}


# --- the detector itself --------------------------------------------------------------------


def test_the_detector_finds_a_planted_english_word_and_codes():
    html = (
        "<html><body><nav>Staff home</nav><main><h1>奖励台账</h1>"
        "<p>状态：paid</p><p>末位：bottom_band</p><p>Download 下载</p>"
        "<script>var proposed = 1;</script></main><footer>English footer</footer></body></html>"
    )
    text, _links = read_main(html)
    assert english_words(text) == ["bottom_band", "paid", "Download"]


def test_the_detector_lets_identifiers_and_formats_through():
    text = (
        "案件 ZHONGSHUI-2026-0004 凭证号 PZ-2026-001，下载 CSV · XLSX · PDF；TOTP 验证码；"
        "B超 200 KB；哈希 3f2a9c0d1e4b5a6f7788；密钥 JBSWY3DPEHPK3PXPJBSWY3DP；"
        "邮箱 clerk@example.invalid；2026-12-07 14:20"
    )
    assert english_words(text) == []
    assert english_words("回执号 1234 5678 9012 3456 (state: claimed)") == ["state", "claimed"]


def test_the_header_check_finds_an_english_header():
    assert english_headers("\ufeff月份,township,状态\r\n".encode(), "csv") == ["township"]
    assert english_headers("\ufeff月份,乡镇\r\n".encode(), "csv") == []


@pytest.mark.django_db
def test_the_public_pages_read_in_chinese(client, township):
    """The same rule on what a citizen reads (no staff walk reaches these pages)."""
    for url in ("/", "/report/", "/receipt/", "/receipt/verify/"):
        response = client.get(url)
        assert response.status_code == 200, url
        text, _links = read_main(response.content.decode())
        assert text.strip() and english_words(text) == [], (url, english_words(text))


# --- the walk --------------------------------------------------------------------------------


def _kind(response) -> str | None:
    ctype = response.get("Content-Type", "")
    for prefix, kind in DOWNLOADS.items():
        if ctype.startswith(prefix):
            return kind
    return None


def _body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def walk(client: Client) -> dict[str, list]:
    """Breadth first from /staff/; what was found wrong, by kind."""
    found = {"dead": [], "english": [], "headers": [], "pages": [], "files": []}
    queue = deque([("/staff/", "(start)")])
    seen = {"/staff/"}
    per_shape: dict[str, int] = {}
    while queue and len(found["pages"]) < PAGES_PER_ROLE:
        url, source = queue.popleft()
        response = client.get(url)
        if response.status_code in (301, 302):
            target = response["Location"]
            if target not in seen and not target.startswith(SKIP_PREFIXES):
                seen.add(target)
                queue.append((target, source))
            continue
        if response.status_code in (403, 404) or response.status_code >= 500:
            found["dead"].append((response.status_code, url, source))
            continue
        kind = _kind(response)
        if kind:
            found["files"].append(urlsplit(url).path)
            bad = english_headers(_body(response), kind)
            if bad:
                found["headers"].append((url, bad))
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue  # a PDF or a picture: not read here
        found["pages"].append(url)
        text, links = read_main(_body(response).decode())
        words = english_words(text)
        if words:
            found["english"].append((url, sorted(set(words))))
        for href in links:
            href = urldefrag(href)[0]
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path.startswith("/"):
                continue  # another site, a mailto, a fragment of this page
            if href.startswith(SKIP_PREFIXES) or href in seen:
                continue
            # Breadth before depth: a few of each kind of page (three cases, three filters of
            # a list), so every kind of page a role can reach fits in the budget.
            shape = ID.sub("/<id>/", parts.path) + ("?" if parts.query else "")
            if per_shape.get(shape, 0) >= PER_SHAPE:
                continue
            per_shape[shape] = per_shape.get(shape, 0) + 1
            seen.add(href)
            queue.append((href, url))
    return found


@pytest.fixture
def demo(db, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


@pytest.mark.slow  # seeds the whole demo county
def test_every_role_walks_its_pages_in_chinese_without_dead_links(demo, django_user_model):
    found_by, files = {}, {}
    for username in STAFF:
        user = django_user_model.objects.get(username=username)
        found = walk(verified_client(Client(), user))
        assert found["pages"], f"{username} reached no page"
        files[username] = set(found["files"])
        for kind in ("dead", "english", "headers"):
            for item in found[kind]:
                found_by.setdefault(username, []).append((kind, item))
    # The walk reaches the files people download, so (c) reads them.
    assert {"/staff/rewards/ledger.csv", "/staff/rewards/ledger.xlsx"} <= files["finance"]
    assert "/staff/audit/export.csv" in files["auditor"]
    # The sheet's inspector reaches the assessment exports too.
    assert "/staff/assessment/export.xlsx" in {urlsplit(f).path for f in files["inspector"]}
    assert not found_by, "\n".join(
        f"{user}:\n" + "\n".join(f"  {kind}: {item}" for kind, item in items)
        for user, items in found_by.items()
    )


@pytest.mark.django_db
def test_the_verify_page_quotes_the_signed_lines_as_code(client):
    html = client.get("/receipt/verify/").content.decode()
    assert "<code>TIPLINE RECEIPT v1</code>、<code>receipt-sha256</code> 的值" in html
