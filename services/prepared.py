"""Fixed-shape queries whose SQL is built once per kind of database, then run with new values.

Peewee rebuilds a query's SQL string on every call, and for rows as named tuples a new
namedtuple class too. For the queries every back-office request runs (the sign-in session, the
nav badge) and the card page's dozen, that cost more than running them. A ``Prepared`` query is
built once with stand-in values, its SQL and the positions of those values kept per kind of
database (SQLite, PostgreSQL), and each call only puts the real values in.

    OPEN = Prepared(lambda staff_id, day: Task.select(...).where(Task.assignee == staff_id,
                                                                 Task.due_date <= day),
                    Prepared.ID, Prepared.DATE)
    OPEN.scalar(staff.id, today)

Only for queries whose shape never depends on the values (no ``in_()`` of a list, no optional
conditions). Every run still goes through ``Database.execute_sql``: logged, counted, pooled.
"""
import datetime
from collections import namedtuple
from decimal import Decimal
from itertools import starmap

from peewee import (
    AutoField,
    BooleanField,
    CharField,
    DateField,
    DateTimeField,
    DecimalField,
    Field,
    IntegerField,
    TextField,
)

import models


def _datetime(value):
    """SQLite's text timestamps read with fromisoformat (peewee tries strptime formats in
    turn, the slowest part of reading a few hundred records); PostgreSQL's are datetimes."""
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            return DateTimeField().python_value(value)
    return value


def _date(value):
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return DateField().python_value(value)
    return value


def _decimal(value):
    """DecimalField: PostgreSQL gives Decimals; SQLite ints, or floats read through their
    shortest text (``Decimal(str(v))``, as peewee does) so 0.1 stays 0.1."""
    if value is None or type(value) is Decimal:
        return value
    return Decimal(value) if type(value) is int else Decimal(str(value))


_CENT = Decimal("0.01")


def _money(value):
    """models.MoneyField: a decimal with both places, as its python_value gives it."""
    return None if value is None else _decimal(value).quantize(_CENT)


def _bool(value):
    return value if value is None else bool(value)


# How a column of each plain field type is read: text and integers come back from both
# drivers as they are (None: nothing to do); subclasses keep their own python_value.
_FAST = {DateTimeField: _datetime, DateField: _date, CharField: None, TextField: None,
         IntegerField: None, AutoField: None, DecimalField: _decimal, models.MoneyField: _money,
         BooleanField: _bool}


def _fast_converter(converter):
    """A field's python_value, or the plain-type reader of ``_FAST`` for its field type (the
    one ``rows`` uses: the same values, without peewee's strptime attempts per datetime)."""
    field = getattr(converter, "__self__", None)
    if (isinstance(field, Field) and getattr(converter, "__name__", "") == "python_value"
            and type(field) in _FAST):
        return _FAST[type(field)]
    return converter


def _fast_reader(state):
    """Peewee's row reader set-up (its ``converters``, and the per-column spec of a reader of
    joined models) with ``_fast_converter`` in place of each field's converter."""
    if "converters" not in state:
        return state
    converters = [None if c is None else _fast_converter(c) for c in state["converters"]]
    state["converters"] = converters
    if "convert" in state:
        state["convert"] = [i for i, c in enumerate(converters) if c is not None]
        state["no_convert"] = [i for i, c in enumerate(converters) if c is None]
    if "_row_spec" in state:
        state["_row_spec"] = tuple((i, key, column, converters[i])
                                   for i, key, column, _ in state["_row_spec"])
    return state


