"""Hooks through which the layers above show the reporter what they own, without the public
intake importing them (casework registers into these from its AppConfig.ready()).

- A *status section* renders a block of the receipt page for one report: ``render(request,
  report, receipt) -> str`` (safe HTML) or "" for nothing.
- A *next-steps provider* adds sentences to "what happens next" on the receipt page:
  ``lines(report) -> list[str]`` (plain text, in the active language), e.g. the case's decision
  deadline or how to claim an offered reward.
- A *public form* registered here lends its field labels to the page that keeps what a citizen
  typed when the request could not be completed (the database or the disk failed).
- A *reward terms provider* says what the reward policy in force promises, for the public pages
  (``terms() -> list[RewardTerms]``, one per county, or one for all when they agree). The public
  pages print no amount of their own: without a provider they name none.
- A *status provider* derives the one status the reporter reads from the report and what the
  layers above know of it (its case, its reward): ``status(report) -> (code, label)``. Without
  one, the report's own status is shown.
- An *API status field* adds one key to ``POST /api/v1/receipt/status``: ``value(report)`` gives
  its JSON value (None → null) and ``schema`` its OpenAPI schema, so the document stays as strict
  as the server.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

_sections: dict[str, Callable] = {}
_fields: dict[str, "StatusField"] = {}
_next_steps: dict[str, Callable] = {}
_forms: list[type] = []
_reward_terms: dict[str, Callable] = {}
_status: list[Callable] = []


@dataclass(frozen=True)
class RewardTerms:
    """What a reward policy in force promises: its standard amount, the highest amount any
    kind of case or outcome may earn, and whether amounts differ by kind and outcome."""

    where: str  # a county's name; "" when the terms hold everywhere
    amount: Decimal
    highest: Decimal
    varies: bool

    @property
    def above_standard(self) -> bool:
        return self.highest > self.amount


def register_reward_terms(name: str, terms: Callable) -> None:
    """Register (or replace) the provider of the reward terms the public pages state."""
    _reward_terms[name] = terms


def reward_terms() -> list[RewardTerms]:
    return [t for terms in _reward_terms.values() for t in terms()]


@dataclass(frozen=True)
class StatusField:
    name: str
    value: Callable  # (report) -> JSON-serialisable value or None
    schema: dict


def register_status_section(name: str, render: Callable) -> None:
    """Register (or replace, so a second ready() is harmless) a receipt-page section."""
    _sections[name] = render


def register_status(provider: Callable) -> None:
    """Register (or replace: there is one status) the provider of the reporter's status."""
    _status[:] = [provider]


def status(report) -> tuple[str, str]:
    """(code, label) of the one status the reporter reads."""
    if _status:
        return _status[0](report)
    return report.status, str(report.get_status_display())


def register_next_steps(name: str, lines: Callable) -> None:
    """Register (or replace) a provider of "what happens next" sentences."""
    _next_steps[name] = lines


def next_steps(report) -> list[str]:
    return [line for lines in _next_steps.values() for line in lines(report)]


def register_status_field(field: StatusField) -> None:
    _fields[field.name] = field


def status_sections(request, report, receipt) -> list[str]:
    return [html for render in _sections.values() if (html := render(request, report, receipt))]


def status_fields() -> list[StatusField]:
    return list(_fields.values())


def register_public_form(form_class: type) -> None:
    """Register (once) a public form whose typed fields are kept when a request fails."""
    if form_class not in _forms:
        _forms.append(form_class)


def public_forms() -> list[type]:
    return list(_forms)
