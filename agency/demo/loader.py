"""A deterministic demo agency: staff, creators, accounts and daily metrics.

The same seed gives the same agency (relative to `today`), so tests and benchmarks can reuse it.
Metrics are written with set-based inserts, never one ORM object per row.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from agency.core.audit.models import AuditEntry
from agency.core.database import Base, refresh_statistics
from agency.core.users.models import CreatorLogin, Role, User
from agency.core.users.service import hash_password
from agency.currencies.models import FxRate
from agency.deals.models import Brand, Deal
from agency.demo.money import load_demo_money
from agency.demo.money_chain import load_demo_money_chain, reset_demo_money_chain
from agency.metrics.models import MetricSnapshot
from agency.money.models import RevenueRecord
from agency.programmes.catalogue import seed_catalogue
from agency.programmes.models import EligibilityEvaluation
from agency.roster.models import AccountType, Creator, CreatorStatus, Niche, Platform, PlatformAccount, Standing

DEMO_PASSWORD = "demo-password-2026"
DEMO_EMAIL_DOMAIN = "agency.example"

_FIRST = [
    "Lina",
    "Hugo",
    "Chloé",
    "Yanis",
    "Inès",
    "Lucas",
    "Maya",
    "Noah",
    "Jade",
    "Sacha",
    "Zoé",
    "Adam",
    "Emma",
    "Léo",
    "Sofia",
    "Mateo",
    "Aiko",
    "Kenji",
    "Ji-woo",
    "Min-jun",
    "Ana",
    "João",
    "Greta",
    "Felix",
    "Olivia",
    "Liam",
    "Amara",
    "Tariq",
    "Priya",
    "Diego",
]
_LAST = [
    "Martin",
    "Bernard",
    "Dubois",
    "Moreau",
    "Laurent",
    "Garcia",
    "Silva",
    "Tanaka",
    "Kim",
    "Park",
    "Schmidt",
    "Müller",
    "Smith",
    "Jones",
    "Rossi",
    "Lopez",
    "Okafor",
    "Haddad",
    "Sharma",
    "Costa",
]
_COUNTRIES = [
    ("FR", ["fr"]),
    ("FR", ["fr", "en"]),
    ("US", ["en"]),
    ("US", ["en", "es"]),
    ("GB", ["en"]),
    ("DE", ["de", "en"]),
    ("JP", ["ja"]),
    ("KR", ["ko"]),
    ("BR", ["pt"]),
    ("ES", ["es"]),
    ("IT", ["it"]),
    ("BE", ["fr", "nl"]),
    ("CA", ["en", "fr"]),
    ("MA", ["fr", "ar"]),
    ("NG", ["en"]),
]
_NICHES = list(Niche)
_SECONDARY = [Platform.youtube, Platform.instagram, Platform.twitch, Platform.blog, Platform.podcast]


NAME_SUFFIXES = ["Studio", "Daily", "Eats", "Plays", "Moves", "Talks", "Style", "Lab"]


def _handle(display_name: str) -> str:
    """A handle the API's pattern accepts: the name without accents, spaces as underscores."""
    ascii_name = unicodedata.normalize("NFKD", display_name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9._-]", "", ascii_name.lower().replace(" ", "_"))


def _growth_profile(rng: random.Random) -> dict:
    """Starting audience and daily growth of one account: a spread from tiny to large, with
    some flat or shrinking accounts and some close to the usual thresholds."""
    kind = rng.choices(
        ["tiny", "near_1k", "small", "near_10k", "mid", "large", "declining"], weights=[2, 2, 3, 4, 4, 3, 2]
    )[0]
    start = {
        "tiny": rng.randint(50, 600),
        "near_1k": rng.randint(600, 950),
        "small": rng.randint(1_200, 6_000),
        "near_10k": rng.randint(7_000, 9_600),
        "mid": rng.randint(12_000, 80_000),
        "large": rng.randint(150_000, 2_000_000),
        "declining": rng.randint(9_000, 40_000),
    }[kind]
    daily_growth = {
        "tiny": rng.uniform(0, 3),
        "near_1k": rng.uniform(1, 6),
        "small": rng.uniform(5, 40),
        "near_10k": rng.uniform(10, 60),
        "mid": rng.uniform(20, 300),
        "large": rng.uniform(200, 3_000),
        "declining": -rng.uniform(5, 40),
    }[kind]
    views_per_follower = rng.uniform(0.05, 0.6)
    return {"start": start, "growth": daily_growth, "vpf": views_per_follower, "kind": kind}


