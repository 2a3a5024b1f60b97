"""The demo agency holds the cases real rosters have: creators with a large business account and a
small personal one on the same platform (one account, one verdict) and off-platform income."""

from datetime import date

from sqlalchemy import func, select

from agency.demo.loader import load_demo
from agency.money.models import RevenueRecord
from agency.roster.models import Creator, PlatformAccount


def test_the_demo_has_two_account_creators_and_their_explanation_names_the_closest(client, session, admin, auth_for):
    today = date.today()
    load_demo(db_session=session, creators=12, days=45, seed=3, today=today)
    session.commit()
    doubles = (
        session.execute(
            select(PlatformAccount.creator_id)
            .where(PlatformAccount.platform == "tiktok")
            .group_by(PlatformAccount.creator_id)
            .having(func.count() == 2)
        )
        .scalars()
        .all()
    )
    assert doubles, "the demo has creators with two TikTok accounts"
    off_platform = session.scalar(
        select(func.count()).where(RevenueRecord.platform.is_(None), RevenueRecord.source.in_(["merch", "courses"]))
    )
    assert off_platform > 0, "the demo has off-platform income"
    creator = session.get(Creator, doubles[0])
    accounts = {a.account_type.value: a for a in creator.accounts if a.platform.value == "tiktok"}
    assert set(accounts) == {"business", "personal"}
    # Everything else about her qualifies for the Creator Rewards Program: adult, in France, in good standing.
    creator.country, creator.date_of_birth, creator.guideline_standing = "FR", date(1990, 5, 5), "good"
    session.commit()
    headers = auth_for(admin)
    assert (
        client.post("/api/v1/eligibility/recompute", json={"creator_ids": [creator.id]}, headers=headers).status_code
        == 200
    )
    rows = client.get(f"/api/v1/creators/{creator.id}/eligibility", headers=headers).json
    rewards = next(r for r in rows if r["program"]["code"] == "tiktok_creator_rewards")
    assert rewards["eligible"] is False  # the big account is a business one, the personal one is small
    by_kind = {}
    for criterion in rewards["criteria"]:
        by_kind.setdefault(criterion.get("metric") or criterion["kind"], criterion)
    big = accounts["business"]
    # The closest account is the big one (only its type fails); every figure is that account's.
    assert by_kind["followers"]["account"]["id"] == big.id and by_kind["followers"]["passed"] is True
    assert by_kind["account_type"]["account"]["id"] == big.id and by_kind["account_type"]["passed"] is False
    assert by_kind["account_type"]["account"]["handle"] == big.handle
