"""Role x endpoint x owned/not-owned matrix over every API operation.

Admins do everything; managers change only the creators they manage (and what hangs off them);
analysts read; creators reach only the portal's few operations, for themselves ("owns": the
creator is them). `test_matrix_covers_every_api_operation` fails when an operation in the OpenAPI
document has no row here, so each new endpoint must add one."""

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from agency.alerts.models import Alert
from agency.core.audit.service import Actor
from agency.core.jobs.models import JobRecord, JobStatus
from agency.core.users.models import Role
from agency.core.users.service import start_session
from agency.deals.models import Brand, Deal, DealStage, Deliverable
from agency.money.agreements import save_agreement
from agency.money.chain_models import JournalEntry
from agency.money.invoices import MoneySettings, create_invoice
from agency.money.models import RevenueRecord
from agency.money.payments import allocate_payment, record_payment
from agency.money.payouts import create_batch
from agency.programmes.catalogue import seed_catalogue
from agency.programmes.models import Program, RuleVersion
from agency.roster.models import Creator, GuidelineStrike
from tests.factories import PASSWORD

YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
# Logging in needs no role; anyone may revoke their own token.
PUBLIC_OPERATIONS = {("POST", "/api/v1/auth/tokens"), ("DELETE", "/api/v1/auth/tokens/current")}


