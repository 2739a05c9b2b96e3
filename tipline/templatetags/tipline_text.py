from django import template

from tipline.text import shown_safely as _shown_safely

register = template.Library()


@register.filter(is_safe=True)
def shown_safely(value):
    """Escaped, with invisible and direction-changing characters made visible."""
    return _shown_safely(value)
