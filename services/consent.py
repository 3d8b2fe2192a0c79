"""Consent: an append-only ledger per customer and purpose, double opt-in for email marketing,
one-click unsubscribe (RFC 8058), and the customer's own history, also as a CSV for Excel.

The current state of a purpose is its latest ledger row. A grant under an older policy version
than the purpose's current one must be renewed and does not count for sending.
"""
import csv
import datetime
import io
import re
from functools import lru_cache
from typing import NamedTuple

from babel.support import Translations
from peewee import JOIN, fn

import config
import models
from models import ConsentEvent, ConsentPolicy, ConsentPurpose, LinkToken, PortalAccount
from services import N_, DomainError, audit, links, mail
from services.actors import Actor

SOURCES = ("portal", "staff", "import", "link", "unsubscribe", "survey")
SOURCE_LABELS = {"portal": N_("Customer portal"), "staff": N_("Staff"), "import": N_("Import"),
                 "link": N_("Emailed link"), "unsubscribe": N_("Unsubscribe link"),
                 "survey": N_("Survey")}
ACTION_LABELS = {True: N_("Granted"), False: N_("Withdrawn")}
CSV_HEADER = (N_("Time (UTC)"), N_("Purpose"), N_("Action"), N_("Policy version"),
              N_("Source"), N_("IP address"))
EMAIL_MARKETING = "email_marketing"


class PurposeState(NamedTuple):
    """One purpose as the customer stands with it now."""
    purpose: ConsentPurpose
    granted: bool | None  # None: never asked
    version: int | None  # the policy version of the latest event
    needs_renewal: bool  # granted under an older policy version
    pending_optin: bool  # a double opt-in link is out, not used yet

    @property
    def status(self):
        """granted / pending / renew / withdrawn / never, as the consent centre shows it."""
        if self.granted and not self.needs_renewal:
            return "granted"
        if self.pending_optin:
            return "pending"
        if self.granted:
            return "renew"
        return "never" if self.granted is None else "withdrawn"


def find_purpose(code):
    """The active purpose with this code, or None."""
    return ConsentPurpose.get_or_none(ConsentPurpose.code == code,
                                      ConsentPurpose.active == True)  # noqa: E712


def _purpose(code):
    purpose = find_purpose(code)
    if purpose is None:
        raise DomainError(N_("There is no such consent purpose."))
    return purpose


def _newest_first():
    return (ConsentEvent.created_at.desc(), ConsentEvent.id.desc())


def current_state(customer):
    """Every active purpose, by position, with the customer's state (one query for the ledger)."""
    rank = fn.ROW_NUMBER().over(partition_by=[ConsentEvent.purpose], order_by=_newest_first())
    latest = (ConsentEvent.select(ConsentEvent.purpose, ConsentEvent.granted,
                                  ConsentEvent.policy_version, rank.alias("recency"))
              .where(ConsentEvent.customer == customer).alias("latest"))
    rows = (ConsentPurpose
            .select(ConsentPurpose, latest.c.granted.alias("latest_granted"),
                    latest.c.policy_version.alias("latest_version"))
            .join(latest, JOIN.LEFT_OUTER, on=((latest.c.purpose_id == ConsentPurpose.id)
                                                & (latest.c.recency == 1)))
            .where(ConsentPurpose.active == True)  # noqa: E712
            .order_by(ConsentPurpose.position, ConsentPurpose.id).objects())
    pending = _pending_optins(customer)
    states = []
    for purpose in rows:
        granted = None if purpose.latest_granted is None else bool(purpose.latest_granted)
        states.append(PurposeState(
            purpose, granted, purpose.latest_version,
            bool(granted) and purpose.latest_version < purpose.current_version,
            purpose.code in pending))
    return states


def consent_centre(customer):
    """[(PurposeState, its current ConsentPolicy or None)] for the portal's consent centre."""
    policies = {policy.purpose_id: policy for policy in (
        ConsentPolicy.select().join(ConsentPurpose)
        .where(ConsentPolicy.version == ConsentPurpose.current_version,
               ConsentPurpose.active == True))}  # noqa: E712
    return [(state, policies.get(state.purpose.id)) for state in current_state(customer)]


def has_consent(customer_id, purpose_code):
    """Whether a message for this purpose may be sent now: latest event granted, current policy."""
    latest = (ConsentEvent.select(ConsentEvent.granted, ConsentEvent.policy_version,
                                  ConsentPurpose.current_version)
              .join(ConsentPurpose)
              .where(ConsentEvent.customer == customer_id, ConsentPurpose.code == purpose_code,
                     ConsentPurpose.active == True)  # noqa: E712
              .order_by(*_newest_first()).objects().first())
    return bool(latest and latest.granted and latest.policy_version >= latest.current_version)


