"""The revenue page's CSV import does what the API's does: audit, then the income mix of exactly
the creators the file touched (in-process here, as without Redis)."""

import re
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

from sqlalchemy import select

from agency.core.audit.models import AuditEntry
from agency.money.models import DiversificationSnapshot, RevenueRecord
from tests.factories import PASSWORD


def _csrf(client, path):
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True)).group(1)


def test_importing_revenue_in_the_browser_refreshes_the_income_mix_of_the_creators_it_touched(
    client, session, manager, make_creator
):
    touched, untouched = make_creator(manager=manager), make_creator(manager=manager)
    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": _csrf(client, "/login")})
    day = (date.today() - timedelta(days=3)).isoformat()
    csv = (
        "creator_id,date,source,platform,amount,currency,external_ref\n"
        f"{touched.id},{day},creator_rewards,tiktok,900.00,EUR,page-1\n"
        f"{touched.id},{day},merch,,100.00,EUR,page-2\n"
    )
    response = client.post(
        "/revenue",
        data={"csrf_token": _csrf(client, "/revenue"), "file": (BytesIO(csv.encode()), "revenue.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Imported 2 record(s)" in response.get_data(as_text=True)
    snapshots = session.scalars(select(DiversificationSnapshot)).all()
    assert {s.creator_id for s in snapshots} == {touched.id}
    assert untouched.id not in {s.creator_id for s in snapshots}
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "revenue.import")).all()
    assert len(audit) == 1 and audit[0].actor_id == manager.id


def test_the_record_form_needs_the_version_it_was_read_at_and_is_audited(client, session, manager, make_creator):
    creator = make_creator(manager=manager)
    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": _csrf(client, "/login")})
    day = (date.today() - timedelta(days=3)).isoformat()
    form = {"creator_id": creator.id, "date": day, "source": "merch", "amount": "40.00", "currency": "EUR"}
    assert client.post("/revenue/new", data=form | {"csrf_token": _csrf(client, "/revenue/new")}).status_code == 302
    record = session.scalars(select(RevenueRecord).where(RevenueRecord.creator_id == creator.id)).one()
    path = f"/revenue/{record.id}/edit"
    edit = {"date": day, "source": "merch", "amount": "45.00", "currency": "EUR", "csrf_token": _csrf(client, path)}

    missing = client.post(path, data=edit)
    assert missing.status_code == 422 and "no version" in missing.get_data(as_text=True)
    assert client.post(path, data=edit | {"version": str(record.version)}).status_code == 302
    stale = client.post(path, data=edit | {"amount": "50.00", "version": str(record.version)})
    assert stale.status_code == 422 and "changed by someone else" in stale.get_data(as_text=True)
    session.expire_all()
    assert session.get(RevenueRecord, record.id).amount == Decimal("45.00")
    audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "revenue.update")).one()
    assert audit.entity_id == record.id
