"""The SQL of a tier recalculation pass, built for SQLite and PostgreSQL alike: the aggregate
over purchases into a temporary table of the cards whose tier changes, their TierChange rows as
INSERT ... SELECT, and the UPDATE ... FROM of the cards. Thresholds and windows come from the
tiers; every value is a bind parameter or a number formatted here."""
import datetime
import json
from decimal import Decimal

import models

EXCLUDED_STATUSES = ("refunded", "cancelled")  # purchases that never count

TARGET = "tier_recalc_target"


def _param(value):
    """A bind value both drivers take: SQLite has no Decimal or datetime adapter we rely on."""
    if models.is_postgres():
        return value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime.datetime):
        return str(value)
    return value


def _reason_sql(code, window_index, extra):
    """SQL building the reason JSON: the window's measured spend and orders plus ``extra``."""
    head = json.dumps(dict(extra, code=code), sort_keys=True)[:-1]
    return (f"{_literal_raw(head)} || ', \"spend\": \"' || CAST(s{window_index} AS TEXT) "
            f"|| '\", \"orders\": ' || CAST(n{window_index} AS TEXT) || '}}'")


def _literal_raw(text):
    return "'" + text.replace("'", "''") + "'"


def _rule_sql(tier, windows, params, tenure_cut):
    """The condition under which ``tier``'s rules hold, or None if it sets no rule."""
    i = windows.index(tier.window_days)
    parts = []
    if tier.min_spend is not None:
        parts.append(f"s{i} >= ?")
        params.append(_param(tier.min_spend))
    if tier.min_orders is not None:
        parts.append(f"n{i} >= ?")
        params.append(tier.min_orders)
    if tier.min_tenure_days is not None:
        parts.append("created_at <= ?")
        params.append(_param(tenure_cut(tier.min_tenure_days)))
    return " AND ".join(parts) or None


def build_target_sql(tiers, now, customer_id):
    """CREATE TEMP TABLE of the cards whose tier changes (or whose override ended), with the
    tier they get and the figures behind it: the one pass over purchases."""
    windows = sorted({t.window_days for t in tiers} or {365})
    agg_cols, agg_params = [], []
    for i, days in enumerate(windows):
        agg_cols.append(f"ROUND(SUM(CASE WHEN p.occurred_at >= ? THEN p.amount ELSE 0 END), 2)"
                        f" AS s{i}, SUM(CASE WHEN p.occurred_at >= ? THEN 1 ELSE 0 END) AS n{i}")
        since = _param(now - datetime.timedelta(days=days))
        agg_params += [since, since]
    scope_p, scope_c = ("AND p.customer_id = ?", "AND c.id = ?") if customer_id else ("", "")
    # A full pass reads every card: SQLite would rather walk the erased_at index and look each
    # row up (8x slower than reading the table straight through).
    scan = "NOT INDEXED" if not customer_id and not models.is_postgres() else ""
    statuses = ", ".join("?" for _ in EXCLUDED_STATUSES)
    zero_cols = ", ".join(f"COALESCE(a.s{i}, 0) AS s{i}, COALESCE(a.n{i}, 0) AS n{i}"
                          for i in range(len(windows)))
    case_params, whens = [], []
    tenure_cut = lambda days: now - datetime.timedelta(days=days)
    for tier in tiers:
        condition = _rule_sql(tier, windows, case_params, tenure_cut)
        if condition is not None:
            whens.append((tier, condition))
    default = next((t for t in tiers if t.is_default), None)
    # A typed NULL: PostgreSQL reads a bare NULL column of a CTE as text, and then cannot
    # compare it with the integer tier ids (no tiers, or no default tier).
    none = "CAST(NULL AS INTEGER)"
    new_tier = ("CASE " + " ".join(f"WHEN {cond} THEN {tier.id}" for tier, cond in whens)
                + f" ELSE {default.id if default else none} END") if whens else (
                    str(default.id) if default else none)
    sql = (
        f"CREATE TEMP TABLE {TARGET} AS "
        f"WITH agg AS (SELECT p.customer_id AS cid, {', '.join(agg_cols)} FROM purchase p "
        f"WHERE p.occurred_at >= ? AND p.deleted_at IS NULL AND p.order_status NOT IN "
        f"({statuses}) {scope_p} GROUP BY p.customer_id), "
        f"cards AS (SELECT c.id AS cid, c.tier_id AS old_tier, c.created_at, "
        f"c.tier_overridden AS expired, {zero_cols} FROM customer c {scan} "
        f"LEFT JOIN agg a ON a.cid = c.id WHERE c.erased_at IS NULL {scope_c} "
        f"AND (c.tier_overridden = ? OR (c.tier_override_until IS NOT NULL "
        f"AND c.tier_override_until <= ?))), "
        f"judged AS (SELECT cards.*, {new_tier} AS new_tier FROM cards) "
        f"SELECT * FROM judged WHERE COALESCE(new_tier, 0) <> COALESCE(old_tier, 0) "
        f"OR expired = ?")
    params = agg_params + [_param(now - datetime.timedelta(days=windows[-1]))]
    params += list(EXCLUDED_STATUSES) + ([customer_id] if customer_id else [])
    params += [customer_id] if customer_id else []
    params += [False, _param(now)] + case_params + [True]
    return sql, params, windows, whens, default


def reason_case(windows, whens, default):
    """SQL for each target row's reason JSON, chosen by the tier it gets."""
    branches = []
    for tier, _condition in whens:
        extra = {"window": tier.window_days}
        if tier.min_spend is not None:
            extra["min_spend"] = str(tier.min_spend)
        if tier.min_orders is not None:
            extra["min_orders"] = tier.min_orders
        if tier.min_tenure_days is not None:
            extra["min_tenure"] = tier.min_tenure_days
        branches.append(f"WHEN {tier.id} THEN "
                        + _reason_sql("rule", windows.index(tier.window_days), extra))
    days = default.window_days if default else windows[-1]  # every tier's window is in windows
    fallback = _reason_sql("default" if default else "none", windows.index(days),
                           {"window": days})
    if not branches:
        return fallback
    return "CASE new_tier " + " ".join(branches) + f" ELSE {fallback} END"


def sql_bool(value):
    return ("TRUE" if value else "FALSE") if models.is_postgres() else ("1" if value else "0")


def write_history(database, windows, whens, default, now, ended_source):
    reason = reason_case(windows, whens, default)
    pg = models.is_postgres()
    database.execute_sql(
        f"INSERT INTO tier_change (customer_id, from_tier_id, to_tier_id, reason, source, "
        f"changed_by_id, created_at) SELECT cid, old_tier, new_tier, {reason}, "
        f"CASE WHEN expired = {sql_bool(True)} THEN {'%s' if pg else '?'} ELSE 'rule' END, NULL, "
        f"{'%s' if pg else '?'} FROM {TARGET}", [ended_source, _param(now)])


def apply(database):
    database.execute_sql(
        f"UPDATE customer SET tier_id = t.new_tier, tier_overridden = {sql_bool(False)}, "
        f"tier_override_reason = NULL, tier_override_until = NULL "
        f"FROM {TARGET} t WHERE t.cid = customer.id")
