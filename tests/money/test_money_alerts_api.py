"""Reminders for unpaid invoices at due + 7, + 14 and + 30 days (alert and the manager's email,
once each), and renewal alerts before a representation agreement ends."""

from datetime import date, timedelta

from sqlalchemy import select

from agency.alerts.models import Alert, AlertKind, AlertStatus, OutboxMessage
from agency.alerts.notifications import queue_immediate
from agency.alerts.service import AlertSettings, evaluate_alerts

ISSUED = date(2026, 3, 2)
DUE = ISSUED + timedelta(days=30)


def _evaluate(session, today):
    result = evaluate_alerts(
        db_session=session,
        settings=AlertSettings(today=today),
        on_opened=lambda ids: queue_immediate(db_session=session, alert_ids=ids, public_url="http://agency.test"),
    )
    session.commit()
    return result


def _reminders(session, status=None):
    stmt = select(Alert).where(Alert.kind == AlertKind.invoice_reminder).order_by(Alert.id)
    if status is not None:
        stmt = stmt.where(Alert.status == status)
    return session.scalars(stmt).all()


def test_unpaid_invoice_reminders_once_at_each_step(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager, status="active")
    headers = auth_for(manager)
    brand = client.post("/api/v1/brands", json={"name": "Slow Payer"}, headers=headers).json
    deal = client.post(
        "/api/v1/deals",
        json={"creator_id": creator.id, "brand_id": brand["id"], "title": "Launch", "source": "direct",
              "fee_amount": "900.00", "fee_currency": "EUR"},
        headers=headers,
    ).json  # fmt: skip
    for stage in ["negotiating", "contracted", "in_progress", "delivered"]:
        client.post(f"/api/v1/deals/{deal['id']}/transitions", json={"to_stage": stage}, headers=headers)
    invoice = client.post(
        "/api/v1/invoices", json={"deal_id": deal["id"], "issued_on": ISSUED.isoformat()}, headers=headers
    ).json
    assert invoice["due_on"] == DUE.isoformat()

    _evaluate(session, DUE + timedelta(days=6))
    assert _reminders(session) == []
    for step in (7, 14, 30):
        for extra in (0, 1):  # the same step on the next run opens nothing new
            _evaluate(session, DUE + timedelta(days=step + extra))
        open_ = _reminders(session, AlertStatus.open)
        assert [a.dedup_key.rsplit(":", 1)[-1] for a in open_] == [str(step)]
        assert invoice["number"] in open_[0].subject and "900.00 EUR" in open_[0].message
    emails = session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == manager.email)).all()
    assert len(emails) == 3 and all(invoice["number"] in e.subject for e in emails)
    # Paid: the reminder resolves, and nothing more is sent.
    client.post(
        "/api/v1/payments",
        json={"brand_id": brand["id"], "received_on": (DUE + timedelta(days=31)).isoformat(), "amount": "900.00",
              "currency": "EUR", "bank_reference": "LATE-1",
              "allocations": [{"invoice_id": invoice["id"], "amount": "900.00"}]},
        headers=headers,
    )  # fmt: skip
    _evaluate(session, DUE + timedelta(days=45))
    assert _reminders(session, AlertStatus.open) == []
    assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == manager.email)).all()) == 3


def test_agreement_renewal_alert_within_its_notice(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager, status="active")
    created = client.post(
        "/api/v1/agreements",
        json={"creator_id": creator.id, "starts_on": "2025-06-01", "ends_on": "2026-05-31", "payout_currency": "EUR",
              "renewal_notice_days": 45},
        headers=auth_for(manager),
    )  # fmt: skip
    assert created.status_code == 201, created.json

    def renewals():
        return session.scalars(
            select(Alert).where(Alert.kind == AlertKind.agreement_renewal, Alert.status == AlertStatus.open)
        ).all()

    _evaluate(session, date(2026, 4, 15))  # 46 days before the end
    assert renewals() == []
    _evaluate(session, date(2026, 4, 16))
    assert [a.payload["agreement_id"] for a in renewals()] == [created.json["id"]]
    _evaluate(session, date(2026, 6, 1))  # ended: the alert resolves
    assert renewals() == []
