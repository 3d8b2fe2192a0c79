"""The card list's rows as HTML, built in one pass (the list's heaviest loop: through the
template each of 50 rows cost a dozen filter and function calls)."""
from flask import current_app
from markupsafe import Markup

from webcore import formatting, i18n, labels
from webcore.html import escape_all
from webcore.urls import fast_url_for

_HOLE = "CCROWHOLE"


def rows_html(rows, editing):
    """``<tr>`` per ``services.card_list.ListRow``, as ``_results.html`` shows them: a tick
    box (when ``editing``), name linking to the card with the alias and company, mobile, email,
    tier badge, status, city, last contact, total spend. Every text escaped."""
    if not rows:
        return Markup("")
    lang, currency = i18n.current_lang(), current_app.config["CURRENCY"]
    card_url = fast_url_for("card.detail", public_id=_HOLE)
    select_label = i18n.gettext("Select %(name)s", name=_HOLE)
    texts = []
    for c in rows:
        tier = c.tier
        texts += (c.public_id, c.name, c.alt_name or "", c.company or "",
                  formatting.phone(c.primary_mobile), c.primary_email or "",
                  tier.code if tier is not None else "",
                  (getattr(tier, f"name_{lang}", None) or tier.name_zh)
                  if tier is not None else "",
                  c.status, labels.label("status", c.status), c.city or "",
                  formatting.date(c.last_contact_at) if c.last_contact_at else "",
                  formatting.money(c.total_spend, currency))
    escaped = escape_all(texts)
    url_start, url_end = escape_all(card_url.split(_HOLE, 1))
    label_start, label_end = escape_all(select_label.split(_HOLE, 1))
    parts = []
    for i in range(0, len(escaped), 13):
        (public_id, name, alt_name, company, mobile, email, tier_code, tier_name, status,
         status_label, city, last_contact, spend) = escaped[i:i + 13]
        parts.append("<tr>\n  ")
        if editing:
            parts.append(f'<td><input class="form-check-input" type="checkbox" name="ids" '
                         f'value="{public_id}" form="bulk-form" '
                         f'aria-label="{label_start}{name}{label_end}"></td>')
        parts.append(f'\n  <td><a href="{url_start}{public_id}{url_end}">{name}</a>')
        if alt_name:
            parts.append(f' <span class="text-body-secondary">({alt_name})</span>')
        if company:
            parts.append(f' <span class="text-body-secondary small">· {company}</span>')
        parts.append(f'</td>\n  <td class="text-nowrap">{mobile}</td>\n'
                     f'  <td class="text-truncate bo-col-email">{email}</td>\n  <td>')
        if tier_code or tier_name:
            parts.append(f'<span class="badge tier-badge" data-tier="{tier_code}">'
                         f'{tier_name}</span>')
        parts.append(f'</td>\n  <td class="text-nowrap"><span class="status-dot '
                     f'status-{status}"></span> {status_label}</td>\n  <td>{city}</td>\n'
                     f'  <td class="text-nowrap">{last_contact}</td>\n'
                     f'  <td class="text-end text-nowrap">{spend}</td>\n</tr>\n')
    return Markup("".join(parts))
