"""Deliverables are edited like deals: each carries a `version`, and an edit made on a stale one
is refused (409 in the API, the form shown again in the UI) instead of overwriting a change made
in the meantime."""

import re

import pytest
from sqlalchemy import select

from agency.deals.models import Deliverable
from tests.factories import PASSWORD


@pytest.fixture()
def deliverable(client, manager, make_creator, auth_for):
    headers = auth_for(manager)
    brand = client.post("/api/v1/brands", json={"name": "Maison Version"}, headers=headers).json
    deal = client.post(
        "/api/v1/deals",
        json={
            "creator_id": make_creator(manager=manager).id,
            "brand_id": brand["id"],
            "title": "Launch",
            "source": "direct",
            "fee_amount": "100.00",
            "fee_currency": "EUR",
        },
        headers=headers,
    ).json
    added = client.post(
        f"/api/v1/deals/{deal['id']}/deliverables", json={"kind": "video", "platform": "tiktok"}, headers=headers
    )
    assert added.status_code == 201, added.json
    return added.json


def _path(d):
    return f"/api/v1/deals/{d['deal_id']}/deliverables/{d['id']}"


def test_a_stale_deliverable_edit_is_a_conflict(client, session, manager, auth_for, deliverable):
    headers = auth_for(manager)
    assert deliverable["version"] == 1
    first = client.patch(_path(deliverable), json={"status": "in_progress", "version": 1}, headers=headers)
    assert first.status_code == 200, first.json
    assert first.json["version"] == 2
    late = client.patch(_path(deliverable), json={"status": "cancelled", "version": 1}, headers=headers)
    assert late.status_code == 409
    assert late.json["errors"] == {"version": ["current version is 2"]}
    session.expire_all()
    assert session.scalar(select(Deliverable.status).where(Deliverable.id == deliverable["id"])).value == "in_progress"
    listed = client.get(f"/api/v1/deals/{deliverable['deal_id']}/deliverables", headers=headers).json
    assert [d["version"] for d in listed] == [2]


def test_a_deliverable_edit_must_say_which_version_it_read(client, manager, auth_for, deliverable):
    missing = client.patch(_path(deliverable), json={"status": "in_progress"}, headers=auth_for(manager))
    assert missing.status_code == 422
    assert missing.json["errors"]["json"] == {"version": ["Missing data for required field."]}


def _login(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def test_the_deliverable_form_carries_its_version_and_refuses_a_stale_one(client, session, manager, deliverable):
    csrf = _login(client, manager)
    page = client.get(f"/deals/{deliverable['deal_id']}").get_data(as_text=True)
    assert f'name="version" value="{deliverable["version"]}"' in page
    path = f"/deals/{deliverable['deal_id']}/deliverables/{deliverable['id']}"
    form = {"csrf_token": csrf, "status": "in_progress", "due_date": "", "published_url": ""}
    missing = client.post(path, data=form)
    assert missing.status_code == 422 and "no version" in missing.get_data(as_text=True)
    assert client.post(path, data=form | {"version": "1"}).status_code == 302
    stale = client.post(path, data=form | {"status": "cancelled", "version": "1"})
    assert stale.status_code == 422 and "Reload" in stale.get_data(as_text=True)
    session.expire_all()
    stored = session.get(Deliverable, deliverable["id"])
    assert (stored.status.value, stored.version) == ("in_progress", 2)
