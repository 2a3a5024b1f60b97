"""The programmes shipped with the product, with the rules known when this version was written.

Each rule version records where its figures come from. Rules change: admins add versions through
the API (`POST /api/v1/programs/{program_id}/rules`); `seed_catalogue` only adds what is missing,
so it never overwrites an admin's edits.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.programmes.models import Program, RuleVersion
from agency.programmes.rules import validate_criteria
from agency.roster.models import Platform

GUIDE = "Agency source guide on TikTok monetisation (seed/000, French)"
ADULT = {"kind": "age", "min": 18}
GOOD_STANDING = {"kind": "standing", "at_least": "good"}


def _metric(
    platform: str,
    metric: str,
    minimum: int,
    aggregate: str = "latest",
    window: int | None = None,
    label: str | None = None,
) -> dict:
    criterion = {"kind": "metric", "platform": platform, "metric": metric, "aggregate": aggregate, "min": minimum}
    if window:
        criterion["window_days"] = window
    if label:
        criterion["label"] = label
    return criterion


CATALOGUE: list[dict] = [
    {
        "code": "tiktok_creator_fund",
        "name": "TikTok Creator Fund",
        "platform": Platform.tiktok,
        "activation_path": "Settings > Creator tools > Creator Fund",
        "description": "Legacy fund paying for views, engagement and region; TikTok replaced it with the "
        "Creator Rewards Program from 2023. Close it by giving its rules an end date.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2020, 7, 30),
                "country_scope": None,
                "source_note": f"{GUIDE}: 18+, 10,000 followers, 100,000 views in the last 30 days, guidelines "
                "respected, resident where monetisation is available.",
                "criteria": [
                    ADULT,
                    _metric("tiktok", "followers", 10_000),
                    _metric("tiktok", "views", 100_000, "sum", 30),
                    GOOD_STANDING,
                    {"kind": "country", "in": ["US", "GB", "DE", "FR", "IT", "ES"]},
                ],
            },
            {
                "version": 2,
                "effective_from": date(2020, 7, 30),
                "country_scope": ["US"],
                "source_note": "TikTok US help page on the Creator Fund: 18+, 10,000 followers, 10,000 video "
                "views in the last 30 days, US-based account in good standing.",
                "criteria": [
                    ADULT,
                    _metric("tiktok", "followers", 10_000),
                    _metric("tiktok", "views", 10_000, "sum", 30),
                    GOOD_STANDING,
                    {"kind": "country", "in": ["US"]},
                ],
            },
        ],
    },
    {
        "code": "tiktok_creator_rewards",
        "name": "TikTok Creator Rewards Program",
        "platform": Platform.tiktok,
        "activation_path": "Settings > Creator tools > Creator Rewards Program",
        "description": "Successor of the Creator Fund: rewards original videos longer than one minute.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2024, 3, 1),
                "country_scope": None,
                "source_note": "TikTok Creator Rewards Program eligibility (2024): 18+ (19+ in South Korea), "
                "10,000 followers, 100,000 views in the last 30 days, original videos of at least "
                "one minute, personal account, residence in US, UK, DE, FR, JP, KR or BR "
                "(some sources add ES and IT).",
                "criteria": [
                    {"kind": "age", "min": 18, "by_country": {"KR": 19}},
                    _metric("tiktok", "followers", 10_000),
                    _metric("tiktok", "views", 100_000, "sum", 30),
                    _metric(
                        "tiktok",
                        "qualified_videos",
                        1,
                        "sum",
                        30,
                        label="at least one original video over one minute in 30 days",
                    ),
                    {"kind": "account_type", "platform": "tiktok", "in": ["personal"]},
                    GOOD_STANDING,
                    {"kind": "country", "in": ["US", "GB", "DE", "FR", "JP", "KR", "BR"]},
                ],
            },
        ],
    },
    {
        "code": "tiktok_live_gifts",
        "name": "TikTok LIVE Gifts",
        "platform": Platform.tiktok,
        "activation_path": "Settings > Creator tools > LIVE Gifts",
        "description": "Viewers buy coins, send gifts during LIVEs; gifts become diamonds, paid out as money.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2021, 1, 1),
                "country_scope": None,
                "source_note": f"{GUIDE}: 1,000 followers (some options need 10,000), guidelines respected, 18+ in "
                "practice. TikTok LIVE policy: 18+ or the age of majority where the creator "
                "lives, whichever is older.",
                "criteria": [
                    {"kind": "age", "min": 18, "by_country": {"KR": 19, "DZ": 19, "NE": 21}},
                    _metric("tiktok", "followers", 1_000),
                    GOOD_STANDING,
                ],
            },
        ],
    },
    {
        "code": "tiktok_live_subscription",
        "name": "TikTok LIVE Subscription",
        "platform": Platform.tiktok,
        "activation_path": "Settings > Creator tools > LIVE Subscription",
        "description": "Monthly subscriptions from viewers with subscriber perks.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2022, 5, 1),
                "country_scope": None,
                "source_note": "TikTok newsroom (2022): 18+, 1,000 followers; invitation-based in some markets.",
                "criteria": [ADULT, _metric("tiktok", "followers", 1_000), GOOD_STANDING],
            },
        ],
    },
    {
        "code": "tiktok_video_gifts",
        "name": "TikTok Video Gifts",
        "platform": Platform.tiktok,
        "activation_path": "Settings > Creator tools > Video Gifts",
        "description": "Gifts on ordinary videos, with the same coin and diamond mechanics as LIVE Gifts.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2023, 6, 1),
                "country_scope": None,
                "source_note": f"{GUIDE}: new and rolling out. Thresholds vary by market; 18+ and 10,000 "
                "followers are the commonly published figures. Verify for each market.",
                "criteria": [ADULT, _metric("tiktok", "followers", 10_000), GOOD_STANDING],
            },
        ],
    },
    {
        "code": "tiktok_creator_marketplace",
        "name": "TikTok Creator Marketplace (TikTok One)",
        "platform": Platform.tiktok,
        "activation_path": "Settings > Creator tools > TikTok One / Creator Marketplace",
        "description": "Brands find creators for paid collaborations from a profile with niche, audience, "
        "engagement statistics and rates.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2021, 1, 1),
                "country_scope": None,
                "source_note": f"{GUIDE}: criteria 'vary'. Published figures: 18+ and 1,000 followers (10,000 "
                "in some markets). Verify for each market.",
                "criteria": [ADULT, _metric("tiktok", "followers", 1_000), GOOD_STANDING],
            },
        ],
    },
    {
        "code": "tiktok_shop_affiliate",
        "name": "TikTok Shop affiliate",
        "platform": Platform.tiktok,
        "activation_path": "Profile > TikTok Shop > Creator Center",
        "description": "Commission on products sold through the creator's videos and LIVEs.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2023, 9, 1),
                "country_scope": None,
                "source_note": "TikTok Shop affiliate: 18+ and a follower minimum that varies by market "
                "(5,000 in the US at launch, lower in some markets). Verify for each market.",
                "criteria": [ADULT, _metric("tiktok", "followers", 5_000)],
            },
        ],
    },
    {
        "code": "youtube_partner_program",
        "name": "YouTube Partner Program",
        "platform": Platform.youtube,
        "activation_path": "YouTube Studio > Earn",
        "description": "Ad revenue sharing and fan funding on YouTube.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2023, 6, 13),
                "country_scope": None,
                "source_note": "YouTube Help, YPP eligibility: 1,000 subscribers and either 4,000 public watch "
                "hours in the last 12 months or 10 million public Shorts views in the last 90 "
                "days; 18+ or a legal guardian who manages the earnings.",
                "criteria": [
                    {"kind": "age", "min": 18, "parental_agreement_suffices": True},
                    _metric("youtube", "followers", 1_000, label="1,000 subscribers"),
                    {
                        "kind": "any_of",
                        "label": "4,000 watch hours in 12 months or 10M Shorts views in 90 days",
                        "criteria": [
                            _metric("youtube", "watch_hours", 4_000, "sum", 365),
                            _metric("youtube", "shorts_views", 10_000_000, "sum", 90),
                        ],
                    },
                    GOOD_STANDING,
                ],
            },
        ],
    },
    {
        "code": "youtube_partner_program_early",
        "name": "YouTube Partner Program (early access tier)",
        "platform": Platform.youtube,
        "activation_path": "YouTube Studio > Earn",
        "description": "Lower tier with fan funding (memberships, Super Thanks) before ad revenue.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2023, 6, 13),
                "country_scope": None,
                "source_note": "YouTube Help (2023 expansion): 500 subscribers, 3 public uploads in the last "
                "90 days, and 3,000 watch hours in 12 months or 3 million Shorts views in 90 days.",
                "criteria": [
                    {"kind": "age", "min": 18, "parental_agreement_suffices": True},
                    _metric("youtube", "followers", 500, label="500 subscribers"),
                    _metric("youtube", "videos", 3, "sum", 90, label="3 uploads in 90 days"),
                    {
                        "kind": "any_of",
                        "label": "3,000 watch hours in 12 months or 3M Shorts views in 90 days",
                        "criteria": [
                            _metric("youtube", "watch_hours", 3_000, "sum", 365),
                            _metric("youtube", "shorts_views", 3_000_000, "sum", 90),
                        ],
                    },
                    GOOD_STANDING,
                ],
            },
        ],
    },
]


def seed_catalogue(*, db_session: Session) -> dict:
    """Add the shipped programmes and rule versions that are missing; never changes existing ones."""
    added_programs = added_rules = 0
    for entry in CATALOGUE:
        program = db_session.scalar(select(Program).where(Program.code == entry["code"]))
        if program is None:
            program = Program(
                code=entry["code"],
                name=entry["name"],
                platform=entry["platform"],
                description=entry["description"],
                activation_path=entry["activation_path"],
            )
            db_session.add(program)
            db_session.flush()
            added_programs += 1
        existing = set(db_session.scalars(select(RuleVersion.version).where(RuleVersion.program_id == program.id)))
        for rule in entry["rules"]:
            if rule["version"] in existing:
                continue
            db_session.add(
                RuleVersion(
                    program_id=program.id,
                    version=rule["version"],
                    effective_from=rule["effective_from"],
                    effective_to=rule.get("effective_to"),
                    country_scope=rule["country_scope"],
                    source_note=rule["source_note"],
                    criteria=validate_criteria(rule["criteria"]),
                )
            )
            added_rules += 1
    db_session.flush()
    return {"programs_added": added_programs, "rule_versions_added": added_rules}
