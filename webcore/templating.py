"""Template helpers: vendored asset URLs, labels, money and date formatting per locale."""
import json

from flask import url_for
from flask_babel import get_locale

import config
from webcore import formatting, labels

_MANIFEST = config.BASE_DIR / "static" / "vendor" / "MANIFEST.json"


def _vendor_paths():
    """{"bootstrap": {"bootstrap.min.css": "vendor/bootstrap-5.3.x/bootstrap.min.css"}, ...}"""
    paths = {}
    for entry in json.loads(_MANIFEST.read_text(encoding="utf-8")):
        for item in entry["files"]:
            paths.setdefault(entry["name"], {})[item["path"].rsplit("/", 1)[-1]] = item["path"]
    return paths


def init_app(app):
    vendor = _vendor_paths()

    def vendor_url(name, filename):
        return url_for("static", filename=vendor[name][filename])

    def money(amount, currency=None):
        return formatting.money(amount, currency or app.config["CURRENCY"])

    def localized(obj, field):
        """obj.<field>_zh or obj.<field>_en, whichever the page's language is."""
        lang = str(get_locale() or "zh")[:2]
        return getattr(obj, f"{field}_{lang}", None) or getattr(obj, f"{field}_zh", "")

    app.jinja_env.globals.update(vendor_url=vendor_url, localized=localized,
                                 label=labels.label, field_name=labels.field_name,
                                 current_lang=lambda: str(get_locale() or "zh")[:2])
    app.jinja_env.filters.update(money=money, phone=formatting.phone,
                                 datetime=formatting.datetime_, date=formatting.date,
                                 number=formatting.number)

