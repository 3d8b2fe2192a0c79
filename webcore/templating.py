"""Template helpers: vendored asset URLs, labels, money and date formatting per locale, and a
cache for fragments that are the same for everyone with the same key."""
import json
import threading
from collections import OrderedDict

from flask import has_request_context, request

import config
from webcore import formatting, i18n, labels, urls

_MANIFEST = config.BASE_DIR / "static" / "vendor" / "MANIFEST.json"


def _vendor_paths():
    """{"bootstrap": {"bootstrap.min.css": "vendor/bootstrap-5.3.x/bootstrap.min.css"}, ...}"""
    paths = {}
    for entry in json.loads(_MANIFEST.read_text(encoding="utf-8")):
        for item in entry["files"]:
            paths.setdefault(entry["name"], {})[item["path"].rsplit("/", 1)[-1]] = item["path"]
    return paths


class FragmentCache:
    """``{% call cached_fragment("name", key...) %}...{% endcall %}``: the block rendered once
    per key, then its HTML reused.

    Only for blocks whose HTML follows from what the key names (a role, the page's endpoint,
    a count): never per-request data such as the CSRF token or what the user typed. The page's
    language and the app's mount point are always part of the key. Translations, the URL map
    and the permission matrix change only with a new release, that is a new process."""

    def __init__(self, size=1024):
        self.size = size
        self._html = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, *key, caller):
        if not has_request_context():
            return caller()
        key = (i18n.current_lang(), request.script_root, *key)
        html = self._html.get(key)
        if html is None:
            html = caller()
            with self._lock:
                self._html[key] = html
                if len(self._html) > self.size:
                    self._html.popitem(last=False)
        return html


# The macros of _macros/forms.html the layouts (templates/*/base.html) use.
LAYOUT_MACROS = ("post_button", "language_switcher", "flashes")


def init_app(app):
    vendor = _vendor_paths()
    template_url_for = app.extensions["cc_url_for"] = urls.UrlShapes()

    def vendor_url(name, filename):
        return template_url_for("static", filename=vendor[name][filename])

    def money(amount, currency=None):
        return formatting.money(amount, currency or app.config["CURRENCY"])

    def localized(obj, field):
        """obj.<field>_zh or obj.<field>_en, whichever the page's language is."""
        lang = i18n.current_lang()
        return getattr(obj, f"{field}_{lang}", None) or getattr(obj, f"{field}_zh", "")

    app.jinja_env.globals.update(url_for=template_url_for, vendor_url=vendor_url,
                                 localized=localized,
                                 label=labels.label, field_name=labels.field_name,
                                 current_lang=i18n.current_lang,
                                 cached_fragment=FragmentCache())
    app.jinja_env.filters.update(money=money, phone=formatting.phone,
                                 datetime=formatting.datetime_, date=formatting.date,
                                 number=formatting.number)
    # The layouts' widgets, as globals: a `{% from %}` import costs every page a template
    # lookup and a comparison of the globals; this is the same import (without context, as
    # `{% from %}` imports), done once.
    layout_macros = app.jinja_env.get_template("_macros/forms.html").module
    app.jinja_env.globals.update({name: getattr(layout_macros, name)
                                  for name in LAYOUT_MACROS})

