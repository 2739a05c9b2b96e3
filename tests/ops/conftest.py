"""The named cast of the casework tests, for operations tests that sign staff in."""

from ..casework.conftest import cast, login, units  # noqa: F401
