"""Demo data for first runs, and bulk generated data for benchmarks.

``seed_demo()`` fills an empty database with a small, realistic business (Chinese first, with
international customers): staff for every role, tiers, consent purposes with their policies, the
preference fields, about 200 customer cards with purchases, services, interactions, tasks,
feedback, consent and tier history, portal accounts, and a satisfaction survey sent by a campaign.
Everything comes from ``random.Random(seed)``: the same seed gives the same business (dates are
relative to today).

``seed_scale()`` adds many synthetic cards and purchases quickly with bulk inserts, for benchmarks.

Every name is made up, every email address is at example.com / example.org / example.net, and
every phone number is only *valid-looking* (it passes ``phonenumbers``, nobody owns it on purpose).

Tier rules as applied here: a customer earns a tier when every rule the tier sets holds within its
window (spend >= ``min_spend`` and orders >= ``min_orders`` in the last ``window_days``); the
highest rank earned wins; otherwise the default tier.
"""
from services.demo.business import seed_demo
from services.demo.common import DEMO_PASSWORD, demo_logins, is_empty
from services.demo.scale import seed_scale

__all__ = ["DEMO_PASSWORD", "demo_logins", "is_empty", "seed_demo", "seed_scale"]