def _requests(w: dict) -> list[tuple]:
    """(method, path, body or (content type, raw body), kind) in an order where earlier writes
    do not invalidate later ones (versions first, deletions last)."""
    c, a, d, b, r, p = w["creator"], w["account"], w["deal"], w["brand"], w["record"], w["program"]
    csv_metrics = ("text/csv", f"account_id,day,followers\n{a},{YESTERDAY},10\n")
    csv_revenue = (
        "text/csv",
        "creator_id,date,source,platform,amount,currency,external_ref\n"
        f"{c},{YESTERDAY},merch,,5.00,EUR,rbac-{w['tag']}\n",
    )
    return [
        # read: every role
        ("GET", "/api/v1/users/me", None, "read_self"),
        ("GET", "/api/v1/users", None, "read"),
        ("GET", "/api/v1/users/me/notification-preferences", None, "read"),
        ("PUT", "/api/v1/users/me/notification-preferences", {"digest_hour": 9}, "read"),
        ("GET", "/api/v1/users/me/sessions", None, "read_self"),
        ("DELETE", "/api/v1/users/me/sessions", None, "read_self"),
        # Another user's sign-in session is not found by anyone, admins included.
        ("DELETE", f"/api/v1/users/me/sessions/{w['foreign_session']}", None, "foreign"),
        (
            "PUT",
            "/api/v1/users/me/password",
            {"current_password": PASSWORD, "new_password": "a-long-password-3"},
            "read_self",
        ),  # fmt: skip
        ("GET", "/api/v1/creators", None, "read"),
        ("GET", f"/api/v1/creators/{c}", None, "read"),
        ("GET", f"/api/v1/creators/{c}/accounts", None, "read"),
        ("GET", f"/api/v1/creators/{c}/accounts/{a}", None, "read"),
        ("GET", f"/api/v1/creators/{c}/strikes", None, "read"),
        ("GET", f"/api/v1/accounts/{a}/metrics", None, "read"),
        ("GET", "/api/v1/programs", None, "read"),
        ("GET", f"/api/v1/programs/{p}", None, "read"),
        ("GET", f"/api/v1/programs/{p}/rules", None, "read"),
        ("GET", f"/api/v1/programs/{p}/rules/{w['rule']}", None, "read"),
        ("GET", f"/api/v1/creators/{c}/eligibility", None, "read"),
        ("GET", f"/api/v1/creators/{c}/eligibility/history", None, "read"),
        ("GET", "/api/v1/eligibility", None, "read"),
        ("GET", f"/api/v1/creators/{c}/activations", None, "read"),
        ("GET", "/api/v1/brands", None, "read"),
        ("GET", f"/api/v1/brands/{b}", None, "read"),
        ("GET", "/api/v1/deals", None, "read"),
        ("GET", "/api/v1/deals/pipeline", None, "read"),
        ("GET", f"/api/v1/deals/{d}", None, "read"),
        ("GET", f"/api/v1/deals/{d}/transitions", None, "read"),
        ("GET", f"/api/v1/deals/{d}/deliverables", None, "read"),
        ("GET", f"/api/v1/deals/{w['invoiced_deal']}/adjustments", None, "read"),
        ("GET", "/api/v1/revenue", None, "read"),
        ("GET", f"/api/v1/revenue/{r}", None, "read"),
        ("GET", "/api/v1/fx-rates", None, "read"),
        ("GET", f"/api/v1/creators/{c}/diversification", None, "read"),
        ("GET", "/api/v1/diversification", None, "read"),
        ("GET", f"/api/v1/creators/{c}/statements/2026-01", None, "read"),
        ("GET", "/api/v1/alerts", None, "read"),
        ("GET", f"/api/v1/alerts/{w['alert']}", None, "read"),
        ("GET", "/api/v1/jobs/runs", None, "read"),
        ("GET", f"/api/v1/jobs/{w['job']}", None, "read"),
        # the money chain
        ("GET", "/api/v1/agreements", None, "read"),
        ("GET", f"/api/v1/agreements/{w['agreement']}", None, "read"),
        ("GET", f"/api/v1/deals/{d}/money-terms", None, "read"),
        ("GET", "/api/v1/invoices", None, "read"),
        ("GET", f"/api/v1/invoices/{w['invoice']}", None, "read"),
        ("GET", f"/api/v1/invoices/{w['invoice']}/pdf", None, "read"),
        ("GET", "/api/v1/payments", None, "read"),
        ("GET", f"/api/v1/payments/{w['payment']}", None, "read"),
        ("GET", "/api/v1/payouts/payables", None, "read"),
        ("GET", "/api/v1/payout-batches", None, "read"),
        ("GET", f"/api/v1/payout-batches/{w['batch']}", None, "read"),
        ("GET", f"/api/v1/creators/{c}/balance", None, "read"),
        ("GET", f"/api/v1/creators/{c}/account-statement?month=2026-01", None, "read"),
        ("GET", "/api/v1/ledger/accounts", None, "read"),
        ("GET", "/api/v1/ledger/entries", None, "read"),
        ("GET", "/api/v1/ledger/commission-payables", None, "read"),
        ("GET", "/api/v1/ledger/export?from=2020-01-01&to=2030-12-31", None, "read"),
        ("GET", "/api/v1/aging", None, "read"),
        # writes on the creator and what hangs off it: admins, and the managing manager
        ("PATCH", f"/api/v1/creators/{c}", {"notes": "x", "version": 1}, "write_owned"),
        ("PATCH", f"/api/v1/deals/{d}", {"title": "Renamed", "version": 1}, "write_owned"),
        ("PATCH", f"/api/v1/revenue/{r}", {"notes": "x", "version": 1}, "write_owned"),
        ("POST", f"/api/v1/creators/{c}/accounts", {"platform": "x", "handle": f"h{w['tag']}"}, "write_owned"),
        ("PATCH", f"/api/v1/creators/{c}/accounts/{a}", {"account_type": "business"}, "write_owned"),
        ("POST", f"/api/v1/creators/{c}/strikes", {"occurred_on": "2024-01-01"}, "write_owned"),
        ("PUT", f"/api/v1/accounts/{a}/metrics/{YESTERDAY}", {"followers": 10}, "write_owned"),
        ("POST", "/api/v1/metrics/import", csv_metrics, "write_owned"),
        ("PUT", f"/api/v1/creators/{c}/activations/{p}", {"status": "applied"}, "write_owned"),
        (
            "POST",
            "/api/v1/deals",
            {
                "creator_id": c,
                "brand_id": b,
                "title": "New",
                "source": "direct",
                "fee_amount": "10.00",
                "fee_currency": "EUR",
            },
            "write_owned",
        ),
        ("POST", f"/api/v1/deals/{d}/transitions", {"to_stage": "negotiating"}, "write_owned"),
        (
            "POST",
            f"/api/v1/deals/{w['invoiced_deal']}/adjustments",
            {"kind": "credit", "amount": "5.00", "reason": "rbac"},
            "write_owned",
        ),
        ("POST", f"/api/v1/deals/{d}/deliverables", {"kind": "video", "platform": "tiktok"}, "write_owned"),
        (
            "PATCH",
            f"/api/v1/deals/{d}/deliverables/{w['deliverable']}",
            {"status": "in_progress", "version": 1},
            "write_owned",
        ),
        (
            "POST",
            "/api/v1/revenue",
            {"creator_id": c, "date": YESTERDAY, "source": "merch", "amount": "5.00", "currency": "EUR"},
            "write_owned",
        ),
        ("POST", "/api/v1/revenue/import", csv_revenue, "write_owned_rows"),
        (
            "POST",
            "/api/v1/agreements",
            {"creator_id": c, "starts_on": "2030-01-01", "payout_currency": "EUR"},
            "write_owned",
        ),
        ("PATCH", f"/api/v1/agreements/{w['agreement']}", {"notes": "x", "version": 1}, "write_owned"),
        ("PUT", f"/api/v1/deals/{d}/money-terms", {"payment_terms_days": 45}, "write_owned"),
        ("POST", "/api/v1/invoices", {"deal_id": w["deal_delivered"], "draft": True}, "write_owned"),
        ("POST", f"/api/v1/invoices/{w['draft']}/issue", {}, "write_owned"),
        ("POST", f"/api/v1/invoices/{w['invoice']}/credit-notes", {"amount": "1.00", "reason": "x"}, "write_owned"),
        ("POST", f"/api/v1/invoices/{w['draft']}/void", None, "write_owned"),
        (
            "POST",
            f"/api/v1/payments/{w['payment']}/allocations",
            {"allocations": [{"invoice_id": w["invoice"], "amount": "1.00"}]},
            "write_owned",
        ),
        ("POST", "/api/v1/payout-batches", {"creator_ids": [c]}, "write_owned"),
        ("POST", "/api/v1/ledger/platform-payouts", {"revenue_record_id": w["platform_revenue"]}, "write_owned"),
        ("POST", f"/api/v1/alerts/{w['alert']}/acknowledge", None, "write_owned"),
        ("POST", "/api/v1/alerts/bulk", {"ids": [w["alert2"]], "action": "acknowledge"}, "write_owned"),
        ("POST", f"/api/v1/alerts/{w['alert']}/resolve", None, "write_owned"),
        # shared work for admins and managers
        ("POST", "/api/v1/creators", {"display_name": "N", "country": "FR", "niche": "music"}, "staff"),
        ("POST", "/api/v1/brands", {"name": f"Brand {w['tag']}"}, "staff"),
        # a brand used only by the owner's deals: theirs to edit, another manager's is refused
        ("PATCH", f"/api/v1/brands/{b}", {"notes": "x", "version": 1}, "write_owned"),
        ("POST", "/api/v1/eligibility/recompute", {"creator_ids": [c]}, "staff"),
        ("POST", "/api/v1/diversification/recompute", {"creator_ids": [c]}, "staff"),
        (
            "POST",
            "/api/v1/payments",
            {"brand_id": b, "received_on": YESTERDAY, "amount": "5.00", "currency": "EUR", "bank_reference": "rbac-p"},
            "staff",
        ),
        (
            "POST",
            "/api/v1/payments/import",
            ("text/csv", f"date,amount,currency,bank_reference,brand_id\n{YESTERDAY},5.00,EUR,rbac-i,{b}\n"),
            "staff",
        ),
        # admins only
        (
            "POST",
            "/api/v1/users",
            {"email": f"new{w['tag']}@test.example", "role": "analyst", "password": "a-long-password-1"},
            "admin",
        ),
        ("GET", f"/api/v1/users/{w['other_user']}/sessions", None, "admin"),
        ("DELETE", f"/api/v1/users/{w['other_user']}/sessions", None, "admin"),
        ("PUT", f"/api/v1/users/{w['other_user']}/password", {"new_password": "a-long-password-2"}, "admin"),
        ("PATCH", f"/api/v1/programs/{p}", {"description": "x"}, "admin"),
        (
            "POST",
            f"/api/v1/programs/{p}/rules",
            {"effective_from": "2026-01-01", "criteria": [{"kind": "age", "min": 18}]},
            "admin",
        ),
        ("PATCH", f"/api/v1/programs/{p}/rules/{w['rule']}", {"effective_to": "2031-01-01"}, "admin"),
        ("POST", f"/api/v1/programs/{w['closable']}/close", {"effective_to": "2031-01-01"}, "admin"),
        ("POST", "/api/v1/fx-rates", {"day": "2026-01-01", "base": "USD", "quote": "EUR", "rate": "0.9"}, "admin"),
        ("POST", "/api/v1/fx-rates/import", ("text/csv", "day,base,quote,rate\n2026-01-02,USD,EUR,0.91\n"), "admin"),
        ("POST", f"/api/v1/jobs/{w['job']}/retry", None, "admin"),
        ("GET", "/api/v1/audit", None, "admin"),
        ("POST", f"/api/v1/payout-batches/{w['batch']}/approval", {"version": 1}, "admin"),
        (
            "POST",
            f"/api/v1/payout-batches/{w['batch']}/payment",
            {"version": 2, "paid_on": YESTERDAY, "reference": "rbac"},
            "admin",
        ),
        ("POST", f"/api/v1/ledger/entries/{w['entry']}/reversal", {"reason": "rbac"}, "admin"),
        (
            "POST",
            "/api/v1/ledger/commission-payouts",
            {"payee": "RBAC Referrer", "amount": "1.00", "paid_on": YESTERDAY, "reference": "rbac"},
            "admin",
        ),
        ("POST", f"/api/v1/invoices/{w['invoice']}/write-off", {"reason": "rbac"}, "admin"),
        # deletions last
        ("DELETE", f"/api/v1/agreements/{w['agreement']}", None, "write_owned"),
        ("DELETE", f"/api/v1/revenue/{r}", None, "write_owned"),
        ("DELETE", f"/api/v1/deals/{d}", None, "write_owned"),
        ("DELETE", f"/api/v1/brands/{b}", None, "write_owned"),
        ("DELETE", f"/api/v1/creators/{c}/accounts/{a}", None, "write_owned"),
        ("DELETE", f"/api/v1/creators/{c}", None, "write_owned"),
    ]


