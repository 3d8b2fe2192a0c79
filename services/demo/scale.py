"""Bulk generated cards and purchases for benchmarks (seed_scale)."""
import datetime
import random
from decimal import Decimal

from peewee import chunked, fn

import models
from models import ContactPoint, Customer, Interaction, Purchase, StaffUser
from services import search
from services.demo.bulk import MAX_PARAMS, refresh_totals
from services.demo.common import CENT
from services.demo.reference import ensure_tiers, pick_tier
from services.demo.vocabulary import (
    CN_GIVEN_F,
    CN_GIVEN_M,
    CN_REGIONS,
    INTERACTIONS,
    INTL,
    PRODUCTS,
    ascii_local,
)
from services.names import pinyin_keys

SCALE_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
                  "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
                  "顾毛郝龚邵万钱严覃武戴莫孔向汤")
SCALE_GIVEN_M = tuple(CN_GIVEN_M) + tuple(
    "刚 平 辉 鑫 波 宁 飞 凯 峰 亮 俊 帅 晨 阳 宇 博 昊 铭 哲 睿 建国 建军 国强 志明 永强 家豪 "
    "天佑 明轩 子墨 梓睿 逸凡 皓轩 俊宇 博文 宏伟 立新 德华 晓东 文涛 鹏飞".split())
SCALE_GIVEN_F = tuple(CN_GIVEN_F) + tuple(
    "琳 颖 倩 洁 玲 红 燕 萍 琴 蕾 璐 瑶 悦 可欣 雨涵 紫涵 思琪 梦瑶 佳琪 若曦 心怡 雅婷 "
    "丽娟 美玲 春梅 秀兰 晓丽 淑华 婧怡 安琪 语嫣 一诺 欣妍 诗雨".split())
# Prefixes the demo never uses, so benchmark mobiles never meet demo ones.
SCALE_MOBILE_PREFIXES = ("191", "193", "195", "196", "197", "198", "199", "166", "173", "175",
                         "176", "177", "178")
SCALE_GROUP = 40_000  # rows per transaction


def _scale_mobile(n):
    """A valid-looking +86 mobile, different for every n (< 1.3 billion)."""
    quotient, index = divmod(n, len(SCALE_MOBILE_PREFIXES))
    # multiplying by a number coprime to 10**8 permutes the eight digits
    return (f"+86{SCALE_MOBILE_PREFIXES[index]}"
            f"{(quotient * 7_919_467 + 1_234_567) % 100_000_000:08d}")


def _skewed_counts(rng, customers, transactions, first):
    """Purchases per customer summing to exactly ``transactions``: customer 0 gets ``first``,
    about 15% get none, the rest follow a capped Pareto (a few customers buy a lot)."""
    counts = [0] * customers
    counts[0] = min(first, transactions)
    rest = transactions - counts[0]
    if customers == 1:
        counts[0] += rest
        return counts
    weights = [0] + [0 if rng.random() < 0.15 else int(1000 * min(rng.paretovariate(1.3), 100.0))
                     for _ in range(customers - 1)]
    if not any(weights):
        weights = [0] + [1] * (customers - 1)
    total = sum(weights)
    for i in range(1, customers):
        counts[i] = rest * weights[i] // total
    left = transactions - sum(counts)
    eligible = [i for i, weight in enumerate(weights) if weight]
    while left > 0:
        take = min(left, len(eligible))
        for i in rng.sample(eligible, take):
            counts[i] += 1
        left -= take
    return counts