def metric_rows(
    account_id: int, profile: dict, first_day: date, days: int, rng: random.Random, platform: Platform = Platform.tiktok
) -> Iterator[dict]:
    """Daily snapshots with weekly seasonality, noise, a few missing days and the odd viral spike."""
    followers = float(profile["start"])
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        weekly = 1 + 0.15 * math.sin(2 * math.pi * day.weekday() / 7)
        spike = rng.uniform(3, 12) if rng.random() < 0.02 else 1.0
        followers = max(0.0, followers + profile["growth"] * weekly * rng.uniform(0.5, 1.5) * (spike**0.5))
        if rng.random() < 0.03:
            continue  # exports have gaps; the engine must cope
        views = int(followers * profile["vpf"] * weekly * spike * rng.uniform(0.6, 1.4))
        likes = int(views * rng.uniform(0.03, 0.12))
        videos = rng.choices([0, 1, 2, 3], weights=[3, 5, 2, 1])[0]
        row = {
            "account_id": account_id,
            "day": day,
            "followers": int(followers),
            "views": views,
            "likes": likes,
            "comments": int(likes * rng.uniform(0.02, 0.1)),
            "shares": int(likes * rng.uniform(0.01, 0.08)),
            "videos": videos,
            "qualified_videos": sum(rng.random() < 0.6 for _ in range(videos)),
            "live_hours": round(rng.choice([0, 0, 0, 0.5, 1, 2]) * 1.0, 2),
            "watch_hours": 0,
            "shorts_views": 0,
        }
        if platform is Platform.youtube:
            row["watch_hours"] = round(views * rng.uniform(0.02, 0.08), 2)
            row["shorts_views"] = int(views * rng.uniform(1, 6))
        yield row


def _ensure_staff(session: Session) -> dict[str, User]:
    staff = {
        "admin": ("Avery Admin", Role.admin, "Europe/Paris"),
        "manager1": ("Manon Leroy", Role.manager, "Europe/Paris"),
        "manager2": ("Marcus Reed", Role.manager, "America/New_York"),
        "manager3": ("Mina Sato", Role.manager, "Asia/Tokyo"),
        "analyst": ("Anaïs Petit", Role.analyst, "Europe/Paris"),
    }
    users: dict[str, User] = {}
    password_hash = hash_password(DEMO_PASSWORD)
    for key, (name, role, zone) in staff.items():
        email = f"{key}@{DEMO_EMAIL_DOMAIN}"
        user = session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, full_name=name, role=role, timezone=zone, password_hash=password_hash)
            session.add(user)
        users[key] = user
    session.flush()
    return users


def _ensure_portal_creator(session: Session, manager: User, password_hash: str) -> None:
    """A creator account for manager1's first creator, to try the creator portal."""
    email = f"creator@{DEMO_EMAIL_DOMAIN}"
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        return
    creator = session.scalars(select(Creator).where(Creator.manager_id == manager.id).order_by(Creator.id)).first()
    if creator is None:
        return
    user = User(
        email=email, full_name=creator.display_name, role=Role.creator, timezone="UTC", password_hash=password_hash
    )
    session.add(user)
    session.flush()
    session.add(CreatorLogin(user_id=user.id, creator_id=creator.id))
    session.flush()


def reset_demo(session: Session) -> None:
    """Remove creators (and everything hanging off them) and demo staff."""
    reset_demo_money_chain(session)
    # Evaluations have no foreign key to cascade from their creator (see EligibilityEvaluation).
    for model in (RevenueRecord, Deal, Brand, FxRate, EligibilityEvaluation):
        session.execute(delete(model))
    session.execute(delete(Creator))
    session.execute(delete(AuditEntry))
    session.execute(delete(User).where(User.email.like(f"%@{DEMO_EMAIL_DOMAIN}")))
    session.flush()


