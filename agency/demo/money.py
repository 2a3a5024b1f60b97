"""Demo brands, deals, deliverables, revenue across every source and currency, and FX rates.

Creators get one of a few revenue profiles so that the demo shows every diversification risk
level: TikTok-only earners (high risk), brand-deal dependants, balanced earners, and some with no
revenue yet.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from agency.core.database import bulk_insert
from agency.currencies.models import FxRate
from agency.deals.models import (
    Brand,
    Deal,
    DealSource,
    DealStage,
    DealTransition,
    Deliverable,
    DeliverableKind,
    DeliverableStatus,
)
from agency.money.models import RevenueRecord, RevenueSource
from agency.programmes.models import ActivationStatus, Program, ProgramActivation
from agency.roster.models import Creator, Platform

# Units of EUR per unit of each currency, around late 2026 levels.
EUR_RATES = {
    "USD": Decimal("0.92"),
    "GBP": Decimal("1.17"),
    "JPY": Decimal("0.0061"),
    "KRW": Decimal("0.00068"),
    "BRL": Decimal("0.17"),
    "CAD": Decimal("0.67"),
    "MAD": Decimal("0.092"),
    "NGN": Decimal("0.00058"),
}
CURRENCY_BY_COUNTRY = {
    "US": "USD",
    "GB": "GBP",
    "JP": "JPY",
    "KR": "KRW",
    "BR": "BRL",
    "CA": "CAD",
    "MA": "MAD",
    "NG": "NGN",
}
BRANDS = [
    ("Maison Lumière", "beauty"),
    ("Cuisine Express", "food"),
    ("PixelForge", "gaming"),
    ("Atlas Sportswear", "sportswear"),
    ("Nomad Luggage", "travel"),
    ("Brightlearn", "education"),
    ("Soundwave Audio", "electronics"),
    ("Verde Foods", "food"),
    ("Studio Nine Fashion", "fashion"),
    ("ByteSmart", "technology"),
    ("FitFuel", "nutrition"),
    ("Papier & Co", "stationery"),
]
PROFILES = {
    # source -> (platform, weekly amount range in local currency)
    "tiktok_only": {"creator_rewards": ("tiktok", 80, 400), "live_gifts": ("tiktok", 20, 150)},
    "brand_heavy": {"creator_rewards": ("tiktok", 10, 60)},
    "balanced": {
        "creator_rewards": ("tiktok", 40, 160),
        "live_gifts": ("tiktok", 10, 60),
        "platform_ads": ("youtube", 40, 180),
        "affiliate": ("instagram", 20, 120),
        "merch": (None, 30, 200),
        "courses": (None, 0, 150),
        "subscriptions": ("tiktok", 5, 40),
    },
    "mixed": {
        "creator_rewards": ("tiktok", 60, 250),
        "affiliate": ("instagram", 10, 60),
        "video_gifts": ("tiktok", 5, 30),
        "coaching": (None, 0, 80),
    },
}


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2)))


def load_fx_rates(session: Session, rng: random.Random, first_day: date, today: date) -> int:
    rows = []
    for currency, centre in EUR_RATES.items():
        rate = centre
        day = first_day - timedelta(days=7)
        while day <= today:
            rate = (rate * Decimal(str(1 + rng.uniform(-0.01, 0.01)))).quantize(Decimal("0.00000001"))
            rows.append({"day": day, "base": currency, "quote": "EUR", "rate": rate, "source": "demo"})
            day += timedelta(days=1 if day.weekday() < 4 else 3)  # business days
    session.execute(insert(FxRate), rows)
    return len(rows)


def load_demo_money(*, db_session: Session, seed: int, today: date, days: int) -> dict:
    rng = random.Random(seed * 7919)
    first_day = today - timedelta(days=days)
    rates = load_fx_rates(db_session, rng, first_day, today)
    brand_ids = list(
        db_session.scalars(
            insert(Brand).returning(Brand.id, sort_by_parameter_order=True),
            [
                {
                    "name": name,
                    "industry": industry,
                    "website": f"https://{name.lower().replace(' ', '').replace('&', '')}.example",
                    "contacts": [
                        {
                            "name": f"{name.split()[0]} partnerships",
                            "email": f"partners@{name.split()[0].lower()}.example",
                            "role": "Partnerships lead",
                        }
                    ],
                    "notes": "",
                    "version": 1,
                }
                for name, industry in BRANDS
            ],
        )
    )
    creators = db_session.execute(
        select(Creator.id, Creator.country, Creator.manager_id)
        .where(Creator.archived_at.is_(None))
        .order_by(Creator.id)
    ).all()
    revenue: list[dict] = []
    deals = deliverables = 0
    for index, creator in enumerate(creators):
        currency = CURRENCY_BY_COUNTRY.get(creator.country, "EUR")
        profile_name = ["tiktok_only", "balanced", "brand_heavy", "mixed", "none", "balanced", "tiktok_only", "mixed"][
            index % 8
        ]
        if profile_name == "none":
            continue
        for source, (platform, low, high) in PROFILES[profile_name].items():
            day = first_day + timedelta(days=rng.randint(0, 6))
            week = 0
            while day < today:
                amount = rng.uniform(low, high) * (1 + index % 5 / 4)
                if amount >= 1:
                    revenue.append(
                        {
                            "creator_id": creator.id,
                            "earned_on": day,
                            "source": source,
                            "platform": platform,
                            "amount": _money(amount),
                            "currency": currency,
                            "is_refund": False,
                            "external_ref": f"demo-{creator.id}-{source}-{week}",
                            "notes": "",
                            "version": 1,
                        }
                    )
                day += timedelta(days=7)
                week += 1
        if profile_name == "balanced" and index % 3 == 0:  # the odd refund, as real exports have
            revenue.append(
                {
                    "creator_id": creator.id,
                    "earned_on": today - timedelta(days=12),
                    "source": "merch",
                    "platform": None,
                    "amount": _money(-rng.uniform(10, 40)),
                    "currency": currency,
                    "is_refund": True,
                    "external_ref": f"demo-{creator.id}-refund",
                    "notes": "Returned order",
                    "version": 1,
                }
            )
        deal_count = {"brand_heavy": 4, "balanced": 2, "mixed": 1, "tiktok_only": 1}[profile_name]
        for n in range(deal_count):
            stage = rng.choice(list(DealStage))
            if profile_name == "brand_heavy" and n < 3:
                stage = DealStage.paid
            fee = _money(rng.choice([500, 800, 1200, 2500, 4000, 7500]) * rng.uniform(0.8, 1.3))
            start = today - timedelta(days=rng.randint(5, max(5, days - 10)))
            deal = Deal(
                creator_id=creator.id,
                brand_id=rng.choice(brand_ids),
                title=f"{rng.choice(['Spring', 'Launch', 'Holiday', 'Always-on', 'Back to school'])} campaign",
                source=rng.choice(list(DealSource)),
                fee_amount=fee,
                fee_currency=currency,
                commission_percent=Decimal(rng.choice(["15.00", "20.00", "25.00"])),
                stage=stage,
                start_date=start,
                end_date=start + timedelta(days=rng.randint(14, 60)),
            )
            if stage in (DealStage.invoiced, DealStage.paid):
                deal.invoiced_on = start + timedelta(days=rng.randint(5, 40))
                deal.invoiced_on = min(deal.invoiced_on, today - timedelta(days=1))
            if stage is DealStage.paid:
                deal.paid_on = min(deal.invoiced_on + timedelta(days=rng.randint(5, 30)), today - timedelta(days=1))
            db_session.add(deal)
            db_session.flush()
            deals += 1
            _history(db_session, deal)
            for k in range(rng.randint(1, 3)):
                due = start + timedelta(days=rng.randint(3, 70))
                status = (
                    DeliverableStatus.published
                    if stage in (DealStage.delivered, DealStage.invoiced, DealStage.paid)
                    else rng.choice([DeliverableStatus.planned, DeliverableStatus.in_progress])
                )
                db_session.add(
                    Deliverable(
                        deal_id=deal.id,
                        kind=rng.choice(list(DeliverableKind)[:5]),
                        platform=rng.choice([Platform.tiktok, Platform.instagram, Platform.youtube]),
                        due_date=due,
                        status=status,
                        published_url=f"https://www.tiktok.com/@demo/video/{deal.id}{k}"
                        if status is DeliverableStatus.published
                        else "",
                    )
                )
                deliverables += 1
            if stage is DealStage.paid:
                revenue.append(
                    {
                        "creator_id": creator.id,
                        "earned_on": deal.paid_on,
                        "source": RevenueSource.brand_deal.value,
                        "platform": None,
                        "amount": fee,
                        "currency": currency,
                        "is_refund": False,
                        "external_ref": f"deal:{deal.id}",
                        "notes": deal.title,
                        "version": 1,
                        "deal_id": deal.id,
                        "commission_percent": deal.commission_percent,
                    }
                )
    _activations(db_session, rng, [c.id for c in creators], today)
    db_session.flush()
    for row in revenue:
        row.setdefault("deal_id", None)
        row.setdefault("commission_percent", None)
        row.setdefault("adjustment", None)
    bulk_insert(db_session.connection(), RevenueRecord.__table__, revenue)
    return {
        "fx_rates": rates,
        "brands": len(brand_ids),
        "deals": deals,
        "deliverables": deliverables,
        "revenue_records": len(revenue),
    }


def _history(session: Session, deal: Deal) -> None:
    """Transition rows leading to the deal's demo stage, as if moved through the pipeline."""
    order = [
        DealStage.lead,
        DealStage.negotiating,
        DealStage.contracted,
        DealStage.in_progress,
        DealStage.delivered,
        DealStage.invoiced,
        DealStage.paid,
    ]
    if deal.stage in (DealStage.cancelled, DealStage.lost):
        steps = [(DealStage.lead, deal.stage)]
    else:
        reached = order[: order.index(deal.stage) + 1]
        steps = list(zip(reached, reached[1:]))
    for before, after in steps:
        session.add(DealTransition(deal_id=deal.id, from_stage=before, to_stage=after, actor_label="system:demo"))


def _activations(session: Session, rng: random.Random, creator_ids: list[int], today: date) -> None:
    """Some creators have switched programmes on, some applied or were rejected, most not yet."""
    programs = list(
        session.scalars(
            select(Program.id).where(
                Program.code.in_(["tiktok_live_gifts", "tiktok_creator_rewards", "tiktok_creator_marketplace"])
            )
        )
    )
    rows = []
    for creator_id in creator_ids:
        for program_id in programs:
            status = rng.choices(list(ActivationStatus), weights=[5, 1, 4, 1])[0]
            if status is ActivationStatus.not_applied:
                continue
            day = today - timedelta(days=rng.randint(5, 90))
            rows.append(
                {
                    "creator_id": creator_id,
                    "program_id": program_id,
                    "status": status,
                    "notes": "",
                    "applied_on": day,
                    "activated_on": day + timedelta(days=3) if status is ActivationStatus.active else None,
                    "rejected_on": day + timedelta(days=5) if status is ActivationStatus.rejected else None,
                    "version": 1,
                }
            )
    if rows:
        session.execute(insert(ProgramActivation), rows)