def _portal_operations(w: dict) -> set[tuple[str, str]]:
    """What a creator's token may call, for their own creator only."""
    c = w["creator"]
    return {
        ("GET", "/api/v1/users/me"),
        ("GET", f"/api/v1/creators/{c}/eligibility"),
        ("GET", f"/api/v1/creators/{c}/eligibility/history"),
        ("GET", f"/api/v1/creators/{c}/statements/2026-01"),
        ("GET", f"/api/v1/creators/{c}/balance"),
        ("GET", f"/api/v1/creators/{c}/account-statement?month=2026-01"),
        ("POST", "/api/v1/metrics/import"),
        ("GET", "/api/v1/users/me/sessions"),
        ("DELETE", "/api/v1/users/me/sessions"),
        ("DELETE", f"/api/v1/users/me/sessions/{w['foreign_session']}"),
        ("PUT", "/api/v1/users/me/password"),
    }


def _expected(kind: str, role: Role, owns: bool, portal: bool = False) -> int | None:
    """None: a success (2xx); otherwise the refusal's status."""
    if kind == "foreign":
        return 404
    if role is Role.creator:
        if not portal:
            return 403
        return None if owns or kind == "read_self" else 403
    if kind in ("read", "read_self"):
        return None
    if role is Role.analyst:
        return 403
    if kind in ("write_owned", "write_owned_rows") and role is Role.manager and not owns:
        return 422 if kind == "write_owned_rows" else 403  # imports report foreign rows per line
    if kind == "admin" and role is not Role.admin:
        return 403
    return None


