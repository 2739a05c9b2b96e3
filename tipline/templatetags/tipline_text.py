from decimal import Decimal, InvalidOperation

from django import template

from tipline.text import shown_safely as _shown_safely

register = template.Library()


@register.filter(is_safe=True)
def shown_safely(value):
    """Escaped, with invisible and direction-changing characters made visible."""
    return _shown_safely(value)


@register.filter
def yuan(value):
    """An amount as people write it on a notice: 3000, 2500.50 (never 3000.00)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return value
    return f"{amount:.0f}" if amount == amount.to_integral_value() else f"{amount:.2f}"
