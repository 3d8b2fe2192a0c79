"""webcore.html escapes exactly as Jinja's autoescape (markupsafe) does, in bulk too, and
falls back to one by one when a text holds the NUL it joins on."""
from markupsafe import escape

from webcore.html import escape_all, escape_text

TEXTS = ["", "plain", "<b>&\"'</b>", "张伟 <i>", "a\x00b", "&amp;", 12, "\n\t>"]


def test_the_same_as_markupsafe():
    for text in TEXTS:
        assert escape_text(text) == str(escape(text))
    assert escape_all(TEXTS) == [str(escape(text)) for text in TEXTS]
    assert escape_all([t for t in TEXTS if "\x00" not in str(t)]) == [
        str(escape(t)) for t in TEXTS if "\x00" not in str(t)]
    assert escape_all([]) == []
