from datetime import date, timedelta

import pytest

from agency.core.audit.models import AuditEntry
from agency.roster.models import Creator

NEW_CREATOR = {
    "display_name": "Lina Cooks",
    "legal_name": "Lina Martin",
    "date_of_birth": "2001-05-04",
    "country": "fr",
    "niche": "cooking",
    "languages": ["fr", "en"],
    "accounts": [{"platform": "tiktok", "handle": "@LinaCooks"}],
}


def test_manager_creates_a_creator_they_manage(client, manager, auth_for, session):
    response = client.post("/api/v1/creators", json=NEW_CREATOR, headers=auth_for(manager))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["manager_id"] == manager.id
    assert body["country"] == "FR"
    assert body["accounts"][0]["handle"] == "linacooks"
    today = date.today()
    expected_age = today.year - 2001 - ((today.month, today.day) < (5, 4))
    assert body["age"] == expected_age
    assert body["version"] == 1
    audit = session.query(AuditEntry).filter_by(entity_type="creator", entity_id=body["id"]).one()
    assert audit.action == "creator.create" and audit.actor_id == manager.id
    assert audit.after["display_name"] == "Lina Cooks"


@pytest.mark.parametrize(
    "field,value,message_part",
    [
        ("country", "XX", "ISO 3166"),
        ("niche", "knitting", "Must be one of"),
        ("date_of_birth", (date.today() + timedelta(days=3)).isoformat(), "past"),
        ("languages", ["klingon"], "Length"),
        ("display_name", "", "Length"),
    ],
)
def test_invalid_fields_get_a_clear_422(client, manager, auth_for, field, value, message_part):
    response = client.post("/api/v1/creators", json=NEW_CREATOR | {field: value}, headers=auth_for(manager))
    assert response.status_code == 422
    assert response.json["code"] == 422
    assert message_part.lower() in str(response.json["errors"]["json"][field]).lower()


def test_missing_required_fields_are_named(client, manager, auth_for):
    response = client.post("/api/v1/creators", json={}, headers=auth_for(manager))
    assert response.status_code == 422
    assert {"display_name", "country", "niche"} <= set(response.json["errors"]["json"])


def test_duplicate_handle_is_a_conflict(client, manager, auth_for):
    headers = auth_for(manager)
    assert client.post("/api/v1/creators", json=NEW_CREATOR, headers=headers).status_code == 201
    again = client.post("/api/v1/creators", json=NEW_CREATOR | {"display_name": "Copy"}, headers=headers)
    assert again.status_code == 409
    assert "linacooks" in again.json["message"]


def test_stale_version_gets_409_and_nothing_changes(client, manager, auth_for, make_creator, session):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    first = client.patch(f"/api/v1/creators/{creator.id}", json={"notes": "first", "version": 1}, headers=headers)
    assert first.status_code == 200 and first.json["version"] == 2
    stale = client.patch(f"/api/v1/creators/{creator.id}", json={"notes": "second", "version": 1}, headers=headers)
    assert stale.status_code == 409
    assert "version" in stale.json["errors"]
    assert client.get(f"/api/v1/creators/{creator.id}", headers=headers).json["notes"] == "first"


def test_patch_requires_a_version(client, manager, auth_for, make_creator):
    creator = make_creator(manager=manager)
    response = client.patch(f"/api/v1/creators/{creator.id}", json={"notes": "x"}, headers=auth_for(manager))
    assert response.status_code == 422
    assert "version" in response.json["errors"]["json"]


def test_update_writes_audit_with_before_and_after(client, manager, auth_for, make_creator, session):
    creator = make_creator(manager=manager, niche="gaming")
    client.patch(f"/api/v1/creators/{creator.id}", json={"niche": "tech", "version": 1}, headers=auth_for(manager))
    entry = session.query(AuditEntry).filter_by(action="creator.update", entity_id=creator.id).one()
    assert entry.before["niche"] == "gaming" and entry.after["niche"] == "tech"


def test_archive_keeps_the_row_and_hides_it_from_the_default_list(client, manager, auth_for, make_creator, session):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    assert client.delete(f"/api/v1/creators/{creator.id}", headers=headers).status_code == 204
    session.expire_all()
    row = session.get(Creator, creator.id)
    assert row is not None and row.archived_at is not None and row.status.value == "offboarded"
    ids = [c["id"] for c in client.get("/api/v1/creators", headers=headers).json]
    assert creator.id not in ids
    archived = client.get("/api/v1/creators?include_archived=true", headers=headers).json
    assert creator.id in [c["id"] for c in archived]