def granted_sql(customer_column):
    """``has_consent``'s rule as SQL over ``customer_column`` (a correlated subquery): true
    when the latest event for the purpose is a grant under its current policy, false when not,
    NULL when never asked. Its parameters: ``granted_sql_params(purpose_code)``."""
    p = models.db.param
    return ("SELECT e.granted AND e.policy_version >= pp.current_version FROM consent_event e "
            "JOIN consent_purpose pp ON pp.id = e.purpose_id "
            f"WHERE e.customer_id = {customer_column} AND pp.code = {p} AND pp.active "
            "ORDER BY e.created_at DESC, e.id DESC LIMIT 1")


def granted_sql_params(purpose_code):
    return (purpose_code,)


def consenting(customer_ids, purpose_code):
    """The subset of ``customer_ids`` that ``has_consent`` now, in one query (campaign batches)."""
    ids = list(customer_ids)
    if not ids:
        return set()
    rows = (ConsentEvent.select(ConsentEvent.customer, ConsentEvent.granted,
                                ConsentEvent.policy_version, ConsentPurpose.current_version)
            .join(ConsentPurpose)
            .where(ConsentEvent.customer.in_(ids), ConsentPurpose.code == purpose_code,
                   ConsentPurpose.active == True)  # noqa: E712
            .order_by(*_newest_first()).tuples())
    latest = {}
    for customer_id, granted, version, current in rows:
        latest.setdefault(customer_id, granted and version >= current)
    return {customer_id for customer_id, ok in latest.items() if ok}


def _latest(customer, purpose):
    return (ConsentEvent.select()
            .where(ConsentEvent.customer == customer, ConsentEvent.purpose == purpose)
            .order_by(*_newest_first()).first())


def _snapshot(purpose, event):
    if event is None:
        return {"purpose": purpose.code, "granted": None}
    return {"purpose": purpose.code, "granted": event.granted,
            "policy_version": event.policy_version, "source": event.source}


def _append(customer, purpose, granted, version, actor, source, ip, user_agent, before):
    """Write one ledger row and its audit event (inside the caller's transaction)."""
    if source not in SOURCES:
        raise ValueError(f"unknown consent source {source!r}")
    event = ConsentEvent.create(
        customer=customer, purpose=purpose, granted=granted, policy_version=version,
        source=source, actor_kind=actor.kind, actor_id=actor.id,
        ip=(ip or actor.ip or "")[:64] or None,
        user_agent=(user_agent or actor.user_agent or "")[:255] or None)
    audit.record(actor, "consent.grant" if granted else "consent.withdraw", "consent_event",
                 event.id, customer_id=event.customer_id, before=_snapshot(purpose, before),
                 after=_snapshot(purpose, event))
    return event


def grant(customer, purpose_code, actor, source, ip=None, user_agent=None,
          separate_consent=False):
    """Give consent to a purpose; "granted", or "pending" while a double opt-in link is out."""
    purpose = _purpose(purpose_code)
    if purpose.is_sensitive and not separate_consent:
        # PIPL art. 29/39: sensitive processing needs its own, explicit consent.
        raise DomainError(N_("Tick the box to give your separate consent to this purpose."),
                          "separate_consent")
    with models.atomic():
        before = _latest(customer, purpose)
        if before and before.granted and before.policy_version >= purpose.current_version:
            return "granted"  # already: a double submission writes nothing
        if purpose.double_opt_in and source == "portal":
            _request_optin(customer, purpose, actor)
            return "pending"
        _append(customer, purpose, True, purpose.current_version, actor, source, ip,
                user_agent, before)
    return "granted"


def withdraw(customer, purpose_code, actor, source, ip=None, user_agent=None):
    """Withdraw consent to a purpose at once; a pending opt-in link for it stops working."""
    purpose = _purpose(purpose_code)
    with models.atomic():
        _retire_optins(customer, purpose.code)
        before = _latest(customer, purpose)
        if before is None or before.granted:
            _append(customer, purpose, False, purpose.current_version, actor, source, ip,
                    user_agent, before)


# --- double opt-in ------------------------------------------------------------------------------

def _marketing_address(customer):
    address = customer.primary_email or (PortalAccount.select(PortalAccount.email)
                                         .where(PortalAccount.customer == customer)
                                         .scalar())
    if not address:
        raise DomainError(N_("Your card has no email address. Add one first."))
    return address


def _open_optins(customer):
    return LinkToken.select().where(LinkToken.customer == customer, LinkToken.purpose == "optin",
                                    LinkToken.used_at.is_null(),
                                    LinkToken.expires_at > models.utcnow())


def _pending_optins(customer):
    return {(row.data or {}).get("purpose") for row in _open_optins(customer)}


def _retire_optins(customer, code):
    ids = [row.id for row in _open_optins(customer) if (row.data or {}).get("purpose") == code]
    if ids:
        LinkToken.update(used_at=models.utcnow()).where(LinkToken.id.in_(ids)).execute()


