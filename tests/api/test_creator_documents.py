"""The roster list and creator detail are written out by hand (agency/api/creators.py) for speed.
These tests hold them to exactly what `CreatorSchema` documents and what the ORM query returns."""
import json

import pytest

from agency.api.creators import CreatorSchema
from agency.db import utcnow
from agency.models import GuidelineStrike
from agency.services import creators as roster
from agency.services.demo import load_demo


@pytest.fixture()
def demo_roster(session):
    load_demo(db_session=session, creators=14, days=15, seed=11, reset=True)
    session.commit()
    return session


def _schema_dump(creators) -> list[dict]:
    # Through JSON, as a client sees it.
    return json.loads(json.dumps(CreatorSchema(many=True).dump(creators)))


def test_every_creator_document_equals_the_schema_dump(client, admin, auth_for, demo_roster, make_creator):
    # Edge cases the demo may not have: no manager, no date of birth, no accounts, strikes, archived.
    bare = make_creator(accounts=(), date_of_birth=None, languages=[])
    struck = make_creator(manager=admin, accounts=("tiktok", "youtube", "instagram"))
    demo_roster.add_all([GuidelineStrike(creator_id=struck.id, occurred_on=utcnow().date(), reason="spam"),
                         GuidelineStrike(creator_id=struck.id, occurred_on=utcnow().date())])
    archived = make_creator(archived_at=utcnow())
    demo_roster.commit()
    demo_roster.expire_all()

    everyone = list(demo_roster.scalars(roster.creators_query(roster.CreatorFilters(include_archived=True))))
    assert {bare.id, struck.id, archived.id} <= {c.id for c in everyone}
    headers = auth_for(admin)
    listed = client.get("/api/v1/creators?include_archived=true&page_size=200", headers=headers)
    assert listed.status_code == 200
    assert listed.json == _schema_dump(everyone)
    assert json.loads(listed.headers["X-Pagination"])["total"] == len(everyone)
    for creator in everyone:
        detail = client.get(f"/api/v1/creators/{creator.id}", headers=headers)
        assert detail.status_code == 200
        assert detail.json == _schema_dump([creator])[0]


@pytest.mark.parametrize("sort", sorted(roster.SORTABLE) + [f"-{name}" for name in sorted(roster.SORTABLE)])
def test_list_pages_follow_the_orm_query_order(client, analyst, auth_for, demo_roster, sort):
    filters = roster.CreatorFilters(sort=sort)
    expected = [c.id for c in demo_roster.scalars(roster.creators_query(filters))]
    seen = []
    for page in (1, 2, 3, 4):
        response = client.get(f"/api/v1/creators?sort={sort}&page={page}&page_size=4", headers=auth_for(analyst))
        assert response.status_code == 200
        assert json.loads(response.headers["X-Pagination"])["total"] == len(expected)
        seen += [c["id"] for c in response.json]
    assert seen == expected[:16]


def test_filters_and_search_match_the_orm_query(client, analyst, auth_for, demo_roster):
    creator = demo_roster.scalars(roster.creators_query(roster.CreatorFilters())).first()
    handle = creator.accounts[0].handle if creator.accounts else creator.display_name
    for query, filters in (
        ("status=active", roster.CreatorFilters(status=["active"])),
        (f"country={creator.country}&niche={creator.niche.value}",
         roster.CreatorFilters(country=[creator.country], niche=[creator.niche.value])),
        (f"q={handle[:5]}", roster.CreatorFilters(q=handle[:5])),
        ("unassigned=true", roster.CreatorFilters(unassigned=True)),
    ):
        expected = [c.id for c in demo_roster.scalars(roster.creators_query(filters))]
        response = client.get(f"/api/v1/creators?{query}&page_size=200", headers=auth_for(analyst))
        assert response.status_code == 200
        assert [c["id"] for c in response.json] == expected, query


def test_a_page_past_the_end_is_empty_and_still_counts(client, analyst, auth_for, demo_roster):
    total = len(list(demo_roster.scalars(roster.creators_query(roster.CreatorFilters()))))
    for page in (50, 10**17):
        response = client.get(f"/api/v1/creators?page={page}&page_size=200", headers=auth_for(analyst))
        assert response.status_code == 200
        assert response.json == []
        assert json.loads(response.headers["X-Pagination"])["total"] == total


def test_unknown_creator_is_404(client, analyst, auth_for):
    response = client.get("/api/v1/creators/987654321", headers=auth_for(analyst))
    assert response.status_code == 404
    assert "987654321" in response.json["message"]
