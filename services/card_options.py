"""What the card list's forms offer (its filter panel, bulk bar and saved views) and the
segment form's, read in one query because the list is the back office's hot page."""
import json
from dataclasses import dataclass

import models
from models import CUSTOMER_STATUSES, StaffUser


_OPTIONS_SQL = (
    "SELECT 'tier', code, name_zh, name_en, NULL, NULL, -rank, id FROM tier"
    " UNION ALL SELECT 'staff', public_id, name, NULL, NULL, NULL, 0, id FROM staff_user"
    " WHERE is_active"
    " UNION ALL SELECT 'tag', name, NULL, NULL, NULL, NULL, 0, id FROM"
    " (SELECT name, id FROM tag ORDER BY name LIMIT 500) AS t"
    " UNION ALL SELECT 'purpose', code, name_zh, name_en, NULL, NULL, position, id"
    " FROM consent_purpose WHERE active"
    " UNION ALL SELECT 'field', key, label_zh, label_en, kind, CAST(choices AS TEXT), position,"
    " id FROM custom_field WHERE active AND NOT sensitive"
    " UNION ALL SELECT 'view', CAST(id AS TEXT), name, NULL, NULL, NULL, 0, id FROM saved_view"
    " WHERE staff_id = {param}"
    " UNION ALL SELECT 'list', public_id, name, NULL, NULL, NULL, 0, id FROM"
    " (SELECT public_id, name, id FROM segment WHERE kind = 'static' ORDER BY name LIMIT 500)"
    " AS s")


@dataclass
class Option:
    """A row of what the list's forms offer (a tier, staff member, tag, purpose, custom field
    or saved view), with the attribute names the templates read."""
    kind: str
    code: str
    name_zh: str
    name_en: str
    field_kind: str
    choices: list
    order: int
    id: int

    # the names templates use for each kind
    public_id = property(lambda self: self.code)
    key = property(lambda self: self.code)
    name = property(lambda self: self.name_zh)
    label_zh = property(lambda self: self.name_zh)
    label_en = property(lambda self: self.name_en)


def list_options(staff):
    """What the list's forms offer, in one query (the list is a hot page): tiers, active staff,
    tags, consent purposes, the custom fields the list filters on, the staff member's own
    saved views and the static lists (bulk "add to the list"), each kind in its order."""
    rows = models.db.execute_sql(_OPTIONS_SQL.format(param=models.db.param),
                                 (staff.id if staff else 0,)).fetchall()
    found = {"tier": [], "staff": [], "tag": [], "purpose": [], "field": [], "view": [],
             "list": []}
    for kind, code, zh, en, field_kind, choices, order, row_id in rows:
        found[kind].append(Option(kind, code, zh, en, field_kind,
                                  json.loads(choices) if choices else None, order, row_id))
    by_name = {"staff", "tag", "view", "list"}
    for kind, options in found.items():
        options.sort(key=(lambda o: (o.name_zh or o.code, o.id)) if kind in by_name
                     else (lambda o: (o.order, o.id)))
    return {"tiers": found["tier"], "staff": found["staff"],
            "tags": [o.code for o in found["tag"]], "purposes": found["purpose"],
            "fields": found["field"], "views": found["view"], "statuses": CUSTOMER_STATUSES,
            "lists": found["list"],
            # what the filters offer, as a cache key of the HTML that shows them
            "key": tuple(row for row in rows if row[0] not in ("view", "list"))}


def staff_name(public_id):
    """The name of the staff member with this public id, or None."""
    staff = StaffUser.get_or_none(StaffUser.public_id == public_id)
    return staff.name if staff else None