def load_demo(
    *,
    db_session: Session,
    creators: int = 48,
    days: int = 120,
    seed: int = 7,
    reset: bool = False,
    today: date | None = None,
) -> dict:
    if reset:
        reset_demo(db_session)
    rng = random.Random(seed)
    today = today or date.today()
    first_day = today - timedelta(days=days)
    users = _ensure_staff(db_session)
    managers = [users["manager1"], users["manager2"], users["manager3"]]
    existing = db_session.scalar(select(Creator.id).limit(1))
    if existing is not None and not reset:
        return {"skipped": "creators already present (use --reset to reload)"}

    creator_rows = []
    for index in range(creators):
        country, languages = rng.choice(_COUNTRIES)
        age_band = rng.choices(["minor", "young", "adult"], weights=[2, 4, 6])[0]
        age = {"minor": rng.randint(14, 17), "young": rng.randint(18, 24), "adult": rng.randint(25, 45)}[age_band]
        dob = today - timedelta(days=age * 365 + rng.randint(10, 350))
        name = f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        creator_rows.append(
            {
                "display_name": f"{name.split()[0]} {rng.choice(NAME_SUFFIXES)} {index + 1}",
                "legal_name": name,
                "date_of_birth": dob,
                "country": country,
                "languages": languages,
                "niche": _NICHES[index % len(_NICHES)] if index < len(_NICHES) else rng.choice(_NICHES),
                "manager_id": managers[index % len(managers)].id if index % 9 != 8 else None,
                "status": rng.choices(list(CreatorStatus)[:3], weights=[1, 8, 1])[0],
                "guideline_standing": rng.choices(list(Standing), weights=[12, 2, 1])[0],
                "parental_agreement_on_file": age_band == "minor" and rng.random() < 0.5,
                "notes": "",
                "version": 1,
            }
        )
    creator_ids = list(
        db_session.scalars(insert(Creator).returning(Creator.id, sort_by_parameter_order=True), creator_rows)
    )

    account_rows, profiles = [], []
    # Every eighth creator (the fourth, the twelfth...) runs two TikTok accounts: a large business
    # account and a small personal one. Neither qualifies for a programme that needs a personal
    # account with 10,000 followers, and the explanation names the closer one. Their own random
    # stream keeps the rest of the agency identical for a given seed.
    side = random.Random(seed * 7919 + 1)
    for index, (creator_id, row) in enumerate(zip(creator_ids, creator_rows)):
        slug = _handle(row["display_name"])
        platforms = [Platform.tiktok] + rng.sample(_SECONDARY, k=rng.choice([0, 1, 1, 2]))
        two_tiktoks = index % 8 == 3
        for platform in platforms:
            account_type = AccountType.business if rng.random() < 0.15 else AccountType.personal
            profile = _growth_profile(rng)
            if two_tiktoks and platform is Platform.tiktok:
                account_type = AccountType.business
                profile |= {
                    "start": side.randint(150_000, 600_000),
                    "growth": side.uniform(200, 1_500),
                    "kind": "large",
                }
            account_rows.append(
                {"creator_id": creator_id, "platform": platform, "handle": slug, "account_type": account_type}
            )
            profiles.append((platform, profile, rng))
        if two_tiktoks:
            account_rows.append(
                {
                    "creator_id": creator_id,
                    "platform": Platform.tiktok,
                    "handle": f"{slug}_perso",
                    "account_type": AccountType.personal,
                }
            )
            profiles.append(
                (
                    Platform.tiktok,
                    {"start": side.randint(300, 3_000), "growth": side.uniform(0, 8), "vpf": 0.3, "kind": "tiny"},
                    side,
                )
            )
    account_ids = list(
        db_session.scalars(
            insert(PlatformAccount).returning(PlatformAccount.id, sort_by_parameter_order=True), account_rows
        )
    )

    metric_count = 0
    batch: list[dict] = []
    for account_id, (platform, profile, stream) in zip(account_ids, profiles):
        for row in metric_rows(account_id, profile, first_day, days, stream, platform):
            batch.append(row)
            if len(batch) >= 5_000:
                db_session.execute(insert(MetricSnapshot), batch)
                metric_count += len(batch)
                batch = []
    if batch:
        db_session.execute(insert(MetricSnapshot), batch)
        metric_count += len(batch)
    db_session.flush()
    _ensure_portal_creator(db_session, users["manager1"], users["manager1"].password_hash)
    summary = {
        "staff": len(users),
        "creators": len(creator_ids),
        "accounts": len(account_ids),
        "metric_snapshots": metric_count,
        "days": f"{first_day} .. {today - timedelta(days=1)}",
    }
    summary |= seed_catalogue(db_session=db_session)
    summary |= load_demo_money(db_session=db_session, seed=seed, today=today, days=days)
    summary |= load_demo_money_chain(db_session=db_session, admin=users["admin"], manager=managers[0], today=today)
    db_session.flush()
    # Everything was just written in bulk: give the planner the tables' real sizes.
    refresh_statistics(db_session.connection(), [table for table in Base.metadata.sorted_tables])
    return summary
