"""What the cross-role walk reads: the text and links of a page's <main>, the English rule, and
the first row of a downloaded CSV or XLSX.

The English rule (what a Chinese reader must never meet in <main>):
- a snake_case token (``bottom_band``, ``view_report``) is a code, always a violation;
- an ASCII word of three or more letters is English (``proposed``, ``Download``, ``supervisor``)
  unless it is on the allowlist of file formats and acronyms people use as they are
  (``ALLOWED``: PDF, CSV, XLSX, TOTP, PNG, SHA, …);
- machine text quoted as it is, in ``<pre>`` or ``<code>`` (a public key, a line of a file
  format), is copied, not read, and left out;
- before looking, identifiers people read as they are, not as words, are taken out: case and
  voucher numbers (``ZHONGSHUI-2026-0004``, ``PZ-2026-001``), hashes and keys (long runs of
  hex or base32), e-mail addresses and URLs.
Words of one or two letters (``B超``, ``KB``) and digits are not English words.
"""

import csv
import io
import re
from html.parser import HTMLParser

from openpyxl import load_workbook

ALLOWED = frozenset(
    {"PDF", "CSV", "XLSX", "TOTP", "PNG", "JPEG", "JPG", "JSON", "SMS", "CNY", "HTTPS", "URL"}
    | {"SHA"}  # SHA-256, named on the verify page
)
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
IDENTIFIERS = re.compile(
    r"[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*-\d{2,}(?:-\d+)*"  # ZHONGSHUI-2026-0004, PZ-2026-001
    r"|\b[0-9a-fA-F]{16,}\b"  # hashes
    r"|\b[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}\b"  # row ids (a record's, in the audit log)
    r"|\b[A-Z2-7]{16,}\b"  # base32 keys (the authenticator's secret)
    r"|\S+@\S+"  # e-mail addresses
    r"|https?://\S+"
)
SNAKE = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+\b")
WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str) -> list[str]:
    """The snake_case tokens and English words of ``text`` (see the module's rule)."""
    text = IDENTIFIERS.sub(" ", text)
    found = SNAKE.findall(text)
    text = SNAKE.sub(" ", text)
    found += [w for w in WORD.findall(text) if w not in ALLOWED]
    return found


class MainPart(HTMLParser):
    """The visible text and the links (href) inside <main>, leaving out scripts and styles."""

    # Not read: scripts, and machine text quoted as it is (a key in <pre>, a format's line in
    # <code>), which a person copies rather than reads.
    SKIP = {"script", "style", "template", "pre", "code"}
    VOID = {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr", "source"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside <main> when > 0
        self.skipping = 0
        self.text: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth += 1
            return
        if not self.depth:
            return
        if tag in self.SKIP:
            self.skipping += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag == "main" and self.depth:
            self.depth -= 1
        elif self.depth and tag in self.SKIP and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if self.depth and not self.skipping:
            self.text.append(data)


def read_main(html: str) -> tuple[str, list[str]]:
    parser = MainPart()
    parser.feed(html)
    return " ".join(parser.text), parser.links


def first_row(content: bytes, kind: str) -> list[list[str]]:
    """The header row of each sheet (a CSV has one sheet)."""
    if kind == "csv":
        text = content.decode("utf-8-sig")
        return [next(csv.reader(io.StringIO(text)), [])]
    book = load_workbook(io.BytesIO(content), read_only=True)
    rows = []
    for sheet in book.worksheets:
        header = next(sheet.iter_rows(max_row=1, values_only=True), ())
        rows.append(["" if v is None else str(v) for v in header])
    return rows


def english_headers(content: bytes, kind: str) -> list[str]:
    """Header cells without a Chinese character, and sheet names in English."""
    bad = [cell for row in first_row(content, kind) for cell in row if not CJK.search(cell)]
    if kind == "xlsx":
        book = load_workbook(io.BytesIO(content), read_only=True)
        bad += [f"sheet {name}" for name in book.sheetnames if not CJK.search(name)]
    return bad
