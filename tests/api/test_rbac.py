"""Role x endpoint matrix: admins everything, managers write only their own creators, analysts read."""
import pytest

from agency.models import Role


def _requests(creator_id: int, account_id: int, program_id: int):
    return [
        ("GET", "/api/v1/creators", None, "read"),
        ("GET", f"/api/v1/creators/{creator_id}", None, "read"),
        ("GET", f"/api/v1/creators/{creator_id}/accounts", None, "read"),
        ("GET", f"/api/v1/creators/{creator_id}/accounts/{account_id}", None, "read"),
        ("GET", "/api/v1/audit", None, "admin"),
        ("GET", f"/api/v1/creators/{creator_id}/eligibility", None, "read"),
        ("GET", f"/api/v1/creators/{creator_id}/diversification", None, "read"),
        ("GET", "/api/v1/alerts", None, "read"),
        ("GET", "/api/v1/jobs/runs", None, "read"),
        ("PUT", f"/api/v1/creators/{creator_id}/activations/{program_id}", {"status": "applied"}, "write_owned"),
        ("POST", "/api/v1/revenue", {"creator_id": creator_id, "date": "2026-01-01", "source": "merch",
                                     "amount": "5.00", "currency": "EUR"}, "write_owned"),
        ("POST", "/api/v1/eligibility/recompute", {"creator_ids": [creator_id]}, "create"),
        ("POST", "/api/v1/fx-rates", {"day": "2026-01-01", "base": "USD", "quote": "EUR", "rate": "0.9"}, "admin"),
        ("POST", f"/api/v1/programs/{program_id}/rules", {"effective_from": "2026-01-01",
                                              "criteria": [{"kind": "age", "min": 18}]}, "admin"),
        ("GET", f"/api/v1/creators/{creator_id}/strikes", None, "read"),
        ("GET", "/api/v1/users/me", None, "read"),
        ("GET", "/api/v1/users", None, "read"),
        ("PATCH", f"/api/v1/creators/{creator_id}", {"notes": "x", "version": 1}, "write_owned"),
        ("POST", f"/api/v1/creators/{creator_id}/accounts", {"platform": "x", "handle": "h1"}, "write_owned"),
        ("PATCH", f"/api/v1/creators/{creator_id}/accounts/{account_id}", {"account_type": "business"}, "write_owned"),
        ("POST", f"/api/v1/creators/{creator_id}/strikes", {"occurred_on": "2024-01-01"}, "write_owned"),
        ("DELETE", f"/api/v1/creators/{creator_id}/accounts/{account_id}", None, "write_owned"),
        ("DELETE", f"/api/v1/creators/{creator_id}", None, "write_owned"),
        ("POST", "/api/v1/creators", {"display_name": "N", "country": "FR", "niche": "music"}, "create"),
        ("POST", "/api/v1/users", {"email": "new@test.example", "role": "analyst",
                                   "password": "a-long-password-1"}, "admin"),
    ]


def _allowed(kind: str, role: Role, owns: bool) -> bool:
    return {
        "read": True,
        "write_owned": role is Role.admin or (role is Role.manager and owns),
        "create": role in (Role.admin, Role.manager),
        "admin": role is Role.admin,
    }[kind]


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("owns", [True, False])
def test_matrix(client, session, make_user, make_creator, auth_for, role, owns):
    from agency.models import Program
    from agency.services.catalogue import seed_catalogue

    seed_catalogue(db_session=session)
    session.commit()
    program_id = session.query(Program.id).order_by(Program.id).first()[0]
    user = make_user(role)
    other_manager = make_user(Role.manager)
    creator = make_creator(manager=user if owns and role is not Role.analyst else other_manager)
    account_id = creator.accounts[0].id
    headers = auth_for(user)
    for method, path, body, kind in _requests(creator.id, account_id, program_id):
        response = client.open(path, method=method, json=body, headers=headers)
        expected_ok = _allowed(kind, role, owns and role is not Role.analyst)
        if expected_ok:
            assert response.status_code < 400, (method, path, role, owns, response.json)
        else:
            assert response.status_code == 403, (method, path, role, owns, response.status_code)
            assert response.json["code"] == 403


def test_manager_cannot_reassign_or_create_for_someone_else(client, manager, make_user, make_creator, auth_for):
    other = make_user(Role.manager)
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    reassign = client.patch(f"/api/v1/creators/{creator.id}", json={"manager_id": other.id, "version": 1},
                            headers=headers)
    assert reassign.status_code == 422
    create = client.post("/api/v1/creators", json={"display_name": "N", "country": "FR", "niche": "music",
                                                   "manager_id": other.id}, headers=headers)
    assert create.status_code == 422


def test_admin_reassigns(client, admin, manager, make_creator, auth_for):
    creator = make_creator()
    response = client.patch(f"/api/v1/creators/{creator.id}", json={"manager_id": manager.id, "version": 1},
                            headers=auth_for(admin))
    assert response.status_code == 200 and response.json["manager"]["id"] == manager.id
