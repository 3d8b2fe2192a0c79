"""Demo customers: Chinese, company and international profiles with their contact points."""
import datetime
from decimal import Decimal

import phonenumbers
from peewee import chunked
from werkzeug.security import generate_password_hash

from models import Customer, PortalAccount
from services import accounts
from services import customers as customer_service
from services.actors import Actor
from services.demo.common import CENT, DEMO_PASSWORD, SYSTEM
from services.demo.vocabulary import (
    CN_COMPANIES,
    CN_GIVEN_F,
    CN_GIVEN_M,
    CN_JOBS,
    CN_MOBILE_PREFIXES,
    CN_REGIONS,
    CN_SURNAME_WEIGHTS,
    CN_SURNAMES,
    DISCOUNTS,
    INTL,
    INTL_COMPANIES,
    INTL_JOBS,
    INTL_MOBILE,
    NOTES,
    PRODUCT_BY_SKU,
    PRODUCTS,
    SPECIAL_REQUIREMENTS,
    ascii_local,
    random_digits,
)


class Profiles:
    """Customer profiles for the demo (a part of DemoBusiness)."""

    def unique_email(self, local, domain=None):
        domain = domain or self.rng.choices(("example.com", "example.org", "example.net"),
                                            (6, 2, 2))[0]
        candidate, n = local, 1
        while f"{candidate}@{domain}" in self.used_emails:
            n += 1
            candidate = f"{local}{n}"
        self.used_emails.add(f"{candidate}@{domain}")
        return f"{candidate}@{domain}"

    def cn_mobile(self):
        rng = self.rng
        digits = rng.choice(CN_MOBILE_PREFIXES) + random_digits(rng, 8)
        style = rng.random()
        if style < 0.4:
            return digits
        if style < 0.7:
            return f"+86 {digits[:3]} {digits[3:7]} {digits[7:]}"
        return f"{digits[:3]}-{digits[3:7]}-{digits[7:]}"

    def intl_mobile(self, country):
        while True:
            number = phonenumbers.parse(INTL_MOBILE[country](self.rng))
            if (phonenumbers.is_valid_number(number)
                    and phonenumbers.region_code_for_number(number) == country):
                break
        if self.rng.random() < 0.5:  # as a local would type it; parsed with the card's country
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def birthday(self, lunar_share):
        rng = self.rng
        if rng.random() > 0.8:
            return None, False
        year = rng.randint(1958, 2004)
        if rng.random() < lunar_share:  # a lunar y/m/d as entered: day <= 29 exists every month
            month = rng.randint(1, 12)
            return datetime.date(year, month, rng.randint(1, 28 if month == 2 else 29)), True
        return datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365)), False

    def common_fields(self, lang):
        rng = self.rng
        status = rng.choices(("active", "prospect", "dormant", "lost"), (62, 13, 14, 11))[0]
        owner = self.staff["agent"] if rng.random() < 0.65 else self.staff["manager"]
        if status == "prospect" and rng.random() < 0.3:
            owner = None
        fields = {"status": status, "owner": owner, "preferred_language": lang,
                  "notes": rng.choice(NOTES[lang]) if rng.random() < 0.25 else "",
                  "special_requirements": (rng.choice(SPECIAL_REQUIREMENTS[lang])
                                           if rng.random() < 0.15 else "")}
        return fields

    def chinese_profile(self):
        rng = self.rng
        surname = rng.choices(CN_SURNAMES, CN_SURNAME_WEIGHTS)[0]
        gender = "female" if rng.random() < 0.52 else "male"
        given = rng.choice(CN_GIVEN_F if gender == "female" else CN_GIVEN_M)
        sur, giv = ascii_local(surname), ascii_local(given)
        province, city, districts, streets, postal, _ = rng.choices(
            CN_REGIONS, [r[-1] for r in CN_REGIONS])[0]
        address = f"{rng.choice(streets)}{rng.randint(1, 999)}号"
        if rng.random() < 0.7:
            address += f" {rng.randint(1, 30)}栋{rng.randint(2, 32)}{rng.randint(1, 4):02d}室"
        birthday, lunar = self.birthday(0.25)
        card = {"kind": "person", "name": surname + given, "gender": gender,
                "birthday": birthday, "birthday_lunar": lunar, "country": "CN",
                "province": province, "city": city, "district": rng.choice(districts),
                "address": address, "postal_code": postal + f"{rng.randint(0, 99):02d}",
                "source": rng.choices(("walk_in", "wechat", "referral", "website", "event"),
                                      (30, 25, 20, 15, 10))[0],
                **self.common_fields("zh")}
        if rng.random() < 0.3:
            company, industry, size = rng.choice(CN_COMPANIES)
            card.update(company=company, industry=industry, company_size=size,
                        job_title=rng.choice(CN_JOBS))
        local = rng.choice((f"{sur}{giv}{rng.randint(1, 99)}", f"{giv}.{sur}", f"{sur}{giv}",
                            f"{sur}_{giv}"))
        contacts = {"mobile": self.cn_mobile(),
                    "email": self.unique_email(local) if rng.random() < 0.88 else None,
                    "wechat": (f"wx_{sur}{giv}{rng.randint(1, 99)}" if rng.random() < 0.7
                               else None)}
        return card, contacts

    def company_profile(self):
        """A company card (企业客户): the name is the company's."""
        rng = self.rng
        company, industry, size = rng.choice(CN_COMPANIES)
        province, city, districts, streets, postal, _ = rng.choice(CN_REGIONS[:4])
        card = {"kind": "company", "name": company, "company": company, "industry": industry,
                "company_size": size, "country": "CN", "province": province, "city": city,
                "district": rng.choice(districts),
                "address": f"{rng.choice(streets)}{rng.randint(1, 999)}号{rng.randint(5, 30)}层",
                "postal_code": postal + f"{rng.randint(0, 99):02d}", "source": "referral",
                **self.common_fields("zh")}
        card["status"] = "active"
        local = f"purchasing{rng.randint(1, 999)}"
        contacts = {"mobile": self.cn_mobile(), "email": self.unique_email(local), "wechat": None}
        return card, contacts

    def international_profile(self):
        rng = self.rng
        country = rng.choices(list(INTL), [v[-1] for v in INTL.values()])[0]
        given_names, families, cities, streets, number_after, _ = INTL[country]
        given, gender = rng.choice(given_names)
        family = rng.choice(families)
        street, number = rng.choice(streets), rng.randint(1, 250)
        birthday, lunar = self.birthday(0)
        card = {"kind": "person", "name": f"{given} {family}", "gender": gender,
                "birthday": birthday, "birthday_lunar": lunar, "country": country,
                "city": rng.choice(cities),
                "address": f"{street} {number}" if number_after else f"{number} {street}",
                "source": rng.choices(("walk_in", "referral", "website", "event"),
                                      (25, 20, 40, 15))[0],
                **self.common_fields("en")}
        if rng.random() < 0.25:
            company, industry, size = rng.choice(INTL_COMPANIES)
            card.update(company=company, industry=industry, company_size=size,
                        job_title=rng.choice(INTL_JOBS))
        first, last = ascii_local(given), ascii_local(family)
        local = rng.choice((f"{first}.{last}", f"{first}{last}{rng.randint(1, 99)}",
                            f"{first[0]}{last}"))
        contacts = {"mobile": self.intl_mobile(country) if rng.random() < 0.85 else None,
                    "email": self.unique_email(local), "wechat": None}
        return card, contacts

    def demo_profiles(self):
        """王芳 and Emma Wilson: the portal demo customers, with a full history."""
        wang = {"kind": "person", "name": "王芳", "gender": "female",
                "birthday": datetime.date(1988, 3, 15), "birthday_lunar": False,
                "country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区",
                "address": "世纪大道100号 8栋1602室", "postal_code": "200120",
                "source": "referral", "status": "active", "owner": self.staff["agent"],
                "preferred_language": "zh", "company": "云帆网络科技有限公司",
                "job_title": "市场经理", "industry": "internet", "company_size": "201-1000",
                "notes": "喜欢简约风格，常在周末到店；介绍了两位朋友成为会员。",
                "special_requirements": "对坚果过敏"}
        emma = {"kind": "person", "name": "Emma Wilson", "gender": "female",
                "birthday": datetime.date(1991, 7, 22), "birthday_lunar": False,
                "country": "GB", "city": "London", "address": "221 King's Road",
                "postal_code": "SW3 5EP", "source": "website", "status": "active",
                "owner": self.staff["manager"], "preferred_language": "en",
                "notes": "Lives in Shanghai part of the year.",
                "special_requirements": "Prefers evening appointments"}
        return [
            (wang, {"mobile": "138 1688 1234", "email": "wangfang@example.com",
                    "wechat": "wx_wangfang88"},
             # VIP: six purchases worth ¥14,098 in the last year, and older ones
             [("AP-COFF-04", 20), ("CL-COAT-01", 45), ("AP-ROBO-02", 96), ("BT-SERM-01", 130),
              ("CL-DRSS-07", 210), ("BT-FACE-07", 300), ("CL-SHRT-02", 420),
              ("BT-CRM-02", 510), ("CL-KNIT-04", 640)]),
            (emma, {"mobile": "07946 095812", "email": "emma.wilson@example.com",
                    "wechat": None},
             [("CL-SHRT-02", 12), ("BT-SUN-03", 75), ("AP-HAIR-03", 160), ("CL-DOWN-06", 300),
              ("BT-LIP-04", 480)]),
        ]

    def plan_purchases(self, card, forced=None):
        """Purchases as (sku, quantity, unit price, when) consistent with the card's status."""
        rng = self.rng
        status = card["status"]
        if forced is not None:
            plan = [(sku, days) for sku, days in forced]
        elif status == "prospect":
            return []
        else:
            oldest = 729
            if status == "active":  # regulars buy through the year, some of them a lot
                count, newest = min(25, 1 + int(rng.expovariate(1 / 7))), rng.uniform(0, 150)
                oldest = rng.choice((420, 729))
            elif status == "dormant":
                count, newest = rng.randint(1, 8), rng.uniform(185, 330)
            else:
                count, newest = rng.randint(1, 5), rng.uniform(400, 700)
            weights = [p[-1] for p in PRODUCTS]
            plan = [(rng.choices(PRODUCTS, weights)[0][0],
                     newest if i == 0 else rng.uniform(newest, oldest)) for i in range(count)]
        purchases = []
        for sku, days in plan:
            product = PRODUCT_BY_SKU[sku]
            quantity = rng.randint(1, product[5]) if rng.random() < 0.3 else 1
            unit_price = (Decimal(product[4]) * rng.choice(DISCOUNTS)).quantize(CENT)
            purchases.append((sku, quantity, unit_price, self.at_days_ago(days)))
        return sorted(purchases, key=lambda p: p[3])

    def make_customers(self):
        rng = self.rng
        profiles = [(card, contacts, forced) for card, contacts, forced in self.demo_profiles()]
        generated = ([self.chinese_profile() for _ in range(105)]
                     + [self.company_profile() for _ in range(4)]
                     + [self.international_profile() for _ in range(89)])
        rng.shuffle(generated)
        profiles += [(card, contacts, None) for card, contacts in generated]
        for card, contacts, forced in profiles:
            purchases = self.plan_purchases(card, forced)
            if purchases:
                created = purchases[0][3] - datetime.timedelta(days=rng.uniform(1, 120))
            else:
                created = self.now - datetime.timedelta(days=rng.uniform(3, 400))
            created = created.replace(microsecond=0)
            owner = card["owner"]
            actor = Actor.for_staff(owner) if owner else SYSTEM
            customer = customer_service.create_customer(actor, **contacts, **card)
            verified = (self.between(created, self.now) if rng.random() < 0.6 else None)
            Customer.update(created_at=created, updated_at=self.between(created, self.now),
                            last_verified_at=verified).where(
                Customer.id == customer.id).execute()
            customer.created_at = created
            self.cards.append({"customer": customer, "lang": card["preferred_language"],
                               "email": customer.primary_email, "owner": owner,
                               "created": created, "purchases": purchases,
                               "demo": forced is not None, "birthday": card.get("birthday"),
                               "lunar": card.get("birthday_lunar", False)})
        # portal accounts: the two demo customers, then about 30% of the others with an email
        shared_hash = generate_password_hash(DEMO_PASSWORD)
        others = []
        for card in self.cards:
            customer = card["customer"]
            if card["demo"]:
                accounts.create_portal_account(customer, card["email"], DEMO_PASSWORD)
            elif card["email"] and rng.random() < 0.3:
                accounts.create_portal_account(customer, card["email"])
                others.append(customer.id)
        for chunk in chunked(others, 5000):
            PortalAccount.update(password_hash=shared_hash).where(
                PortalAccount.customer.in_(chunk)).execute()
        PortalAccount.update(email_verified_at=self.now).execute()

    # --- everything on the cards ----------------------------------------------------------------