def _request_optin(customer, purpose, actor):
    """Email a confirmation link; the grant is written only when it is used."""
    address = _marketing_address(customer)
    name = purpose.name_en if customer.preferred_language == "en" else purpose.name_zh
    with models.atomic():
        _retire_optins(customer, purpose.code)  # only the newest link confirms
        token = links.issue("optin", customer, data={
            "purpose": purpose.code, "version": purpose.current_version, "email": address})
        mail.send_template("optin", "optin.txt", customer, address, purpose_name=name,
                           url=links.portal_url(f"/consent/confirm/{token}"))
        audit.record(actor, "consent.optin_sent", "consent_purpose", purpose.code,
                     customer_id=customer.id,
                     after={"purpose": purpose.code, "email": address,
                            "policy_version": purpose.current_version})


def optin_request(token):
    """(purpose, email) an opt-in link asks to confirm, without using it (GET pages)."""
    row = links.peek("optin", token)
    purpose = find_purpose((row.data or {}).get("purpose"))
    if purpose is None:
        raise links.LinkError("invalid")
    return purpose, row.data.get("email")


def confirm_optin(token, ip=None, user_agent=None):
    """Use an opt-in link once: write the grant, at the policy version the customer was shown."""
    with models.atomic():
        row = links.consume("optin", token)
        purpose = find_purpose((row.data or {}).get("purpose"))
        if purpose is None:
            raise links.LinkError("invalid")
        actor = Actor("link", row.customer_id, "opt-in link", ip, (user_agent or "")[:255] or None)
        version = row.data.get("version") or purpose.current_version
        _append(row.customer_id, purpose, True, version, actor, "link", ip, user_agent,
                _latest(row.customer_id, purpose))
    return purpose


# --- one-click unsubscribe (RFC 8058) -----------------------------------------------------------

# A customer's unsubscribe link is reused while it has at least this long left to live, so a
# campaign to 10,000 cards does not mint 10,000 new links each time.
_REUSE_FOR = datetime.timedelta(days=365)


def unsubscribe_links(customer_ids):
    """{customer id: the absolute one-click unsubscribe URL}: each customer's newest long-lived
    link, or a new one (one link per customer, not one per email)."""
    ids = list(dict.fromkeys(customer_ids))
    rows = (LinkToken.select(LinkToken.customer, LinkToken.jti)
            .where(LinkToken.purpose == "unsubscribe", LinkToken.customer.in_(ids),
                   LinkToken.used_at.is_null(),
                   LinkToken.expires_at > models.utcnow() + _REUSE_FOR)
            .order_by(LinkToken.id)) if ids else []
    tokens = {row.customer_id: links.sign("unsubscribe", row) for row in rows}
    for customer_id in ids:
        if customer_id not in tokens:
            tokens[customer_id] = links.issue("unsubscribe", customer_id)
    return {customer_id: links.portal_url(f"/unsubscribe/{token}")
            for customer_id, token in tokens.items()}


def unsubscribe_link(customer):
    """The absolute one-click unsubscribe URL to put in a marketing email to ``customer``."""
    customer_id = getattr(customer, "id", customer)
    return unsubscribe_links([customer_id])[customer_id]


def list_unsubscribe_headers(customer, url=None):
    """The RFC 2369 / RFC 8058 headers for a marketing email to ``customer`` (``url``: its
    unsubscribe link when the caller has it already)."""
    return {"List-Unsubscribe": f"<{url or unsubscribe_link(customer)}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def check_unsubscribe(token):
    """Raise LinkError unless ``token`` is a valid unsubscribe link (GET pages)."""
    links.peek("unsubscribe", token)


def unsubscribe(token, ip=None, user_agent=None):
    """Stop email marketing for the link's customer; the link stays valid (idempotent)."""
    row = links.peek("unsubscribe", token)
    actor = Actor("link", row.customer_id, "unsubscribe link", ip,
                  (user_agent or "")[:255] or None)
    withdraw(row.customer_id, EMAIL_MARKETING, actor, "unsubscribe", ip, user_agent)


# --- history ------------------------------------------------------------------------------------

def history(customer):
    """The customer's ledger rows with their purposes, newest first (pages paginate it)."""
    return (ConsentEvent.select(ConsentEvent, ConsentPurpose).join(ConsentPurpose)
            .where(ConsentEvent.customer == customer).order_by(*_newest_first()))


@lru_cache(maxsize=4)
def _catalogue(lang):
    return Translations.load(str(config.BASE_DIR / "translations"), [lang])


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def safe_cell(value):
    """A CSV cell Excel shows as text: no formula (= + - @ tab CR first), no control chars."""
    text = _CONTROL.sub("", "" if value is None else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def history_csv(customer, lang):
    """The customer's consent history as UTF-8 CSV with a BOM (Excel opens it in Chinese)."""
    lang = lang if lang in ("zh", "en") else "zh"
    gettext = _catalogue(lang).gettext
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([gettext(title) for title in CSV_HEADER])
    for event in history(customer).iterator():
        at = event.created_at.replace(tzinfo=datetime.timezone.utc)
        writer.writerow([safe_cell(value) for value in (
            at.strftime("%Y-%m-%dT%H:%M:%SZ"), getattr(event.purpose, f"name_{lang}"),
            gettext(ACTION_LABELS[bool(event.granted)]), event.policy_version,
            gettext(SOURCE_LABELS.get(event.source, event.source)), event.ip)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
