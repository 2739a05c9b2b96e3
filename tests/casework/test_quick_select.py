"""QuickSelect writes the markup Django's Select renders from its templates (the same options,
values, labels, escaping, selection and attributes), only faster."""

import re

import pytest
from django import forms
from django.utils.safestring import mark_safe

from casework.select_widget import QuickSelect

CHOICES = [
    ("", "Any"),
    ("x<'\"&", "X & <y> 'q' \"d\""),
    (7, mark_safe("<b>safe</b>")),
    ("群", [("g1", "中水镇"), ("g2", "西山镇")]),
]


class Both(forms.Form):
    plain = forms.ChoiceField(choices=CHOICES, required=False, help_text="help")
    quick = forms.ChoiceField(choices=CHOICES, required=False, help_text="help", widget=QuickSelect)
    typed = forms.TypedChoiceField(
        choices=[("", "All"), (3, "三"), (12, "十二")], coerce=int, required=False
    )
    typed_quick = forms.TypedChoiceField(
        choices=[("", "All"), (3, "三"), (12, "十二")],
        coerce=int,
        required=False,
        widget=QuickSelect,
    )


def tags(html: str) -> list:
    """The tags and texts, whitespace between tags dropped; each tag's attributes sorted."""
    out = []
    for tag, text in re.findall(r"(<[^>]+>)|([^<]+)", html):
        if tag:
            name, *attrs = re.findall(r'[^\s<>="]+(?:="[^"]*")?', tag)
            out.append((name, tuple(sorted(attrs))))
        elif text.strip():
            out.append(text)
    return out


@pytest.mark.parametrize(
    "data", [{}, {"plain": "g2"}, {"plain": "x<'\"&"}, {"plain": "7"}, {"plain": "nope"}]
)
def test_same_markup_as_djangos_select(data):
    data = {**data, "quick": data.get("plain", "")}
    form = Both(data)
    form.is_valid()
    plain = str(form["plain"]).replace("plain", "quick")
    quick = str(form["quick"])
    assert tags(quick) == tags(plain)
    assert "&lt;y&gt;" in quick and "<b>safe</b>" in quick and "<script" not in quick


@pytest.mark.parametrize("value", ["", "3", "12", "x"])
def test_typed_choices_select_the_same_option(value):
    form = Both({"typed": value, "typed_quick": value})
    form.is_valid()
    plain = str(form["typed"]).replace("typed", "typed_quick")
    assert tags(str(form["typed_quick"])) == tags(plain)
