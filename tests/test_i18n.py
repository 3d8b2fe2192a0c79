"""Translations: the zh catalogue covers every message in the source, keeps its placeholders,
the committed .mo files match their .po, and the app really serves the zh catalogue.

What is translatable is decided by babel.cfg alone: this test parses it, as
``scripts/i18n.sh extract`` does, and extracts from the current source with Babel's API.
"""
import io
import os
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from webcore.i18n import LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
LOCALES = LANGUAGES  # what the locale selector can return: "zh" and "en"
FIX = ("run `scripts/i18n.sh extract update`, translate the empty msgstr entries in "
       "translations/zh/LC_MESSAGES/messages.po, then run `scripts/i18n.sh compile`")

# printf-style conversions: %(name)s, %(count)d, %s ... ("%%" is a literal percent sign).
PLACEHOLDER_RE = re.compile(r"%(?:\(\w+\))?[-#0 +]*(?:\*|\d+)?(?:\.\d+)?[diouxXeEfFgGcrsa%]")


def po_path(locale):
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def mo_path(locale):
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo"


def load_po(locale):
    path = po_path(locale)
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: {FIX}"
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _keep_directory(path):
    """The directories scripts/i18n.sh scans (--ignore-dirs='.* __pycache__'): unlike Babel's
    default, this keeps "_*" directories such as templates/_macros."""
    name = os.path.basename(path)
    return not (name.startswith(".") or name == "__pycache__")


def extract_source_messages():
    """{(msgid, context): ["file:line", ...]} for every message in the current source."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    found = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS,
            directory_filter=_keep_directory):
        msgid = message[0] if isinstance(message, (tuple, list)) else message
        if msgid:
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def placeholders(text):
    return {p for p in PLACEHOLDER_RE.findall(text or "") if p != "%%"}


def as_forms(value):
    return list(value) if isinstance(value, (tuple, list)) else [value]


def test_one_catalogue_per_selectable_language():
    # Named exactly as the selector's codes ("zh", not "zh_CN"), one .po and .mo each.
    found = sorted(p.name for p in TRANSLATIONS.iterdir() if p.is_dir())
    assert found == sorted(LOCALES), f"catalogue directories {found}, expected {sorted(LOCALES)}"
    for locale in LOCALES:
        assert po_path(locale).is_file() and mo_path(locale).is_file(), f"{locale}: {FIX}"


def test_babel_cfg_covers_the_source_and_templates():
    found = extract_source_messages()
    places = {place.split(":")[0] for where in found.values() for place in where}
    for prefix in ("templates/", "templates/_macros/", "webcore/", "services/", "backoffice/"):
        assert any(p.startswith(prefix) for p in places), f"nothing extracted from {prefix}"


def test_every_source_message_has_a_zh_translation():
    catalog = load_po("zh")
    missing = []
    for (msgid, context), where in sorted(extract_source_messages().items(),
                                          key=lambda item: item[0][0]):
        entry = catalog.get(msgid, context=context)
        if entry is None or entry.fuzzy or not all(as_forms(entry.string)):
            state = "missing" if entry is None else "fuzzy" if entry.fuzzy else "untranslated"
            missing.append(f"  {msgid!r} ({state}; {', '.join(where[:3])})")
    assert not missing, (
        f"{len(missing)} message(s) without a zh translation:\n" + "\n".join(missing)
        + f"\nTo fix: {FIX}.")


def test_zh_catalogue_has_no_fuzzy_entries():
    fuzzy = [m.id for m in load_po("zh") if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy entries in the zh catalogue (check and clear them): {fuzzy}"


def test_zh_translations_keep_the_placeholders():
    wrong = []
    for message in load_po("zh"):
        if not message.id:
            continue
        ids = as_forms(message.id)
        expected = placeholders(ids[-1]) | (placeholders(ids[0]) if len(ids) == 1 else set())
        for form in as_forms(message.string):
            if form and placeholders(form) != expected:
                wrong.append(f"  {ids[0]!r} -> {form!r}: expected {sorted(expected)}, "
                             f"got {sorted(placeholders(form))}")
    assert not wrong, "zh translations whose placeholders differ from the msgid:\n" + "\n".join(wrong)


def _mo_messages(fileobj):
    """{(msgid, context): msgstr} of a compiled catalogue, without the header entry."""
    return {(m.id if isinstance(m.id, str) else tuple(m.id), m.context):
            (m.string if isinstance(m.string, str) else tuple(m.string))
            for m in read_mo(fileobj) if m.id}


@pytest.mark.parametrize("locale", LOCALES)
def test_compiled_catalogue_is_up_to_date(locale):
    path = mo_path(locale)
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: run `scripts/i18n.sh compile`"
    expected = io.BytesIO()
    write_mo(expected, load_po(locale), use_fuzzy=False)
    expected.seek(0)
    with path.open("rb") as f:
        compiled = _mo_messages(f)
    assert compiled == _mo_messages(expected), (
        f"{path.relative_to(ROOT)} is out of date with its .po: run `scripts/i18n.sh compile`")


@pytest.mark.parametrize("accept, default, expected, html_lang", [
    ("zh-CN,zh;q=0.9", "en", "登录您的客户资料卡", "zh-CN"),
    ("en-US,en;q=0.9", "zh", "Sign in to your customer card", "en"),
])
def test_locale_selector_serves_the_catalogue(request, settings, accept, default, expected,
                                              html_lang):
    # The default locale is the other language, so the page text must come from the selector
    # (Accept-Language) and, for zh, from translations/zh: no catalogue, no Chinese.
    settings["BABEL_DEFAULT_LOCALE"] = default
    client = request.getfixturevalue("client")  # the app is built after the change above
    response = client.get("/login", headers={"Accept-Language": accept})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert expected in page
    assert f'<html lang="{html_lang}">' in page


def test_staff_sign_in_page_is_translated(client):
    page = client.get("/staff/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "员工登录" in page and "Staff sign-in" not in page
