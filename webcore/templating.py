"""Template helpers: vendored asset URLs, labels, money and date formatting per locale."""
import json

from flask import url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

import config
from webcore import formatting

CONTACT_LABELS = {"email": _l("Email"), "mobile": _l("Mobile"), "phone": _l("Phone"),
                  "wechat": _l("WeChat"), "social": _l("Social")}
STATUS_LABELS = {"prospect": _l("Prospect"), "active": _l("Active"), "dormant": _l("Dormant"),
                 "lost": _l("Lost")}
MAIL_STATUS_LABELS = {"queued": _l("Queued"), "sent": _l("Sent"), "failed": _l("Failed")}
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
                                 contact_label=lambda kind: CONTACT_LABELS.get(kind, kind),
                                 status_label=lambda status: STATUS_LABELS.get(status, status),
                                 mail_status_label=lambda s: MAIL_STATUS_LABELS.get(s, s),
                                 current_lang=lambda: str(get_locale() or "zh")[:2])
    app.jinja_env.filters.update(money=money, phone=formatting.phone,
                                 datetime=formatting.datetime_, date=formatting.date,
                                 number=formatting.number)

