"""Reading the roster: search on names and handles, a stable order, and pages that add up to the
whole list (each creator once, with all their accounts and their strike count)."""

import json
from datetime import date

import pytest

from agency.roster.models import GuidelineStrike


@pytest.fixture()
def read(client, analyst, auth_for):
    headers = auth_for(analyst)

    def _read(query):
        response = client.get(f"/api/v1/creators?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return response.json, json.loads(response.headers["X-Pagination"])

    return _read


def test_search_matches_names_and_handles_whatever_the_case(read, make_creator):
    lina = make_creator(display_name="Lina Martin", legal_name="Caroline Petit")
    chef = make_creator(display_name="Chef Hugo", legal_name="Hugo DUBOIS")
    other = make_creator(display_name="Somebody Else", accounts=("tiktok", "youtube"))
    make_creator(display_name="Unrelated")

    def ids(q):
        rows, meta = read(f"q={q}")
        assert meta["total"] == len(rows)
        return [c["id"] for c in rows]

    assert ids("LINA") == [lina.id]
    assert ids("caroline pet") == [lina.id]  # the legal name
    assert ids("dubois") == [chef.id]
    # A handle, with or without its "@", in any case.
    handle = other.accounts[0].handle
    assert ids(handle.upper()) == [other.id]
    assert ids(f"@{handle}") == [other.id]
    # Both of a creator's accounts match: the creator is listed once.
    assert ids(handle.rsplit("_", 1)[0]) == [other.id]
    assert ids("nobody-like-this") == []


def test_ties_are_ordered_by_id_in_both_directions(read, make_creator):
    made = [
        make_creator(display_name=name, country=country)
        for name, country in [
            ("Sam", "FR"),
            ("Alex", "US"),
            ("Sam", "US"),
            ("Alex", "FR"),
            ("Sam", "FR"),
            ("Alex", "FR"),
        ]
    ]
    by_id = sorted(made, key=lambda c: c.id)

    def ids(sort):
        rows, _meta = read(f"sort={sort}")
        return [c["id"] for c in rows]

    assert ids("display_name") == [c.id for c in sorted(by_id, key=lambda c: c.display_name)]
    # Descending on the column, ties still by ascending id.
    assert ids("-display_name") == [c.id for c in sorted(by_id, key=lambda c: c.display_name, reverse=True)]
    assert ids("-country") == [c.id for c in sorted(by_id, key=lambda c: c.country, reverse=True)]
    # The same question twice gets the same order.
    assert ids("country") == ids("country")


@pytest.mark.parametrize("sort", ["display_name", "-display_name", "country", "-created_at", "niche"])
def test_pages_add_up_to_the_whole_roster_with_every_account(read, make_creator, factory_session, sort):
    names = ["Sam", "Alex", "Robin"]
    made = []
    for n in range(23):
        # Several accounts per creator: a page must still hold page_size creators, each once.
        accounts = ("tiktok", "youtube", "instagram")[: 1 + n % 3]
        made.append(
            make_creator(display_name=names[n % 3], country=("FR", "US")[n % 2], niche="gaming", accounts=accounts)
        )
    for _ in range(3):
        factory_session.add(GuidelineStrike(creator_id=made[4].id, occurred_on=date(2026, 1, 5)))
    factory_session.commit()
    whole, meta = read(f"sort={sort}&page_size=200")
    assert meta["total"] == 23 and len(whole) == 23

    paged = []
    for page in range(1, 6):
        rows, meta = read(f"sort={sort}&page={page}&page_size=5")
        assert meta["total"] == 23
        assert len(rows) == (5 if page < 5 else 3)
        paged += rows
    assert [c["id"] for c in paged] == [c["id"] for c in whole]
    assert sorted(c["id"] for c in paged) == sorted(c.id for c in made)
    for row in paged:
        creator = next(c for c in made if c.id == row["id"])
        assert [a["handle"] for a in row["accounts"]] == [a.handle for a in creator.accounts]
        assert row["strikes_count"] == (3 if creator.id == made[4].id else 0)
    past_the_end, meta = read(f"sort={sort}&page=6&page_size=5")
    assert past_the_end == [] and meta["total"] == 23
    # A full last page, and a page number whose offset no SQL integer holds.
    assert read(f"sort={sort}&page=1&page_size=23")[1]["total"] == 23
    assert read(f"sort={sort}&page=2&page_size=23")[1]["total"] == 23
    rows, meta = read(f"sort={sort}&page={2**62}&page_size=200")
    assert rows == [] and meta["total"] == 23


def test_filtered_pages_and_counts(read, make_creator, manager):
    for n in range(7):
        make_creator(country=("FR", "US")[n % 2], status=("active", "paused")[n % 3 == 0], manager=manager)
    make_creator(country="FR", status="active")
    rows, meta = read("country=FR&status=active&page_size=2&sort=-created_at")
    everything, _ = read("page_size=200")
    expected = [c["id"] for c in everything if c["country"] == "FR" and c["status"] == "active"]
    assert meta["total"] == len(expected) == 3 and len(rows) == 2
    mine, meta = read(f"manager_id={manager.id}&page_size=200")
    assert meta["total"] == 7 and all(c["manager"]["id"] == manager.id for c in mine)


def test_a_creator_reads_with_accounts_and_strikes(client, analyst, auth_for, make_creator, factory_session):
    creator = make_creator(accounts=("tiktok", "youtube"))
    factory_session.add(GuidelineStrike(creator_id=creator.id, occurred_on=date(2026, 2, 1)))
    factory_session.commit()
    body = client.get(f"/api/v1/creators/{creator.id}", headers=auth_for(analyst)).json
    assert [a["platform"] for a in body["accounts"]] == ["tiktok", "youtube"]
    assert body["strikes_count"] == 1


def test_lists_show_each_creator_as_a_row_and_the_creator_answer_has_everything(
    client, analyst, auth_for, make_creator, manager
):
    creator = make_creator(
        display_name="Nora Petit",
        legal_name="Nora Petit Roux",
        country="FR",
        niche="music",
        status="active",
        manager=manager,
        accounts=("youtube", "tiktok"),
        notes="Prefers email; agent is her sister.",
    )
    headers = auth_for(analyst)
    for query in ("", "q=nora", "q=creator_1_tik", f"manager_id={manager.id}&sort=-created_at"):
        rows = client.get(f"/api/v1/creators?{query}", headers=headers).json
        assert rows == [
            {
                "id": creator.id,
                "display_name": "Nora Petit",
                "legal_name": "Nora Petit Roux",
                "country": "FR",
                "niche": "music",
                "status": "active",
                "guideline_standing": "good",
                "strikes_count": 0,
                "manager": {"id": manager.id, "email": manager.email, "full_name": manager.full_name},
                # In the order they were added, whatever the platform's name.
                "accounts": [
                    {"id": account.id, "platform": platform, "handle": account.handle}
                    for account, platform in zip(creator.accounts, ["youtube", "tiktok"], strict=True)
                ],
                "archived_at": None,
            }
        ], query
        assert [a["platform"] for a in rows[0]["accounts"]] == ["youtube", "tiktok"]
    full = client.get(f"/api/v1/creators/{creator.id}", headers=headers).json
    assert full["notes"] == "Prefers email; agent is her sister."
    assert {"languages", "date_of_birth", "age", "version", "created_at", "parental_agreement_on_file"} <= set(full)
    assert [a["handle"] for a in full["accounts"]] == [a["handle"] for a in rows[0]["accounts"]]


def test_search_pages_carry_the_total_of_every_match(read, make_creator, manager):
    # Names and handles both match: each creator counts once, on whichever page it falls.
    for n in range(6):
        make_creator(display_name=f"Paged Match {n}", manager=manager if n % 2 else None)
    handle_only = make_creator(display_name="Someone Else")
    make_creator(display_name="Unrelated")

    rows, meta = read("q=paged match&page_size=4")
    assert meta["total"] == 6 and len(rows) == 4
    assert [row["manager"] for row in rows[:2]] == [
        None,
        {"id": manager.id, "email": manager.email, "full_name": manager.full_name},
    ]
    last, meta = read("q=paged match&page=2&page_size=4")
    assert len(last) == 2 and meta["total"] == 6
    past_the_end, meta = read("q=paged match&page=3&page_size=4")
    assert past_the_end == [] and meta["total"] == 6
    nothing, meta = read("q=nobody-like-this&page=2")
    assert nothing == [] and meta["total"] == 0
    rows, meta = read(f"q={handle_only.accounts[0].handle}&page_size=1")
    assert [row["id"] for row in rows] == [handle_only.id] and meta["total"] == 1
