"""The real settings with a fast password hasher, for the SQLite server started by
tests/test_sqlite_server.py (its database options are exactly the production ones)."""

from config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
