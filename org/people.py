"""How pages, exports and the audit log name a staff member."""

import re

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def display_name(user) -> str:
    """The person's full name, family name first when it is written in Chinese ("张三"), else
    their user name; "—" for nobody (the system)."""
    if user is None:
        return "—"
    first = (getattr(user, "first_name", "") or "").strip()
    last = (getattr(user, "last_name", "") or "").strip()
    if first or last:
        if _HAN.search(first + last):
            return f"{last}{first}"
        return " ".join(part for part in (first, last) if part)
    return user.get_username()
