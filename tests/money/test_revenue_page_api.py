"""The revenue page's CSV import does what the API's does: audit, then the income mix of exactly
the creators the file touched (in-process here, as without Redis)."""

import re
from datetime import date, timedelta
from io import BytesIO

from sqlalchemy import select

from agency.core.audit.models import AuditEntry
from agency.money.models import DiversificationSnapshot
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
