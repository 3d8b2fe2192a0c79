"""Server-side sign-in sessions: a row per session, so ending one really ends it."""
import datetime
import hashlib
import secrets

import models
from models import Customer, PortalAccount, StaffUser, UserSession
from services.prepared import Prepared

# Writing last_seen_at on every request would make every page a write; a minute is fine-grained
# enough for an idle timeout counted in minutes.
TOUCH_EVERY = datetime.timedelta(seconds=60)


def _hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _owner_field(principal):
    if isinstance(principal, StaffUser):
        return UserSession.staff
    if isinstance(principal, PortalAccount):
        return UserSession.account
    raise TypeError(f"cannot sign in a {type(principal).__name__}")


def start(principal, ip=None, user_agent=None):
    """Open a session for a staff user or portal account; return the token for the cookie."""
    token = secrets.token_urlsafe(32)
    field = _owner_field(principal)
    with models.atomic():
        UserSession.create(token_hash=_hash(token), ip=ip, user_agent=(user_agent or "")[:255],
                           **{field.name: principal})
        type(principal).update(last_login_at=models.utcnow()).where(
            type(principal).id == principal.id).execute()
    return token


def _staff_by_token(token_hash):
    return (UserSession.select(UserSession, StaffUser).join(StaffUser)
            .where(UserSession.token_hash == token_hash).limit(1))


def _account_by_token(token_hash):
    # The account's card comes in the same query: nearly every portal page reads it, and the
    # interface language is the card's (accounts.preferred_language), so a lazy
    # ``account.customer`` would be a second query on every portal request.
    return (UserSession.select(UserSession, PortalAccount, Customer).join(PortalAccount)
            .join(Customer).where(UserSession.token_hash == token_hash).limit(1))


# Every signed-in request runs one of these: prepared, so its SQL is not rebuilt each time.
_BY_TOKEN = {"staff": Prepared(_staff_by_token, Prepared.TEXT),
             "customer": Prepared(_account_by_token, Prepared.TEXT)}


def resolve(token, kind, idle_minutes, absolute_hours, now=None):
    """The principal a session token belongs to, or None if it is unknown, ended or expired.

    ``kind`` is "staff" or "customer": a customer's token never opens the back office.
    """
    if not token or not isinstance(token, str) or len(token) > 128:
        return None
    now = now or models.utcnow()
    row = _BY_TOKEN["staff" if kind == "staff" else "customer"].first(_hash(token))  # the session and its owner in one query
    if row is None:
        return None
    expired = (now - row.last_seen_at > datetime.timedelta(minutes=idle_minutes)
               or now - row.created_at > datetime.timedelta(hours=absolute_hours))
    principal = row.staff if kind == "staff" else row.account
    if expired or principal is None or not principal.is_active:
        if expired:
            row.delete_instance()
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        UserSession.update(last_seen_at=now).where(UserSession.id == row.id).execute()
    return principal


def end(token):
    """Sign out one session (logout)."""
    if token:
        UserSession.delete().where(UserSession.token_hash == _hash(token)).execute()


def end_all(principal, keep_token=None):
    """Sign out every session of a principal (password change, deactivation), bar one."""
    field = _owner_field(principal)
    query = UserSession.delete().where(field == principal.id)
    if keep_token:
        query = query.where(UserSession.token_hash != _hash(keep_token))
    return query.execute()
