"""The dashboard's trends: revenue by month and source, the pipeline by stage and programmes gained
and lost per week, each drawn from the numbers its table shows; a manager's dashboard counts only
their creators, an admin's the whole roster."""

import json
import re
from datetime import timedelta
from decimal import Decimal

from agency.core.database import utcnow
from agency.programmes.models import EligibilityChange
from tests.factories import PASSWORD


def _login(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    assert (
        client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    )


def _trends(client) -> tuple[dict, str]:
    html = client.get("/").get_data(as_text=True)
    return json.loads(
        re.search(r'<script type="application/json" id="trends-data">(.*?)</script>', html, re.S)[1]
    ), html


def _change(session, creator, change, day):
    session.add(
        EligibilityChange(
            creator_id=creator.id,
            program_id=0,
            rule_version_id=0,
            change=change,
            eligible=change == "gained",
            as_of=day,
            effective_on=day,
            changed_criteria=[],
        )
    )


def test_trends_count_a_managers_own_creators_and_an_admins_whole_roster(
    client, session, manager, admin, make_user, make_creator, auth_for
):
    mine, theirs = make_creator(manager=manager), make_creator(manager=make_user())
    today = utcnow().date()
    last_month = today.replace(day=1) - timedelta(days=1)
    headers = auth_for(admin)
    for creator, day, source, amount in (
        (mine, today, "merch", "100.00"),
        (mine, today, "affiliate", "30.00"),
        (mine, last_month, "merch", "50.00"),
        (theirs, today, "merch", "999.00"),
    ):
        body = {
            "creator_id": creator.id,
            "date": day.isoformat(),
            "source": source,
            "amount": amount,
            "currency": "EUR",
        }
        assert client.post("/api/v1/revenue", json=body, headers=headers).status_code == 201
    brand = client.post("/api/v1/brands", json={"name": "Trend Brand"}, headers=headers).json
    for creator, fee in ((mine, "1250.00"), (theirs, "7000.00")):
        body = {
            "creator_id": creator.id,
            "brand_id": brand["id"],
            "title": "Launch",
            "fee_amount": fee,
            "source": "direct",
        }
        assert client.post("/api/v1/deals", json=body | {"fee_currency": "EUR"}, headers=headers).status_code == 201
    _change(session, mine, "gained", today)
    _change(session, mine, "lost", today - timedelta(weeks=3))
    _change(session, theirs, "gained", today)
    session.commit()

    _login(client, manager)
    trends, html = _trends(client)
    revenue = trends["revenue"]
    assert len(revenue["months"]) == 12 and revenue["months"][-1] == today.strftime("%Y-%m")
    assert revenue["sources"]["merch"][-2:] == ["50.00", "100.00"]  # stacked by source, month by month
    assert revenue["sources"]["affiliate"][-1] == "30.00"
    assert sum(Decimal(v) for v in trends["pipeline"].values()) == Decimal("1250.00")
    eligibility = trends["eligibility"]
    assert len(eligibility["weeks"]) == 12
    assert eligibility["gained"][-1] == 1 and eligibility["lost"][-4] == 1 and sum(eligibility["gained"]) == 1
    # Each chart has its table or summary beside it.
    assert "Revenue by month and source as a table" in html and "130.00" in html
    assert 'id="pipeline-table"' in html and "1,250.00" in html
    assert "1 gained and 1 lost in 12 weeks" in html
    assert "Nearest to a threshold" in html

    client.post("/logout", data={"csrf_token": re.search(r'name="csrf-token" content="([^"]+)"', html)[1]})
    _login(client, admin)
    trends, _ = _trends(client)
    assert trends["revenue"]["sources"]["merch"][-1] == "1099.00"
    assert sum(Decimal(v) for v in trends["pipeline"].values()) == Decimal("8250.00")
    assert trends["eligibility"]["gained"][-1] == 2
