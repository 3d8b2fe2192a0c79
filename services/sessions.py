"""Server-side sign-in sessions: a row per session, so ending one really ends it."""
import datetime
import hashlib
import secrets

import models
from models import PortalAccount, StaffUser, UserSession
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


def _by_token(owner):
    return Prepared(lambda token_hash: UserSession.select(UserSession, owner).join(owner)
                    .where(UserSession.token_hash == token_hash).limit(1), Prepared.TEXT)


# Every signed-in request runs one of these: prepared, so its SQL is not rebuilt each time.
_BY_TOKEN = {"staff": _by_token(StaffUser), "customer": _by_token(PortalAccount)}


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
