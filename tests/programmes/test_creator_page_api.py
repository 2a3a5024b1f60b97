"""The creator's page shows what the eligibility read says: which account each verdict reads (one
account, one verdict: the one that qualifies or comes closest), and why a window has no figure,
never a bare "None"."""

import re
from datetime import date, timedelta

from sqlalchemy import insert

from agency.metrics.models import MetricSnapshot
from agency.roster.models import PlatformAccount
from tests.factories import PASSWORD

TODAY = date.today()


def _page_login(client, user):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})


def _card(page: str, name: str) -> str:
    start = page.index(f"<h3>{name} ")
    return page[start : page.index("</article>", start)]


def test_the_page_names_the_account_each_verdict_reads_and_says_no_data(
    client, session, manager, admin, auth_for, make_creator, make_program
):
    program = make_program(
        "personal_only",
        "Personal Only",
        [
            {"kind": "account_type", "platform": "tiktok", "in": ["personal"]},
            {"kind": "metric", "platform": "tiktok", "metric": "followers", "aggregate": "latest", "min": 1000},
            {
                "kind": "any_of",
                "criteria": [
                    {
                        "kind": "metric",
                        "platform": "youtube",
                        "metric": "watch_hours",
                        "aggregate": "sum",
                        "window_days": 30,
                        "min": 100000,
                    },
                    {
                        "kind": "metric",
                        "platform": "youtube",
                        "metric": "shorts_views",
                        "aggregate": "sum",
                        "window_days": 30,
                        "min": 10,
                    },
                ],
            },  # fmt: skip
        ],
    )
    creator = make_creator(
        manager=manager, accounts=("tiktok", "youtube"), date_of_birth=date(1995, 1, 1), country="FR"
    )
    big, channel = sorted(creator.accounts, key=lambda a: a.platform.value)
    big.account_type, big.handle = "business", "big_business"
    small = PlatformAccount(creator_id=creator.id, platform="tiktok", handle="small_personal")
    session.add(small)
    session.flush()
    old = TODAY - timedelta(days=45)  # outside every 30-day window: the channel's sums have no data
    session.execute(
        insert(MetricSnapshot),
        [
            {"account_id": big.id, "day": TODAY - timedelta(days=1), "followers": 50_000},
            {"account_id": small.id, "day": TODAY - timedelta(days=1), "followers": 300},
            {"account_id": channel.id, "day": old, "followers": 4_000, "watch_hours": 9_000, "shorts_views": 9},
        ],
    )
    session.commit()
    assert client.post("/api/v1/eligibility/recompute", json={}, headers=auth_for(admin)).status_code == 200
    read = next(
        row
        for row in client.get(f"/api/v1/creators/{creator.id}/eligibility", headers=auth_for(manager)).json
        if row["program"]["id"] == program.id
    )
    assert read["eligible"] is False and read["account_id"] == big.id  # the closest: only its type fails

    _page_login(client, manager)
    card = _card(client.get(f"/creators/{creator.id}").get_data(as_text=True), "Personal Only")
    assert "@big_business" in card and "@small_personal" not in card
    assert "None" not in card
    assert "no youtube watch hours reported in the last 30 days" in card
    assert "no youtube shorts views reported in the last 30 days" in card
