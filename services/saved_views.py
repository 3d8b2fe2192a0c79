"""Saved views of the card list: a staff member's own named filters (query-string pairs),
saved, replaced by name, opened and deleted; each write audited."""
import models
from models import SavedView
from services import N_, DomainError, audit

VIEW_NAME_MAX = 100


def save_view(staff, name, filters, actor):
    """Save (or replace, by name) the staff member's view of these filters."""
    name = (name or "").strip()
    if not name:
        raise DomainError(N_("Give the view a name."), "name")
    if len(name) > VIEW_NAME_MAX:
        raise DomainError(N_("Use at most %(num)s characters."), "name", num=VIEW_NAME_MAX)
    query = [[k, v] for k, v in filters.as_query()]
    with models.atomic():
        view = SavedView.get_or_none(SavedView.staff == staff, SavedView.name == name)
        before = None if view is None else {"query": view.query}
        if view is None:
            view = SavedView.create(staff=staff, name=name, query=query)
        else:
            view.query = query
            view.save()
        audit.record(actor, "saved_view.save", "saved_view", view.id, before=before,
                     after={"name": name, "query": query})
    return view


def delete_view(staff, view_id, actor):
    """Delete one of the staff member's own views (another's is "not found")."""
    with models.atomic():
        view = SavedView.get_or_none(SavedView.id == view_id, SavedView.staff == staff)
        if view is None:
            raise DomainError(N_("There is no such saved view."))
        audit.record(actor, "saved_view.delete", "saved_view", view.id,
                     before={"name": view.name, "query": view.query})
        view.delete_instance()


def get_view(staff, view_id):
    return SavedView.get_or_none(SavedView.id == view_id, SavedView.staff == staff)
