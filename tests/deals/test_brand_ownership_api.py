"""Brands belong to the agency: a manager edits or archives one only while every deal using it is
for a creator they manage; otherwise it is an admin's change (403), through the API and the UI."""

import re

from agency.core.users.models import Role
from tests.factories import PASSWORD


def _brand(client, headers, name="Maison Partagée"):
    response = client.post("/api/v1/brands", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def _deal(client, headers, creator, brand):
    body = {
        "creator_id": creator.id,
        "brand_id": brand["id"],
        "title": "Launch",
        "source": "direct",
        "fee_amount": "500.00",
        "fee_currency": "EUR",
        "commission_percent": "20",
    }
    response = client.post("/api/v1/deals", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def test_a_brand_used_by_another_managers_deal_is_an_admin_change(
    client, admin, manager, make_user, make_creator, auth_for
):
    other = make_user(Role.manager)
    mine, theirs = auth_for(manager), auth_for(other)
    shared = _brand(client, mine)
    _deal(client, mine, make_creator(manager=manager), shared)
    _deal(client, theirs, make_creator(manager=other), shared)

    rename = client.patch(f"/api/v1/brands/{shared['id']}", json={"name": "Renamed", "version": 1}, headers=mine)
    assert rename.status_code == 403
    assert "only an admin" in rename.json["message"]
    assert client.delete(f"/api/v1/brands/{shared['id']}", headers=mine).status_code == 403
    after = client.get(f"/api/v1/brands/{shared['id']}", headers=mine).json
    assert after["name"] == "Maison Partagée" and after["archived_at"] is None

    admin_rename = client.patch(
        f"/api/v1/brands/{shared['id']}", json={"name": "Renamed", "version": after["version"]}, headers=auth_for(admin)
    )
    assert admin_rename.status_code == 200 and admin_rename.json["name"] == "Renamed"
    assert client.delete(f"/api/v1/brands/{shared['id']}", headers=auth_for(admin)).status_code == 204


def test_a_manager_edits_and_archives_brands_only_their_creators_use(client, manager, make_creator, auth_for):
    headers = auth_for(manager)
    unused = _brand(client, headers, "Unused")
    own = _brand(client, headers, "Own")
    _deal(client, headers, make_creator(manager=manager), own)
    for brand in (unused, own):
        response = client.patch(
            f"/api/v1/brands/{brand['id']}", json={"industry": "food", "version": brand["version"]}, headers=headers
        )
        assert response.status_code == 200 and response.json["industry"] == "food"
        assert client.delete(f"/api/v1/brands/{brand['id']}", headers=headers).status_code == 204


def _login(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def test_the_brand_forms_refuse_a_manager_when_other_managers_use_it(
    app, client, manager, make_user, make_creator, auth_for
):
    other = make_user(Role.manager)
    shared = _brand(client, auth_for(manager))
    _deal(client, auth_for(other), make_creator(manager=other), shared)
    token = _login(client, manager)
    page = client.get(f"/brands/{shared['id']}").get_data(as_text=True)
    assert "only an admin can edit or archive it" in page and f"/brands/{shared['id']}/edit" not in page
    assert client.get(f"/brands/{shared['id']}/edit").status_code == 403
    edit = client.post(
        f"/brands/{shared['id']}/edit",
        data={"csrf_token": token, "name": "Hijacked", "version": str(shared["version"])},
    )
    assert edit.status_code == 403 and "only an admin" in edit.get_data(as_text=True)
    archive = client.post(f"/brands/{shared['id']}/archive", data={"csrf_token": token})
    assert archive.status_code == 403
    with app.test_client() as api:
        after = api.get(f"/api/v1/brands/{shared['id']}", headers=auth_for(manager)).json
    assert after["name"] == "Maison Partagée" and after["archived_at"] is None