@pytest.fixture()
def world(session, make_user, make_creator):
    seed_catalogue(db_session=session)
    owner = make_user(Role.manager)
    creator = make_creator(manager=owner)
    brand = Brand(name=f"RBAC brand {creator.id}")
    session.add(brand)
    session.flush()
    deal = Deal(
        creator_id=creator.id,
        brand_id=brand.id,
        title="Deal",
        source="direct",
        fee_amount="100.00",
        fee_currency="EUR",
        commission_percent="20.00",
    )
    invoiced = Deal(
        creator_id=creator.id,
        brand_id=brand.id,
        title="Invoiced deal",
        source="direct",
        fee_amount="100.00",
        fee_currency="EUR",
        commission_percent="20.00",
        stage="invoiced",
        invoiced_on=date(2026, 1, 5),
    )
    session.add_all([deal, invoiced])
    session.flush()
    deliverable = Deliverable(deal_id=deal.id, kind="video", platform="tiktok")
    record = RevenueRecord(
        creator_id=creator.id,
        earned_on=date(2026, 1, 5),
        source="merch",
        amount="9.00",
        currency="EUR",
        external_ref=f"rbac-record-{creator.id}",
    )
    # Alerts whose condition holds (recent strikes): writes above re-evaluate the creator's
    # alerts, and an alert whose condition is gone would be resolved under the test's feet.
    strikes = [GuidelineStrike(creator_id=creator.id, occurred_on=date.today(), reason="rbac") for _ in range(2)]
    session.add_all(strikes)
    session.flush()
    alerts = [
        Alert(
            kind="guideline_strike",
            severity="medium",
            creator_id=creator.id,
            dedup_key=f"guideline_strike:{creator.id}:strike:{strike.id}",
            subject="s",
            message="m",
        )
        for strike in strikes
    ]
    job = JobRecord(
        id=f"00000000-0000-0000-0000-{creator.id:012d}",
        name="cleanup",
        queue="default",
        status=JobStatus.failed,
        arguments={},
    )
    session.add_all([deliverable, record, *alerts, job])
    session.commit()
    program = session.query(Program).order_by(Program.id).first()
    closable = Program(code=f"rbac_closable_{creator.id}", name="Closable", platform="tiktok")
    session.add(closable)
    session.flush()
    session.add(RuleVersion(program_id=closable.id, version=1, effective_from=date(2020, 1, 1), criteria=[]))
    session.commit()
    money = _money_world(session, owner, creator, brand, make_creator)
    other_user = make_user(Role.analyst)
    foreign_session = start_session(db_session=session, user=other_user, remember=False, ttl=timedelta(hours=1))
    session.commit()
    return money | {
        "other_user": other_user.id,
        "foreign_session": foreign_session.id,
        "owner": owner,
        "creator": creator.id,
        "account": creator.accounts[0].id,
        "deal": deal.id,
        "invoiced_deal": invoiced.id,
        "brand": brand.id,
        "record": record.id,
        "program": program.id,
        "rule": program.rules[0].id,
        "closable": closable.id,
        "deliverable": deliverable.id,
        "alert": alerts[0].id,
        "alert2": alerts[1].id,
        "job": job.id,
        "tag": creator.id,
    }


