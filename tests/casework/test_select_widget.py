"""The search forms' township <select> is written in Python (a province's hundreds of options,
one template include each, were most of a list page's time): the HTML is Django's own, to the
character, whatever the value, the attributes, the escaping or the groups."""

import pytest
from django import forms

from casework.select_widget import QuickSelect

CHOICES = [
    ("", "All <yours>"),
    (5, "中水镇 & co"),
    (7, 'x"y'),
    ("G", [(1, "a"), (2, "b")]),
]


@pytest.mark.parametrize("value", ["", 5, "7", None, [1], "nowhere"])
@pytest.mark.parametrize(
    "attrs",
    [None, {"id": "id_t", "aria-describedby": "h", "required": True, "disabled": False}],
)
def test_the_same_html_as_django_s_select(value, attrs):
    ours = QuickSelect(choices=CHOICES).render("township", value, attrs)
    assert ours == forms.Select(choices=CHOICES).render("township", value, attrs)


def test_a_bound_field_with_an_error_renders_the_same(db):
    class Form(forms.Form):
        township = forms.TypedChoiceField(
            choices=CHOICES[:3], coerce=int, help_text="help", widget=QuickSelect
        )

    class Plain(Form):
        township = forms.TypedChoiceField(choices=CHOICES[:3], coerce=int, help_text="help")

    for data in ({"township": "99"}, {"township": "5"}, {}):
        ours, theirs = Form(data), Plain(data)
        ours.is_valid(), theirs.is_valid()
        assert str(ours["township"]) == str(theirs["township"])
