"""The programmes shipped with the product, with the rules known when this version was written.

Each rule version records where its figures come from and where the product departs from the
agency's source guide (a French guide to TikTok monetisation, `seed/000`) and why. The dates are
the ones the sources give, so that "as of" answers about the past are right: a programme that
ended carries the day it ended on its versions (never a deletion).

Rules change: admins add versions through the API (`POST /api/v1/programs/{program_id}/rules`).
`seed_catalogue` brings a database up to this catalogue without rewriting what was published:
it adds the versions that are missing, ends (through the rule-end service, which also refreshes
the evaluations) the versions the catalogue says have ended, and when a published version differs
from the catalogue's (an older release of the product shipped other criteria) it leaves it as it
is and adds the catalogue's version beside it, which takes precedence (the highest version in
force wins). Run again, it finds everything in place and writes nothing.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from agency.core.audit.service import Actor
from agency.programmes.freshness import request_refresh
from agency.programmes.models import Program, RuleVersion
from agency.programmes.rules import validate_criteria
from agency.programmes.service import end_rule_version
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


# Where the age of majority is above 18 (TikTok's LIVE rule: "18 or the age of majority where the
# creator lives, whichever is older"). From the civil codes as summarised in the "Age of majority"
# comparison (Wikipedia, checked November 2026). Residence is recorded per country, so places whose
# provinces or states differ (Canada: 19 in six provinces; United States: 19 in Alabama and
# Nebraska, 21 in Mississippi) use the country's general age of 18. Territories with an ISO 3166-1
# code of their own are residences of their own (Puerto Rico: PR, 21 under its Civil Code).
AGE_OF_MAJORITY_ABOVE_18: dict[str, int] = {
    "DZ": 19,  # Algeria
    "KR": 19,  # South Korea
    "NZ": 20,  # New Zealand (Age of Majority Act 1970)
    "TH": 20,  # Thailand
    "AE": 21,  # United Arab Emirates
    "BH": 21,  # Bahrain
    "CM": 21,  # Cameroon
    "EG": 21,  # Egypt
    "GA": 21,  # Gabon
    "KW": 21,  # Kuwait
    "LS": 21,  # Lesotho
    "MG": 21,  # Madagascar
    "NE": 21,  # Niger
    "PR": 21,  # Puerto Rico (Civil Code of Puerto Rico)
    "SG": 21,  # Singapore
    "SZ": 21,  # Eswatini
    "TD": 21,  # Chad
}

FUND_END = date(2023, 12, 16)  # ended in the US, UK, DE and FR (press reports of TikTok's statement, Nov 2023)
REWARDS_START = date(2024, 3, 1)  # the Creativity Program Beta renamed and widened
SHORTS_ROUTE = date(2023, 2, 1)  # YouTube's Shorts route to the Partner Program
LOWER_TIER = date(2023, 6, 13)  # YouTube's lower Partner Program tier (fan funding)
GUIDE_AGE = {"kind": "age", "min": 18, "parental_agreement_suffices": True}
YPP_AGE = {"kind": "age", "min": 18, "parental_agreement_suffices": True}
YPP_ANY_OF = {
    "kind": "any_of",
    "label": "4,000 watch hours in 12 months or 10M Shorts views in 90 days",
    "criteria": [
        _metric("youtube", "watch_hours", 4_000, "sum", 365),
        _metric("youtube", "shorts_views", 10_000_000, "sum", 90),
    ],
}


def _fund_criteria(countries: list[str], views: int = 100_000) -> list[dict]:
    return [
        GUIDE_AGE,
        _metric("tiktok", "followers", 10_000),
        _metric("tiktok", "views", views, "sum", 30),
        GOOD_STANDING,
        {"kind": "country", "in": countries},
    ]


CATALOGUE: list[dict] = [
    {
        "code": "tiktok_creator_fund",
        "name": "TikTok Creator Fund",
        "platform": Platform.tiktok,
        "activation_path": "Settings > Creator tools > Creator Fund",
        "description": "Legacy fund paying for views, engagement and region (July 2020). It ended on 16 December "
        "2023 in the US, the UK, Germany and France, succeeded by the Creator Rewards Program; it was still "
        "reported open in Italy and Spain after that.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2020, 7, 30),
                "effective_to": FUND_END,
                "country_scope": None,
                "source_note": f"{GUIDE}: 18+ (younger only with a specific parental agreement, as the guide's "
                "summary table says), 10,000 followers, 100,000 views in the last 30 days, guidelines respected, "
                "resident where monetisation is available. Departs from the guide: 'where monetisation is "
                "available' is the list of countries where the Fund was open (US, UK, DE, FR, IT, ES), so that "
                "residence can be checked; the US has its own version (TikTok's US figures). Ended 16 December "
                "2023 (press reports of TikTok's statement, November 2023); Italy and Spain continue in version 3.",
                "criteria": _fund_criteria(["US", "GB", "DE", "FR", "IT", "ES"]),
            },
            {
                "version": 2,
                "effective_from": date(2020, 7, 30),
                "effective_to": FUND_END,
                "country_scope": ["US"],
                "source_note": "TikTok US help page on the Creator Fund: 18+, 10,000 followers, 10,000 video "
                "views in the last 30 days, US-based account in good standing. Departs from the guide: 10,000 "
                "views instead of 100,000 and no parental-agreement exception (TikTok's US terms). Ended 16 "
                "December 2023 in the US (press reports of TikTok's statement, November 2023).",
                "criteria": [
                    ADULT,
                    _metric("tiktok", "followers", 10_000),
                    _metric("tiktok", "views", 10_000, "sum", 30),
                    GOOD_STANDING,
                    {"kind": "country", "in": ["US"]},
                ],
            },
            {
                "version": 3,
                "effective_from": FUND_END,
                "country_scope": None,
                "source_note": f"{GUIDE}, as in version 1, where the Fund was still reported open after 16 "
                "December 2023: Italy and Spain only (press reports, November 2023; TikTok published no end "
                "date there). Departs from the guide: residence limited to those two countries.",
                "criteria": _fund_criteria(["IT", "ES"]),
            },
        ],
    },
    {
        "code": "tiktok_creator_rewards",
        "name": "TikTok Creator Rewards Program",
        "platform": Platform.tiktok,
        "activation_path": "Settings > Creator tools > Creator Rewards Program",
        "description": "Successor of the Creator Fund: rewards original videos longer than one minute. It began "
        "as the Creativity Program Beta (February 2023, US only), renamed and widened in 2024.",
        "rules": [
            {
                "version": 1,
                "effective_from": REWARDS_START,
                "country_scope": None,
                "source_note": "TikTok Creator Rewards Program eligibility (2024): 18+ (19+ in South Korea), "
                "10,000 followers, 100,000 views in the last 30 days, original videos of at least "
                "one minute, personal account, residence in US, UK, DE, FR, JP, KR or BR "
                "(some sources add ES and IT). Departs from the guide (which describes the Fund): the "
                "one-minute videos, the personal account and the country list are TikTok's own terms; no "
                "parental-agreement exception.",
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
            {
                # Numbered after the programme's first shipped version; in force before it.
                "version": 2,
                "effective_from": date(2023, 2, 1),
                "effective_to": REWARDS_START,
                "country_scope": ["US"],
                "source_note": "TikTok Creativity Program Beta (February 2023, US only): 18+, 10,000 followers, "
                "100,000 views in the last 30 days, videos over one minute. Renamed and widened as the Creator "
                "Rewards Program in 2024 (version 1). Departs from the guide: the one-minute videos and the US "
                "residence are TikTok's terms for the beta.",
                "criteria": [
                    ADULT,
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
                    GOOD_STANDING,
                    {"kind": "country", "in": ["US"]},
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
                "practice. Departs from the guide: the age is TikTok's LIVE rule, 18 or the age of majority "
                "where the creator lives, whichever is older, from a table of every country where that age is "
                "above 18 (civil codes; Canadian provinces and US states that differ are not modelled, residence "
                "being recorded per country). The 10,000-follower options are not modelled separately.",
                "criteria": [
                    {"kind": "age", "min": 18, "by_country": dict(AGE_OF_MAJORITY_ABOVE_18)},
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
                "source_note": "TikTok newsroom (2022): 18+, 1,000 followers; invitation-based in some markets. "
                "Not in the guide.",
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
                "source_note": f"{GUIDE}: new and rolling out, no criteria given. Departs from the guide: "
                "thresholds vary by market; 18+ and 10,000 followers are the commonly published figures. "
                "Verify for each market.",
                "criteria": [ADULT, _metric("tiktok", "followers", 10_000), GOOD_STANDING],
            },
        ],
    },
    {
        "code": "tiktok_series",
        "name": "TikTok Series",
        "platform": Platform.tiktok,
        "activation_path": "TikTok Studio > Monetization > Series",
        "description": "Paywalled collections of videos that viewers buy.",
        "rules": [
            {
                "version": 1,
                "effective_from": date(2023, 10, 1),
                "country_scope": None,
                "source_note": "TikTok Series (announced October 2023): thresholds vary by market; the commonly "
                "published figures are 18+, 10,000 followers and 1,000 views in the last 30 days, in good "
                "standing. Not in the guide. Verify for each market.",
                "criteria": [
                    ADULT,
                    _metric("tiktok", "followers", 10_000),
                    _metric("tiktok", "views", 1_000, "sum", 30),
                    GOOD_STANDING,
                ],
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
                "source_note": f"{GUIDE}: criteria 'vary'. Departs from the guide: the published figures, 18+ "
                "and 1,000 followers (10,000 in some markets), so that a verdict can be given. Verify for each "
                "market.",
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
                "(5,000 in the US at launch, lower in some markets). The guide lists affiliate marketing with "
                "no criteria; the product uses TikTok Shop's. Verify for each market.",
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
                "effective_from": LOWER_TIER,
                "country_scope": None,
                "source_note": "YouTube Help, YPP eligibility: 1,000 subscribers and either 4,000 public watch "
                "hours in the last 12 months or 10 million public Shorts views in the last 90 "
                "days; 18+ or a legal guardian who manages the earnings. Not in the guide (it only names "
                "YouTube among other platforms).",
                "criteria": [
                    YPP_AGE,
                    _metric("youtube", "followers", 1_000, label="1,000 subscribers"),
                    YPP_ANY_OF,
                    GOOD_STANDING,
                ],
            },
            {
                # Numbered after the programme's first shipped version; in force before it.
                "version": 2,
                "effective_from": date(2018, 1, 16),
                "effective_to": SHORTS_ROUTE,
                "country_scope": None,
                "source_note": "YouTube Creator Blog (16 January 2018): 1,000 subscribers and 4,000 public watch "
                "hours in the last 12 months; 18+ or a legal guardian who manages the earnings. Not in the "
                "guide.",
                "criteria": [
                    YPP_AGE,
                    _metric("youtube", "followers", 1_000, label="1,000 subscribers"),
                    _metric("youtube", "watch_hours", 4_000, "sum", 365),
                    GOOD_STANDING,
                ],
            },
            {
                "version": 3,
                "effective_from": SHORTS_ROUTE,
                "effective_to": LOWER_TIER,
                "country_scope": None,
                "source_note": "YouTube Help (1 February 2023): the Shorts route, 10 million public Shorts views "
                "in 90 days, as an alternative to 4,000 watch hours; 1,000 subscribers. The same criteria "
                "continue in version 1 from the lower tier's launch. Not in the guide.",
                "criteria": [
                    YPP_AGE,
                    _metric("youtube", "followers", 1_000, label="1,000 subscribers"),
                    YPP_ANY_OF,
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
                "effective_from": LOWER_TIER,
                "country_scope": None,
                "source_note": "YouTube Help (June 2023 expansion): 500 subscribers, 3 public uploads in the last "
                "90 days, and 3,000 watch hours in 12 months or 3 million Shorts views in 90 days. Not in the "
                "guide.",
                "criteria": [
                    YPP_AGE,
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


def _same_rule(row: RuleVersion, rule: dict, criteria: list[dict]) -> bool:
    """A published version is the catalogue's when it starts the same day, for the same countries,
    with the same criteria (its end date and note may differ)."""
    return (
        row.effective_from == rule["effective_from"]
        and sorted(row.country_scope or []) == sorted(rule["country_scope"] or [])
        and row.criteria == criteria
    )


def seed_catalogue(*, db_session: Session, actor: Actor | None = None) -> dict:
    """Bring the database up to the catalogue without rewriting a published version: add what is
    missing, end what the catalogue says has ended, and add the catalogue's version beside a
    published one that differs (see the module's docs). Idempotent."""
    actor = actor or Actor.system("catalogue")
    added_programs = added_rules = ended_rules = 0
    corrected: list[str] = []
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
        published = {
            row.version: row
            for row in db_session.scalars(select(RuleVersion).where(RuleVersion.program_id == program.id))
        }
        next_number = max([*published, *(r["version"] for r in entry["rules"])]) + 1
        for rule in sorted(entry["rules"], key=lambda r: r["version"]):
            criteria = validate_criteria(rule["criteria"])
            effective_to = rule.get("effective_to")
            same = next((row for row in published.values() if _same_rule(row, rule, criteria)), None)
            if same is None:
                number = rule["version"]
                stale = published.get(number)
                if stale is not None:
                    # An earlier release published other criteria under this number: keep it, end it
                    # where the catalogue's ends, and add the catalogue's version (it takes precedence).
                    number, next_number = next_number, next_number + 1
                    corrected.append(f"{entry['code']} v{rule['version']} -> v{number}")
                    if effective_to is not None and stale.effective_to is None and effective_to > stale.effective_from:
                        end_rule_version(db_session=db_session, actor=actor, rule=stale, effective_to=effective_to)
                        ended_rules += 1
                same = RuleVersion(
                    program_id=program.id,
                    version=number,
                    effective_from=rule["effective_from"],
                    effective_to=effective_to,
                    country_scope=rule["country_scope"],
                    source_note=rule["source_note"]
                    + (f" (Replaces version {rule['version']} as an earlier release shipped it.)" if stale else ""),
                    criteria=criteria,
                )
                db_session.add(same)
                db_session.flush()
                published[number] = same
                added_rules += 1
            elif effective_to is not None and same.effective_to is None:
                end_rule_version(db_session=db_session, actor=actor, rule=same, effective_to=effective_to)
                ended_rules += 1
    db_session.flush()
    if added_rules:
        request_refresh("catalogue", db_session=db_session)
    return {
        "programs_added": added_programs,
        "rule_versions_added": added_rules,
        "rule_versions_ended": ended_rules,
        "rule_versions_corrected": corrected,
    }