def _insert_tuples(model, fields, rows, key=None):
    """Bulk insert a list of tuples of ``fields`` values; with ``key`` (a unique field among
    ``fields``) return {key value: id} of the inserted rows.

    SQLite: multi-row INSERTs in batches under its bound-parameter limit, the statement
    ``Model.insert_many(rows, fields).execute()`` builds but without peewee's per-value
    rendering, which costs more than the database itself at a million rows (measured: seed_scale
    of 100k cards and 1M purchases took 108 s with insert_many, 45 s like this). PostgreSQL:
    COPY, its bulk path (multi-row INSERTs spend most of their time splitting placeholders).

    So the values must already be in database form: ints for foreign keys, str, Decimal, date,
    datetime, bool or None. Fields left out get their model default, as with ``insert_many``.
    """
    given = {field.name for field in fields}  # (not `in fields`: Field == builds SQL)
    defaults = [(field, default) for field, default in model._meta.defaults.items()
                if field.name not in given]
    fixed = tuple(field.db_value(default) for field, default in defaults
                  if not callable(default))
    per_row = [(field, default) for field, default in defaults if callable(default)]
    columns = ", ".join(f'"{column}"' for column in (
        [field.column_name for field in fields]
        + [field.column_name for field, default in defaults if not callable(default)]
        + [field.column_name for field, _ in per_row]))
    table = model._meta.table_name

    def full(row):
        if per_row:
            return (*row, *fixed, *(field.db_value(default()) for field, default in per_row))
        return (*row, *fixed) if fixed else row

    if models.is_postgres():
        with models.db.cursor() as cursor:
            with cursor.copy(f'COPY "{table}" ({columns}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(full(row))
            if key is None:
                return None
            index = [field.name for field in fields].index(key.name)
            cursor.execute(f'SELECT "{key.column_name}", "id" FROM "{table}" '
                           f'WHERE "{key.column_name}" = ANY(%s)',
                           ([row[index] for row in rows],))
            return dict(cursor.fetchall())
    width = len(fields) + len(defaults)
    placeholders = "(" + ", ".join(["?"] * width) + ")"
    returning = f' RETURNING "{key.column_name}", "id"' if key is not None else ""
    found = {}
    for batch in chunked(rows, max(1, min(5000, MAX_PARAMS // width))):
        params = [value for row in batch for value in full(row)]
        cursor = models.db.execute_sql(
            f'INSERT INTO "{table}" ({columns}) VALUES '
            + ", ".join([placeholders] * len(batch)) + returning, params)
        if key is not None:
            found.update(cursor.fetchall())
    return found if key is not None else None


def seed_scale(customers=100_000, transactions=1_000_000, seed=1, progress=None):
    """Add ``customers`` synthetic cards and exactly ``transactions`` purchases, for benchmarks.

    Bulk inserts in batches (a transaction per group of batches), then the denormalised totals,
    status and tier of the new cards are set with set-based UPDATEs. Each card gets a unique
    example.com email and +86 mobile (with their contact points), a city, a status and a tier
    (the three standard tiers are created if missing); created_at is spread over three years.
    Purchases are skewed (a few customers buy a lot); about one interaction per ten cards.
    The first new card, the "bench card", has exactly 50 purchases and 50 interactions
    (given ``transactions`` >= 50); its public_id is returned as ``bench_card``.

    Additive: on a database that already holds cards it adds more; emails and mobiles derive
    from an offset (the current highest customer id), so they never collide with earlier runs.
    No audit events are written: the data is synthetic, and its trail would only be noise.
    ``progress(message)`` is called after each group, if given. The search index is built in
    bulk once the cards are in (its triggers are off meanwhile).
    """
    with search.suspended():
        return _insert_scale(customers, transactions, seed, progress)


def _insert_scale(customers, transactions, seed, progress):
    if customers < 0 or transactions < 0:
        raise ValueError("customers and transactions must not be negative")
    say = progress or (lambda message: None)
    rng = random.Random(seed)
    random_ = rng.random
    now = models.utcnow().replace(microsecond=0)
    with models.db.atomic():
        tiers, created_tiers = ensure_tiers()
    tiers = list(tiers.values())
    default_tier = next((t.id for t in tiers if t.is_default), None)
    counts = {"customers": 0, "contact_points": 0, "purchases": 0, "interactions": 0,
              "tiers_created": len(created_tiers), "bench_card": None}
    if customers == 0:
        return counts
    owners = [s.id for s in StaffUser.select(StaffUser.id).where(
        StaffUser.role.in_(("agent", "manager"))).order_by(StaffUser.id)] or [None]
    offset = Customer.select(fn.MAX(Customer.id)).scalar() or 0
    per_customer = _skewed_counts(rng, customers, transactions, 50)

    # --- cards and their contact points
    surnames = [s for i, s in enumerate(SCALE_SURNAMES) for _ in range(4 if i < 20 else 1)]
    given = [(g, "male") for g in SCALE_GIVEN_M] + [(g, "female") for g in SCALE_GIVEN_F]
    foreign = [(f"{g} {family}", gender)
               for given_names, families, *_ in INTL.values()
               for g, gender in given_names for family in families]
    regions = [r for r in CN_REGIONS for _ in range(r[-1])]
    sources = ["walk_in"] * 30 + ["wechat"] * 25 + ["referral"] * 20 + ["website"] * 15 + [
        "event"] * 10
    keys = {}
    customer_fields = [Customer.public_id, Customer.kind, Customer.name, Customer.name_pinyin,
                       Customer.name_initials, Customer.gender, Customer.birthday,
                       Customer.country, Customer.province, Customer.city, Customer.district,
                       Customer.source, Customer.status, Customer.tier, Customer.owner,
                       Customer.preferred_language, Customer.primary_email,
                       Customer.primary_mobile, Customer.created_at, Customer.updated_at]
    contact_fields = [ContactPoint.customer, ContactPoint.kind, ContactPoint.value,
                      ContactPoint.normalized, ContactPoint.is_primary, ContactPoint.created_at]
    ids, created = [0] * customers, [None] * customers
    three_years = 3 * 365 * 86400
    for start in range(0, customers, SCALE_GROUP // 2):
        stop = min(start + SCALE_GROUP // 2, customers)
        rows, extra = [], []
        for i in range(start, stop):
            n = offset + i + 1
            if random_() < 0.92:
                first, gender = given[int(random_() * len(given))]
                name, language = surnames[int(random_() * len(surnames))] + first, "zh"
            else:
                (name, gender), language = foreign[int(random_() * len(foreign))], "en"
            if name not in keys:
                keys[name] = (*pinyin_keys(name), ascii_local(name))
            full, initials, local = keys[name]
            province, city, districts, *_ = regions[int(random_() * len(regions))]
            when = now - datetime.timedelta(
                seconds=1000 * 86400 if i == 0 else int(random_() * three_years))
            birthday = (datetime.date(1950, 1, 1) + datetime.timedelta(
                days=int(random_() * 20_500)) if random_() < 0.6 else None)
            email, mobile, public_id = f"{local}.{n}@example.com", _scale_mobile(n), \
                models.new_public_id()
            rows.append((public_id, "person", name, full, initials, gender, birthday, "CN",
                         province, city, districts[int(random_() * len(districts))],
                         sources[int(random_() * len(sources))], "prospect", default_tier,
                         owners[int(random_() * len(owners))] if random_() < 0.8 else None,
                         language, email, mobile, when, when))
            extra.append((i, public_id, email, mobile, when))
        with models.db.atomic():
            id_of = _insert_tuples(Customer, customer_fields, rows, key=Customer.public_id)
            contacts = []
            for i, public_id, email, mobile, when in extra:
                ids[i], created[i] = id_of[public_id], when
                contacts.append((ids[i], "email", email, email, True, when))
                contacts.append((ids[i], "mobile", mobile, mobile, True, when))
            _insert_tuples(ContactPoint, contact_fields, contacts)
        counts["customers"] += len(rows)
        counts["contact_points"] += len(contacts)
        if start == 0:
            counts["bench_card"] = rows[0][0]
        say(f"customers {stop:,}/{customers:,}")

    # --- purchases, tracking what the tier rules need as they are generated
    catalog = []
    for sku, name_zh, _, _, price, max_quantity, weight in PRODUCTS:
        for quantity in range(1, max_quantity + 1):
            amount = (Decimal(price) * quantity).quantize(CENT)
            catalog += [(name_zh, sku, Decimal(quantity), Decimal(price), amount,
                         int(amount * 100))] * (weight * (6 if quantity == 1 else 1))
    payments = ["微信支付"] * 45 + ["支付宝"] * 35 + ["银联"] * 10 + ["cash"] * 7 + [
        "credit card"] * 3
    channels = ["store"] * 55 + ["online"] * 30 + ["wechat_mall"] * 15
    windows = sorted({t.window_days for t in tiers
                      if t.min_spend is not None or t.min_orders is not None})
    tracked = [(now - datetime.timedelta(days=w), [0] * customers, [0] * customers)
               for w in windows]
    last = [None] * customers
    purchase_fields = [Purchase.customer, Purchase.public_id, Purchase.occurred_at,
                       Purchase.product, Purchase.sku, Purchase.quantity, Purchase.unit_price,
                       Purchase.amount, Purchase.currency, Purchase.payment_method,
                       Purchase.order_status, Purchase.channel, Purchase.created_at,
                       Purchase.updated_at]
    timedelta, new_public_id = datetime.timedelta, models.new_public_id

    def purchase_rows():
        for i in range(customers):
            count = per_customer[i]
            if not count:
                continue
            customer_id, since = ids[i], created[i]
            span = int((now - since).total_seconds())
            newest = since
            for _ in range(count):
                at = since + timedelta(seconds=int(random_() * span))
                if at > newest:
                    newest = at
                name, sku, quantity, unit_price, amount, cents = catalog[
                    int(random_() * len(catalog))]
                for cutoff, spend, orders in tracked:
                    if at >= cutoff:
                        spend[i] += cents
                        orders[i] += 1
                yield (customer_id, new_public_id(), at, name, sku, quantity, unit_price, amount,
                       "CNY", payments[int(random_() * len(payments))], "completed",
                       channels[int(random_() * len(channels))], at, at)
            last[i] = newest

    for group in chunked(purchase_rows(), SCALE_GROUP):
        with models.db.atomic():
            _insert_tuples(Purchase, purchase_fields, group)
        counts["purchases"] += len(group)
        say(f"purchases {counts['purchases']:,}/{transactions:,}")

    # --- interactions: 50 on the bench card, about one per ten other cards
    templates = INTERACTIONS["zh"]
    interaction_fields = [Interaction.customer, Interaction.public_id, Interaction.occurred_at,
                          Interaction.channel, Interaction.direction, Interaction.staff,
                          Interaction.subject, Interaction.request, Interaction.resolution,
                          Interaction.outcome, Interaction.created_at]
    targets = [0] * 50 + [1 + int(random_() * (customers - 1)) if customers > 1 else 0
                          for _ in range(customers // 10)]
    interaction_rows = []
    for i in targets:
        span = int((now - created[i]).total_seconds())
        at = created[i] + timedelta(seconds=int(random_() * span))
        channel, direction, outcome, subject, request, resolution = templates[
            int(random_() * len(templates))]
        interaction_rows.append((ids[i], new_public_id(), at, channel, direction,
                                 owners[int(random_() * len(owners))], subject, request,
                                 resolution, outcome, at))
    for group in chunked(interaction_rows, SCALE_GROUP):
        with models.db.atomic():
            _insert_tuples(Interaction, interaction_fields, group)
        counts["interactions"] += len(group)
    say(f"interactions {counts['interactions']:,}")

    # --- denormalised totals (set-based SQL), then status and tier: one UPDATE per
    # (tier, status) pair and chunk of ids; cards without purchases keep what they were given
    with models.db.atomic():
        refresh_totals(offset)
        by_window = dict(zip(windows, tracked))

        def stats_for(i):
            def stats(window_days):
                _, spend, orders = by_window[window_days]
                return Decimal(spend[i]) / 100, orders[i]
            return stats

        active_since, dormant_since = now - timedelta(days=180), now - timedelta(days=365)
        groups = {}
        for i in range(customers):
            if last[i] is None:
                status = "prospect"
            else:
                status = ("active" if last[i] >= active_since else
                          "dormant" if last[i] >= dormant_since else "lost")
            tier = pick_tier(tiers, stats_for(i))[0]
            tier_id = tier.id if tier else None
            if (tier_id, status) != (default_tier, "prospect"):
                groups.setdefault((tier_id, status), []).append(ids[i])
        for (tier_id, status), members in groups.items():
            for chunk in chunked(members, 5000):
                Customer.update(tier=tier_id, status=status).where(
                    Customer.id.in_(chunk)).execute()
        if models.is_postgres():  # fresh statistics, so that benchmarks get realistic plans
            for table in ("customer", "contact_point", "purchase", "interaction"):
                models.db.execute_sql(f'ANALYZE "{table}"')
    say("totals, status and tiers set")
    return counts
