"""webcore.fastforms: WTForms' attribute writer replaced by one that writes the same text."""
import random
import string

import pytest
from markupsafe import Markup
from wtforms import (BooleanField, EmailField, Form, PasswordField, SelectChoice, SelectField,
                     SelectMultipleField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import core

from webcore import fastforms

VALUES = [True, False, None, 0, 1, 100, 3.5, "", "plain", 'say "hi"', "a<b>&c'd", "张伟",
          Markup("<b>kept</b>"), Markup('has "quotes"'), "\x01ctl", "tab\there", "😀"]
KEYS = ["class_", "id", "name", "value", "data_hx_get", "aria_describedby", "for_", "type",
        "autocomplete", "required", "maxlength", "hx-post", "data-x", "a&b", 'q"k', "placeholder"]


@pytest.mark.parametrize("seed", range(300))
def test_writes_exactly_what_wtforms_writes(seed):
    rng = random.Random(seed)
    keys = rng.sample(KEYS, rng.randint(0, len(KEYS)))
    kwargs = {k: rng.choice(VALUES + ["".join(rng.choices(string.printable, k=8))])
              for k in keys}
    ours, theirs = fastforms.html_params(**kwargs), fastforms.original_html_params(**kwargs)
    assert type(ours) is Markup
    assert str(ours) == str(theirs), kwargs


class Everything(Form):
    name = StringField("Name <b>", validators=[DataRequired(), Length(max=100)])
    email = EmailField("Email", validators=[Optional()])
    secret = PasswordField("Password")
    agree = BooleanField("Agree & go")
    notes = TextAreaField("Notes")
    pick = SelectField("Pick", choices=[SelectChoice("a", "A & a"),
                                         SelectChoice("b", '"B"'), SelectChoice("c", "张")])
    many = SelectMultipleField("Many", choices=[SelectChoice("x", "X"),
                                                SelectChoice("y", "Y")])


def _render_all(form):
    return [str(field(class_="form-control", data_test='v"1', aria_describedby="h"))
            + str(field.label(class_="form-label")) for field in form]


def test_installed_it_renders_every_kind_of_field_as_wtforms_does(app):
    """``build_app`` installs it; rendering with WTForms' own writer gives the same page."""
    assert core.html_params is fastforms.html_params
    form = Everything(data={"name": 'O"Neil <x>', "email": "a@b.cn", "agree": True,
                            "notes": "</textarea>", "pick": "b", "many": ["x", "y"]})
    fast = _render_all(form)
    saved = (core.html_params, core.Input.html_params, core.Button.html_params)
    try:
        core.html_params = fastforms.original_html_params
        core.Input.html_params = staticmethod(fastforms.original_html_params)
        import wtforms.widgets
        wtforms.widgets.html_params = fastforms.original_html_params
        slow = _render_all(form)
    finally:
        fastforms.install()
        assert (core.html_params, core.Input.html_params) == saved[:2]
    assert fast == slow
    assert 'maxlength="100"' in fast[0] and "required" in fast[0]
    assert "O&#34;Neil &lt;x&gt;" in fast[0]
