"""The UI's edit forms, like the API, are refused (form shown again with an error, nothing saved)
when they carry no `version` or a stale one."""

import re

from sqlalchemy import select

from agency.deals.models import Brand
from tests.factories import PASSWORD


def _login(client, user):
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def test_the_creator_form_needs_the_version_it_was_read_at(client, session, manager, make_creator):
    creator = make_creator(manager=manager, display_name="Original")
    csrf = _login(client, manager)
    form = {"csrf_token": csrf, "display_name": "Blind"}
    missing = client.post(f"/creators/{creator.id}/edit", data=form)
    assert missing.status_code == 422 and "no version" in missing.get_data(as_text=True)
    assert 'value="Blind"' in missing.get_data(as_text=True)  # the form is shown again with what was typed
    session.refresh(creator)
    assert creator.display_name == "Original"

    read_at = creator.version
    assert client.post(f"/creators/{creator.id}/edit", data=form | {"version": str(read_at)}).status_code == 302
    stale = client.post(f"/creators/{creator.id}/edit", data=form | {"display_name": "Late", "version": str(read_at)})
    assert stale.status_code == 422 and "Reload" in stale.get_data(as_text=True)
    session.refresh(creator)
    assert creator.display_name == "Blind"


def test_the_brand_form_without_a_version_saves_nothing(client, session, manager):
    csrf = _login(client, manager)
    assert client.post("/brands/new", data={"csrf_token": csrf, "name": "Fabrikam"}).status_code == 302
    brand = session.scalars(select(Brand).where(Brand.name == "Fabrikam")).one()
    missing = client.post(f"/brands/{brand.id}/edit", data={"csrf_token": csrf, "name": "Fabrikam Blind"})
    assert missing.status_code == 422 and "no version" in missing.get_data(as_text=True)
    stale = client.post(
        f"/brands/{brand.id}/edit", data={"csrf_token": csrf, "name": "Fabrikam Old", "version": str(brand.version - 1)}
    )
    assert stale.status_code == 422 and "changed by someone else" in stale.get_data(as_text=True)
    session.refresh(brand)
    assert brand.name == "Fabrikam" and brand.version == 1


def test_the_account_form_needs_the_version_it_was_read_at(client, session, manager, make_creator):
    creator = make_creator(manager=manager, accounts=("tiktok",))
    account = creator.accounts[0]
    csrf = _login(client, manager)
    page = client.get(f"/creators/{creator.id}/accounts").get_data(as_text=True)
    assert f'name="version" value="{account.version}"' in page  # the form carries what it was read at
    path = f"/creators/{creator.id}/accounts/{account.id}"
    form = {"csrf_token": csrf, "handle": "blind_handle", "account_type": "business"}
    missing = client.post(path, data=form)
    assert missing.status_code == 422 and "no version" in missing.get_data(as_text=True)

    read_at = account.version
    assert client.post(path, data=form | {"handle": "first_handle", "version": str(read_at)}).status_code == 302
    stale = client.post(path, data=form | {"handle": "late_handle", "version": str(read_at)})
    assert stale.status_code == 422
    assert "changed by someone else" in stale.get_data(as_text=True) and "Reload" in stale.get_data(as_text=True)
    session.refresh(account)
    assert account.handle == "first_handle" and account.version == read_at + 1


def test_the_api_refuses_an_account_edit_made_on_a_stale_version(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager, accounts=("youtube",))
    headers = auth_for(manager)
    path = f"/api/v1/creators/{creator.id}/accounts/{creator.accounts[0].id}"
    read = client.get(path, headers=headers).json
    first = client.patch(path, json={"handle": "new_one", "version": read["version"]}, headers=headers)
    assert first.status_code == 200 and first.json["version"] == read["version"] + 1
    stale = client.patch(path, json={"handle": "old_one", "version": read["version"]}, headers=headers)
    assert stale.status_code == 409 and stale.json["errors"]["version"]
    assert client.get(path, headers=headers).json["handle"] == "new_one"
