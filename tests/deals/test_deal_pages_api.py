"""The deal and brand pages write through the services: the API's validation shown inline, the
optimistic version, ownership and the audit log."""

import re

from sqlalchemy import select

from agency.core.audit.models import AuditEntry
from agency.core.users.models import Role
from agency.deals.models import Brand, Deal
from tests.factories import PASSWORD


def _login(client, user):
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)


def _deal(session, creator, brand, **fields):
    deal = Deal(
        creator_id=creator.id,
        brand_id=brand.id,
        title="Spring",
        source="direct",
        fee_amount="500.00",
        fee_currency="EUR",
        commission_percent="20.00",
        **fields,
    )
    session.add(deal)
    session.commit()
    return deal


def test_a_brand_form_shows_the_schemas_errors_and_a_stale_edit_is_refused(client, session, manager):
    csrf = _login(client, manager)
    bad = client.post("/brands/new", data={"csrf_token": csrf, "name": "", "website": "nope"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert 'id="f-name-error"' in html and 'id="f-website-error"' in html and 'aria-invalid="true"' in html
    assert 'value="nope"' in html  # what was typed stays
    made = client.post("/brands/new", data={"csrf_token": csrf, "name": "Northwind", "contacts": "Ana, ana@nw.example"})
    assert made.status_code == 302
    brand = session.scalars(select(Brand).where(Brand.name == "Northwind")).one()
    assert brand.contacts == [{"name": "Ana", "email": "ana@nw.example", "phone": None, "role": None}]
    form = {"csrf_token": csrf, "name": "Northwind Ltd", "version": str(brand.version)}
    assert client.post(f"/brands/{brand.id}/edit", data=form).status_code == 302
    stale = client.post(f"/brands/{brand.id}/edit", data=form | {"name": "Northwind Co"})
    assert stale.status_code == 422 and "changed by someone else" in stale.get_data(as_text=True)
    session.refresh(brand)
    assert brand.name == "Northwind Ltd"
    actions = session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "brand").order_by(AuditEntry.id)
    ).all()
    assert actions == ["brand.create", "brand.update"]


def test_deal_pages_keep_to_the_managers_creators(client, session, manager, make_user, make_creator):
    other = make_user(Role.manager)
    brand = Brand(name="Contoso")
    session.add(brand)
    session.commit()
    mine, theirs = make_creator(manager=manager), make_creator(manager=other)
    foreign = _deal(session, theirs, brand)
    csrf = _login(client, manager)
    opened = client.post(
        "/deals/new",
        data={
            "csrf_token": csrf,
            "creator_id": theirs.id,
            "brand_id": brand.id,
            "title": "X",
            "source": "direct",
            "fee_amount": "10.00",
            "fee_currency": "EUR",
        },
    )
    assert opened.status_code == 422 and "only change creators you manage" in opened.get_data(as_text=True)
    for path in (f"/deals/{foreign.id}/edit", f"/deals/{foreign.id}/archive", f"/deals/{foreign.id}/deliverables"):
        assert client.post(path, data={"csrf_token": csrf, "kind": "video", "platform": "tiktok"}).status_code == 403, (
            path
        )
    created = client.post(
        "/deals/new",
        data={
            "csrf_token": csrf,
            "creator_id": mine.id,
            "brand_id": brand.id,
            "title": "Mine",
            "source": "direct",
            "fee_amount": "10.00",
            "fee_currency": "eur",
        },
    )
    assert created.status_code == 302
    deal = session.scalars(select(Deal).where(Deal.title == "Mine")).one()
    assert deal.fee_currency == "EUR" and deal.stage.value == "lead"
    bad_currency = client.post(
        f"/deals/{deal.id}/edit",
        data={
            "csrf_token": csrf,
            "version": deal.version,
            "fee_currency": "ZZZ",
            "title": "Mine",
            "fee_amount": "10.00",
            "source": "direct",
            "brand_id": brand.id,
        },
    )
    assert bad_currency.status_code == 422 and 'id="f-fee_currency-error"' in bad_currency.get_data(as_text=True)


def test_analysts_change_nothing_from_the_pages(client, session, analyst, manager, make_creator):
    brand = Brand(name="Fabrikam")
    session.add(brand)
    session.commit()
    creator = make_creator(manager=manager)
    deal = _deal(session, creator, brand)
    csrf = _login(client, analyst)
    for path in (
        "/brands/new",
        f"/brands/{brand.id}/edit",
        f"/brands/{brand.id}/archive",
        "/deals/new",
        f"/deals/{deal.id}/edit",
        "/revenue/new",
        "/metrics/import",
        f"/creators/{creator.id}/accounts",
        f"/creators/{creator.id}/archive",
        f"/creators/{creator.id}/portal",
        f"/accounts/{creator.accounts[0].id}/metrics/day",
    ):
        assert client.post(path, data={"csrf_token": csrf}).status_code == 403, path
    assert "Open a deal" not in client.get("/deals").get_data(as_text=True)