class Prepared:
    """A query built by ``build(*stand_ins)`` once per kind of database, run with values.

    ``stand_ins`` are values no real call uses (``Prepared.ID``, ``TEXT``, ``DATE``, or your
    own), one per argument of ``build``, of the type the compared field stores: they must come
    out of peewee's conversion unchanged, so that their positions among the parameters can be
    found. ``rows`` gives named tuples (the selected columns' names, aliases as named),
    ``objects`` the query's own rows (model instances with their joins), ``scalar`` the first
    column of the first row.
    """

    ID = -918273645
    TEXT = "\x01stand-in\x01"
    DATE = datetime.date(1901, 2, 3)

    def __init__(self, build, *stand_ins):
        self.build = build
        self.stand_ins = stand_ins
        self.plans = {}
        self.readers = {}  # (kind of database, row reader class) -> the reader's column set-up

    def _plan(self):
        database = models.db.obj
        plan = self.plans.get(type(database))
        if plan is None:
            plan = self.plans[type(database)] = self._make_plan()
        return database, plan

    def _make_plan(self):
        query = self.build(*self.stand_ins)
        sql, params = query.sql()
        params = list(params)
        slots = []
        for number, stand_in in enumerate(self.stand_ins):
            found = [i for i, value in enumerate(params)
                     if type(value) is type(stand_in) and value == stand_in]
            if not found:
                raise ValueError(f"stand-in {stand_in!r} is not among the parameters {params}")
            slots.extend((i, number) for i in found)
        names = []
        for node in getattr(query, "_returning", ()):  # a model field, or an alias of one
            field = node.unwrap() if hasattr(node, "unwrap") else node
            is_alias = hasattr(node, "is_alias") and node.is_alias()
            names.append(node._alias if is_alias else getattr(field, "name", f"c{len(names)}"))
        converters = _converters(query)
        try:
            row_type = namedtuple("Row", names)
        except ValueError:  # e.g. two models' "id": such a query gives objects, not rows
            row_type = None
        return query, sql, tuple(params), tuple(slots), tuple(converters), row_type

    def _execute(self, values):
        if len(values) != len(self.stand_ins):
            raise TypeError(f"expected {len(self.stand_ins)} values, got {len(values)}")
        database, (query, sql, template, slots, converters, row_type) = self._plan()
        params = list(template)  # a copy: other threads run the same plan
        for slot, number in slots:
            params[slot] = values[number]
        return database.execute_sql(sql, params), query, converters, row_type

    def rows(self, *values):
        """Every row as a named tuple, values converted as the fields convert them."""
        if self._plan()[1][-1] is None:
            raise TypeError("this query's columns do not make a named tuple: use objects()")
        cursor, _, converters, row_type = self._execute(values)
        return list(starmap(row_type, _convert(cursor.fetchall(), converters)))

    def tuples(self, *values):
        """Every row as a plain tuple, values converted as the fields convert them (for
        queries whose columns do not make a named tuple, such as two models' "id")."""
        cursor, _, converters, _ = self._execute(values)
        return list(_convert(cursor.fetchall(), converters))

    def objects(self, *values):
        """Every row as the query itself would give it (model instances, joins attached)."""
        return self._objects(values, None)

    def first(self, *values):
        """The first row as a model instance (as ``objects``), or None."""
        rows = self._objects(values, 1)
        return rows[0] if rows else None

    def _objects(self, values, limit):
        cursor, query, _, _ = self._execute(values)
        wrapper = query._get_cursor_wrapper(cursor)
        # Peewee's row reader works out, from the cursor's columns, which value goes to which
        # model and converter, on every run (a third of the sign-in lookup's time). The columns
        # are the plan's, always the same: keep what the first run worked out.
        key = (type(models.db.obj), type(wrapper))
        state = self.readers.get(key)
        before = set(wrapper.__dict__)
        if state is not None:
            wrapper.__dict__.update(state)
            wrapper.initialized = True
        rows = []
        for row in wrapper.iterator():
            rows.append(row)
            if limit is not None and len(rows) >= limit:
                break
        if state is None and wrapper.initialized:
            self.readers[key] = _fast_reader({name: value for name, value in
                                              wrapper.__dict__.items() if name not in before})
        return rows

    def scalar(self, *values):
        """The first column of the first row, as the database returns it (None if no row)."""
        cursor, _, _, _ = self._execute(values)
        row = cursor.fetchone()
        return None if row is None else row[0]


def _converters(query):
    """The reader of each selected column: ``_FAST``'s for a plain field type, else the
    field's own python_value; None for an expression (its value as the driver gives it)."""
    converters = []
    for node in getattr(query, "_returning", ()):
        field = node.unwrap() if hasattr(node, "unwrap") else node
        converters.append(_FAST.get(type(field), field.python_value)
                          if isinstance(field, Field) else None)
    return tuple(converters)


def _convert(rows, converters):
    """The rows' values converted, as an iterator of tuples. Column by column: the loops run
    in C (zip, map), only the converters in Python."""
    if not rows:
        return iter(())
    columns = list(zip(*rows))
    for i, convert in enumerate(converters):
        if convert is not None:
            columns[i] = map(convert, columns[i])
    return zip(*columns)


def fast_tuples(query):
    """A query built per call (its shape depends on the values) run for plain tuples, read
    with ``_FAST``'s converters: the same values as ``query.tuples()`` without peewee's
    per-value conversion calls and strptime attempts per datetime."""
    sql, params = query.sql()
    cursor = query._database.execute_sql(sql, params)
    return list(_convert(cursor.fetchall(), _converters(query)))