def test_filters_search_and_sort(client, analyst, auth_for, make_creator, manager):
    make_creator(display_name="Alpha Gaming", niche="gaming", country="US", manager=manager)
    make_creator(display_name="Beta Beauty", niche="beauty", country="FR", status="active")
    make_creator(display_name="Gamma 100% Real", niche="gaming", country="FR")
    headers = auth_for(analyst)

    def names(query):
        response = client.get(f"/api/v1/creators?{query}", headers=headers)
        assert response.status_code == 200, response.json
        return [c["display_name"] for c in response.json]

    assert names("niche=gaming&sort=-display_name") == ["Gamma 100% Real", "Alpha Gaming"]
    assert names("country=fr&niche=beauty") == ["Beta Beauty"]
    assert names("status=active") == ["Beta Beauty"]
    assert names(f"manager_id={manager.id}") == ["Alpha Gaming"]
    assert names("q=beta") == ["Beta Beauty"]
    assert names("q=100%25") == ["Gamma 100% Real"]  # "%" is a literal, not a wildcard
    assert names("q=%25") == ["Gamma 100% Real"]
    assert "Alpha Gaming" in names("q=creator_1_tiktok")  # handles are searched too
    assert "Alpha Gaming" in names("q=@CREATOR_1_TIKTOK")  # a handle as typed, "@" and capitals
    assert names("q=alpha%20gaming") == ["Alpha Gaming"]  # a full name (its space is in no handle)
    assert names("q=gaming%20creator_1") == []  # nothing has both


def test_unknown_filter_values_are_rejected(client, analyst, auth_for):
    headers = auth_for(analyst)
    assert client.get("/api/v1/creators?sort=password_hash", headers=headers).status_code == 422
    assert client.get("/api/v1/creators?status=deleted", headers=headers).status_code == 422


def test_pagination_bounds(client, analyst, auth_for, make_creator):
    for _ in range(5):
        make_creator()
    headers = auth_for(analyst)
    response = client.get("/api/v1/creators?page=2&page_size=2", headers=headers)
    assert response.status_code == 200 and len(response.json) == 2
    meta = response.headers["X-Pagination"]
    assert '"total": 5' in meta and '"page": 2' in meta
    assert client.get("/api/v1/creators?page_size=201", headers=headers).status_code == 422
    assert client.get("/api/v1/creators?page_size=200", headers=headers).status_code == 200
    assert client.get("/api/v1/creators?page=0", headers=headers).status_code == 422
    assert client.get("/api/v1/creators?page=99", headers=headers).json == []


def test_accounts_crud(client, manager, auth_for, make_creator):
    creator = make_creator(manager=manager, accounts=())
    headers = auth_for(manager)
    created = client.post(
        f"/api/v1/creators/{creator.id}/accounts",
        json={"platform": "youtube", "handle": "@Chan", "account_type": "business"},
        headers=headers,
    )
    assert created.status_code == 201
    account_id = created.json["id"]
    patched = client.patch(
        f"/api/v1/creators/{creator.id}/accounts/{account_id}", json={"account_type": "personal"}, headers=headers
    )
    assert patched.json["account_type"] == "personal"
    bad = client.post(
        f"/api/v1/creators/{creator.id}/accounts", json={"platform": "myspace", "handle": "x"}, headers=headers
    )
    assert bad.status_code == 422
    assert client.delete(f"/api/v1/creators/{creator.id}/accounts/{account_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/creators/{creator.id}/accounts", headers=headers).json == []


def test_strikes_change_standing(client, manager, auth_for, make_creator):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    for n in range(3):
        response = client.post(
            f"/api/v1/creators/{creator.id}/strikes",
            json={"occurred_on": date.today().isoformat(), "reason": f"strike {n}"},
            headers=headers,
        )
        assert response.status_code == 201
    body = client.get(f"/api/v1/creators/{creator.id}", headers=headers).json
    assert body["strikes_count"] == 3 and body["guideline_standing"] == "restricted"