def _money_world(session, owner, creator, brand, make_creator) -> dict:
    """An agreement, an issued and a draft invoice, a payment, a paid invoice whose creator's
    share can be paid out, a draft payout batch for another creator, a journal entry."""
    settings, actor = MoneySettings("EUR", Decimal("20.00")), Actor(user=owner)
    agreement = save_agreement(
        db_session=session,
        actor=actor,
        default_commission=settings.default_commission,
        data={"creator_id": creator.id, "starts_on": date(2020, 1, 1), "ends_on": date(2020, 12, 31),
              "payout_currency": "EUR"},
    )  # fmt: skip
    other = make_creator(manager=owner)
    save_agreement(
        db_session=session,
        actor=actor,
        default_commission=settings.default_commission,
        data={"creator_id": other.id, "starts_on": date(2020, 1, 1), "payout_currency": "EUR",
              "splits": [{"role": "agency", "share_percent": "90"},
                         {"role": "referrer", "referrer_name": "RBAC Referrer", "share_percent": "10"}]},
    )  # fmt: skip

    def invoice(who, draft=False, stage=DealStage.delivered):
        deal = Deal(creator_id=who.id, brand_id=brand.id, title="Money", source="direct", fee_amount=Decimal("100.00"),
                    fee_currency="EUR", stage=stage, commission_percent="20.00")  # fmt: skip
        session.add(deal)
        session.flush()
        if stage is not DealStage.delivered:
            return deal
        return create_invoice(
            db_session=session, actor=actor, deal=deal, settings=settings, today=date.today(), data={"draft": draft}
        )

    issued, draft = invoice(creator), invoice(creator, draft=True)
    paid, paid_other = invoice(creator), invoice(other)
    payment = record_payment(
        db_session=session, actor=actor, settings=settings, today=date.today(),
        data={"brand_id": brand.id, "received_on": date.today(), "amount": Decimal("500.00"), "currency": "EUR",
              "bank_reference": f"rbac-world-{creator.id}"},
    )  # fmt: skip
    allocate_payment(
        db_session=session, actor=actor, payment=payment, settings=settings, today=date.today(),
        allocations=[{"invoice_id": paid.id, "amount": Decimal("100.00")},
                     {"invoice_id": paid_other.id, "amount": Decimal("100.00")}],
    )  # fmt: skip
    batch = create_batch(db_session=session, actor=actor, creator_ids=[other.id], settings=settings)
    rewards = RevenueRecord(creator_id=other.id, earned_on=date.today() - timedelta(days=1), source="creator_rewards",
                            amount=Decimal("10.00"), currency="EUR")  # fmt: skip
    session.add(rewards)
    session.commit()
    return {
        "agreement": agreement.id,
        "invoice": issued.id,
        "draft": draft.id,
        "deal_delivered": invoice(creator, stage=DealStage.in_progress).id,
        "payment": payment.id,
        "batch": batch.id,
        "platform_revenue": rewards.id,
        "entry": session.scalar(select(JournalEntry.id).order_by(JournalEntry.id)),
    }


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("owns", [True, False])
def test_matrix(client, session, make_user, make_portal_user, make_creator, auth_for, world, role, owns):
    if role is Role.creator:
        user = make_portal_user(session.get(Creator, world["creator"]) if owns else make_creator())
    else:
        user = world["owner"] if (owns and role is Role.manager) else make_user(role)
    headers = auth_for(user)
    portal = _portal_operations(world)
    for method, path, body, kind in _requests(world):
        if isinstance(body, tuple):
            response = client.open(path, method=method, data=body[1], content_type=body[0], headers=headers)
        else:
            response = client.open(path, method=method, json=body, headers=headers)
        expected = _expected(kind, role, owns, (method, path) in portal)
        if expected is None:
            assert response.status_code < 400, (method, path, role.value, owns, response.status_code, response.json)
        else:
            assert response.status_code == expected, (method, path, role.value, owns, response.status_code)
            assert response.json["code"] == expected


