from django import template

from org.people import display_name

register = template.Library()


@register.filter
def person(user) -> str:
    """{{ case.investigator|person }}: full name, else user name, else "—"."""
    return display_name(user) if user else "—"
