"""Helpers for tests that hand the test database to another process (a worker, pg_dump)."""

from urllib.parse import quote

from django.db import connection


def database_url(name: str | None = None) -> str:
    """The URL of the database the tests run against (or of ``name`` on the same server)."""
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or ""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"  # IPv6 literal
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(name or db['NAME'], safe='')}"
