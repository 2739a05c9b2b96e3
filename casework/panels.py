"""Panels the apps above the case core add to the staff pages, registered from their
``AppConfig.ready()`` the way tipline/extensions.py takes the receipt page's sections: the staff
pages compose them without importing the apps (rewards: the case page's reward card, the report
page's eligibility marks, the home page's counts; assessment: the case page's repeat history and
falsification, the report page's repeat suggestions).

A provider gives the context its app's template reads, under the name the page's template
includes it by: ``provider(case, user)`` on the case page, ``provider(report, user)`` on the
report page, ``provider(user)`` on the home page. A report-page panel may suggest cases to link
the report to (``{"suggestions": [obj with .case, …]}``): the link form offers them first.
"""

from collections.abc import Callable

CASE, REPORT, HOME = "case", "report", "home"
_providers: dict[str, dict[str, Callable]] = {CASE: {}, REPORT: {}, HOME: {}}


def register(page: str, name: str, provider: Callable) -> None:
    """Register (or replace, so a second ready() is harmless) a panel of a staff page."""
    _providers[page][name] = provider


def context(page: str, *args) -> dict:
    """Every panel of the page, by name, for its template."""
    return {name: provider(*args) for name, provider in _providers[page].items()}


def suggested_cases(panels: dict) -> list:
    """The cases the report page's panels suggest linking the report to."""
    return [
        suggestion.case
        for panel in panels.values()
        if isinstance(panel, dict)
        for suggestion in panel.get("suggestions", ())
    ]