def test_matrix_covers_every_api_operation(client, world):
    spec = client.get("/api/openapi.json").json
    covered = {(method, path.split("?")[0]) for method, path, _body, _kind in _requests(world)}
    missing = []
    for template, operations in spec["paths"].items():
        pattern = re.compile("^" + re.sub(r"\\{[a-z_]+\\}", r"[^/]+", re.escape(template)) + "$")
        for method in operations:
            if method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                continue
            key = (method.upper(), template)
            if key not in PUBLIC_OPERATIONS and not any(m == key[0] and pattern.match(p) for m, p in covered):
                missing.append(f"{key[0]} {template}")
    assert not missing, f"add these operations to the RBAC matrix: {missing}"


def test_manager_cannot_reassign_or_create_for_someone_else(client, manager, make_user, make_creator, auth_for):
    other = make_user(Role.manager)
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    reassign = client.patch(
        f"/api/v1/creators/{creator.id}", json={"manager_id": other.id, "version": 1}, headers=headers
    )
    assert reassign.status_code == 422
    create = client.post(
        "/api/v1/creators",
        json={"display_name": "N", "country": "FR", "niche": "music", "manager_id": other.id},
        headers=headers,
    )
    assert create.status_code == 422


def test_admin_reassigns(client, admin, manager, make_creator, auth_for):
    creator = make_creator()
    response = client.patch(
        f"/api/v1/creators/{creator.id}", json={"manager_id": manager.id, "version": 1}, headers=auth_for(admin)
    )
    assert response.status_code == 200 and response.json["manager"]["id"] == manager.id
