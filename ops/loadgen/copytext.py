"""Rows as lines of PostgreSQL's COPY text format, built in Python in one pass.

psycopg's write_row adapts value by value through its type machinery; formatting each line
ourselves (tab-separated, \\N for NULL, backslash escapes) and sending one large block per table
is several times cheaper, and the generator's values are few simple types.
"""

import json
import uuid
from datetime import date, datetime
from decimal import Decimal

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text(value: str) -> str:
    # Almost no value needs escaping; the membership tests are far cheaper than translate.
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def _json(value) -> str:
    return text(json.dumps(value, ensure_ascii=False))


_FORMAT = {
    str: text,
    int: str,
    Decimal: str,
    float: repr,
    bool: lambda v: "t" if v else "f",
    uuid.UUID: str,
    datetime: datetime.isoformat,  # aware datetimes carry their offset
    date: date.isoformat,
    bytes: lambda v: "\\\\x" + v.hex(),  # bytea hex form; the backslash escaped for COPY
    dict: _json,
    list: _json,
}


def _base(v):
    """The format of a subclass (TextChoices members are str): its nearest known base, cached."""
    fmt = _FORMAT[v.__class__] = next(_FORMAT[c] for c in v.__class__.__mro__ if c in _FORMAT)
    return fmt


def line(row) -> str:
    get = _FORMAT.get
    return "\t".join([NULL if v is None else (get(v.__class__) or _base(v))(v) for v in row]) + "\n"
