"""Finding a card: one search box over names, pinyin, initials, phone fragments, emails,
companies and WeChat ids.

The index (``models.CustomerSearch``) is kept by database triggers, so every writer keeps it
right without calling anything here. A query is split into terms that must all match (a phone
number typed with spaces stays one term). A term of 3+ characters is a substring of the card's
search text (SQLite FTS5 trigram phrase, PostgreSQL pg_trgm ``LIKE``); a term of 1-2 characters
(张伟, zw) is one of the short keys: a piece of the name, alternative name or initials, which a
trigram index could not answer.
"""
import re
import unicodedata
from contextlib import contextmanager

from peewee import SQL, fn

import models

MAX_TERMS = 6
MAX_TERM = 100
TRIGRAM = 3  # shortest term the trigram index answers
BULK_CACHE_KB = 512 * 1024  # SQLite page cache while the index is built in bulk
MARK = "\x01"  # short keys in the SQLite index are marked to make them 3-character tokens
_PHONE = re.compile(r"^\+?[\d\s\-().]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def terms(query):
    """The normalised terms of a query: NFKC (full-width to half-width), lower case, control
    characters dropped; a query that looks like a phone number becomes its digits."""
    text = _CONTROL.sub(" ", unicodedata.normalize("NFKC", query or "")).strip().lower()
    if not text:
        return []
    if _PHONE.match(text) and sum(ch.isdigit() for ch in text) >= TRIGRAM:
        return [_phone_term(text)]
    return [t[:MAX_TERM] for t in text.split()][:MAX_TERMS]


def _phone_term(text):
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    if digits.startswith("00"):  # 0086 138... is +86 138...
        plus, digits = True, digits[2:]
    elif not plus and len(digits) >= 10 and digits.startswith("0"):
        digits = digits[1:]  # 010-1234 5678: the trunk 0 is not part of +86 10 1234 5678
    return ("+" if plus else "") + digits


def matching_ids(query):
    """SQL for the ids of live cards matching every term of ``query`` (None: no terms), to use
    as ``Customer.id.in_(...)``."""
    found = _subquery(query)
    return None if found is None else SQL("(" + found[0] + ")", found[1])


def narrowed_ids(query, cap=2000):
    """The matching ids themselves when there are at most ``cap`` of them (the database then
    reads those cards by primary key and sorts a few rows, instead of walking a sort index
    and testing each card against the search), else the subquery. None: no terms."""
    found = _subquery(query)
    if found is None:
        return None
    text, params = found
    ids = [row[0] for row in models.db.execute_sql(f"{text} LIMIT {int(cap) + 1}", params)]
    return ids if len(ids) <= cap else SQL("(" + text + ")", params)


def _subquery(query):
    found = terms(query)
    if not found:
        return None
    if models.is_postgres():
        conditions, params = [], []
        for term in found:
            if len(term) >= TRIGRAM:
                conditions.append("body LIKE %s")
                params.append("%" + re.sub(r"([\\%_])", r"\\\1", term) + "%")
            else:
                conditions.append("string_to_array(short, ' ') @> ARRAY[%s]")
                params.append(term)
        return ("SELECT customer_id FROM customer_search WHERE " + " AND ".join(conditions),
                params)
    return ("SELECT rowid FROM customer_search WHERE customer_search MATCH ?",
            [" AND ".join(_fts_phrase(term) for term in found)])


def _fts_phrase(term):
    if len(term) >= TRIGRAM:
        column, text = "body", term
    else:
        column, text = "short", MARK * (TRIGRAM - len(term)) + term
    return column + ' : "' + text.replace('"', '""') + '"'


@contextmanager
def suspended():
    """For bulk loads: drop the index triggers, run the block, then index the cards added
    (ids above the highest one before the block) in one set-based INSERT, and put the
    triggers back. Writes by others while suspended are not indexed: bulk loads only."""
    database = models.db.obj
    postgres = models.is_postgres()
    after = models.Customer.select(fn.MAX(models.Customer.id)).scalar() or 0
    for name, table in models.SEARCH_TRIGGERS["postgres" if postgres else "sqlite"]:
        database.execute_sql(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if table else ""))
    try:
        yield
    finally:
        with models.atomic():
            rebuild(after)
            for statement in models.search_ddl():
                database.execute_sql(statement)


def rebuild(after_id=0, batch=50_000):
    """Index again every live card with id > ``after_id``, set-based, ``batch`` ids at a time.
    SQLite: each batch is computed into a temporary table first and then copied into the FTS5
    table (measured: 50k cards 41 s straight from the SELECT, 7 s in two steps)."""
    database = models.db.obj
    postgres = models.is_postgres()
    last = models.Customer.select(fn.MAX(models.Customer.id)).scalar() or 0
    if postgres:
        database.execute_sql("DELETE FROM customer_search WHERE customer_id > %s", (after_id,))
    else:
        database.execute_sql("DELETE FROM customer_search WHERE rowid > ?", (after_id,))
        database.execute_sql("CREATE TEMP TABLE IF NOT EXISTS search_fill (id INTEGER PRIMARY"
                             " KEY, customer_id INTEGER, body TEXT, short TEXT)")
        # FTS5 merges its segments as it goes: with the usual page cache every merge re-reads
        # its pages from the WAL (1M cards: over 100 GB of reads), so give it room for a while.
        cache = database.execute_sql("PRAGMA cache_size").fetchone()[0]
        database.execute_sql(f"PRAGMA cache_size = {-BULK_CACHE_KB}")
    fill = models.search_fill_sql(into=None if postgres else "temp.search_fill")
    try:
        for first in range(after_id, last, batch):
            database.execute_sql(fill, (first, first + batch))
            if not postgres:
                database.execute_sql("INSERT INTO customer_search (rowid, customer_id, body,"
                                     " short) SELECT id, customer_id, body, short"
                                     " FROM temp.search_fill")
                database.execute_sql("DELETE FROM temp.search_fill")
    finally:
        if not postgres:
            database.execute_sql(f"PRAGMA cache_size = {int(cache)}")
