"""WTForms' attribute writer, the same output without its cost.

Every form field WTForms renders (an ``<input>``, its ``<label>``, a ``<select>`` and each of its
``<option>``\\s) writes its attributes with ``wtforms.widgets.html_params``, which formats each
one through ``Markup.format`` (Python's ``string.Formatter`` with escaping: ~10 us per attribute).
A field with its label costs ~100 us that way, and a form page such as the portal's "My details"
spent more than half its time there (measured: 17 fields, 5 ms of template in a 7 ms page).
``html_params`` below writes byte-for-byte the same text with plain string operations
(tests/test_fast_forms.py compares the two on many inputs); ``install`` puts it where WTForms
looks it up: the module function (select, textarea, option, label) and the ``html_params``
attribute of its input and button widgets.
"""
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.widgets import core

_ORIGINAL = core.html_params


def html_params(**kwargs):
    """``wtforms.widgets.html_params``: sorted attributes, ``True`` as a bare name, ``False``
    left out, everything else escaped (keys too, as WTForms' Markup formatting escapes them)."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = core.clean_key(key)
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            # escape() leaves a value with __html__ as it is; WTForms then quotes its '"'
            params.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


def install():
    """Make WTForms write attributes with ``html_params`` (idempotent)."""
    core.html_params = html_params  # Select, Option, TextArea, the list and table widgets
    widgets.html_params = html_params  # Label (wtforms.fields.core calls widgets.html_params)
    core.Input.html_params = staticmethod(html_params)  # every <input> widget
    core.Button.html_params = staticmethod(html_params)


def original_html_params(**kwargs):
    """WTForms' own writer, kept for the equivalence tests."""
    return _ORIGINAL(**kwargs)
