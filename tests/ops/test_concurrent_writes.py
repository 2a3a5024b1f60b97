"""Writes that race, as two web workers would run them: real threads, each request with its own
session and transaction, against a PostgreSQL database of their own where every write commits.
Whoever loses a race gets a 409 (or a 422 for a form shown again) with a clear message, the
winner's write is the one kept, nothing is written twice, and nothing answers 500.

A race only happens when the two requests meet at the contended row; each test runs its race
several times, and what it asserts holds in whichever order the requests happened to go."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from flask import Flask
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from agency.core.cli import alembic_config
from agency.core.logging import configure_logging
from agency.core.users.models import Role
from agency.core.users.service import create_user, issue_token
from agency.deals.models import Deal, DealTransition
from agency.money.chain_models import Invoice, Payment, PaymentAllocation
from agency.money.models import RevenueRecord
from agency.roster.models import Creator, PlatformAccount
from tests.factories import PASSWORD
from tests.ops.conftest import make_app

ROUNDS = 4
TODAY = date.today()


@dataclass
class Live:
    app: Flask
    headers: dict
    email: str

    def session(self):
        return self.app.extensions["agency_db"].session_factory()

    def call(self, method: str, path: str, body=None):
        response = self.app.test_client().open(path, method=method, json=body, headers=self.headers)
        assert response.status_code < 500, response.get_data(as_text=True)
        return response

    def ok(self, method: str, path: str, body=None) -> dict:
        response = self.call(method, path, body)
        assert response.status_code in (200, 201), response.json
        return response.json


def _admin_database(base_url: str, name: str, drop_only: bool = False) -> str:
    admin = create_engine(make_url(base_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if not drop_only:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def live(base_database_url):
    """An app on a database of its own (every request commits for real, as in production), with
    an admin and their API token."""
    if base_database_url.startswith("sqlite"):
        pytest.fail("these races need PostgreSQL (row locks and concurrent transactions)")
    checkout = hashlib.sha1(str(Path(__file__).resolve().parents[1]).encode()).hexdigest()[:6]
    name = f"agency_race_{checkout}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    url = _admin_database(base_database_url, name)
    command.upgrade(alembic_config(url), "head")
    app = make_app(url)
    database = app.extensions["agency_db"]
    email = "racer@test.example"
    with database.session_scope() as s:
        admin = create_user(db_session=s, email=email, password=PASSWORD, role=Role.admin)
        token, _ = issue_token(db_session=s, user=admin, ttl=timedelta(hours=2))
    yield Live(app, {"Authorization": f"Bearer {token}"}, email)
    database.dispose()
    _admin_database(base_database_url, name, drop_only=True)


def together(*calls):
    """Run each call (a function of no arguments) in its own thread, released at the same
    instant; their results in order. An exception in a thread is raised here."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)
    errors: list = []

    def run(index, call):
        try:
            barrier.wait(timeout=30)
            results[index] = call()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing request never finished"
    if errors:
        raise errors[0]
    return results


def _request(live: Live, method: str, path: str, body=None, client=None):
    def call():
        response = (client or live.app.test_client()).open(path, method=method, json=body, headers=live.headers)
        return response.status_code, response.get_json(silent=True) or response.get_data(as_text=True)

    return call


def _statuses(results) -> list[int]:
    return sorted(status for status, _body in results)


_counter = iter(range(1, 1_000_000))


def _creator(live: Live, **fields) -> dict:
    n = next(_counter)
    body = {"display_name": f"Racer {n}", "country": "FR", "niche": "travel", "languages": ["fr"]} | fields
    return live.ok("POST", "/api/v1/creators", body)


def _brand(live: Live) -> dict:
    return live.ok("POST", "/api/v1/brands", {"name": f"Race brand {next(_counter)}"})


def _deal(live: Live, stage: str = "lead", fee: str = "1000.00", brand_id: int | None = None) -> dict:
    creator = _creator(live)
    deal = live.ok(
        "POST",
        "/api/v1/deals",
        {
            "creator_id": creator["id"],
            "brand_id": brand_id or _brand(live)["id"],
            "title": "Race launch",
            "source": "direct",
            "fee_amount": fee,
            "fee_currency": "EUR",
        },
    )
    for next_stage in ["negotiating", "contracted", "in_progress", "delivered", "invoiced"]:
        if deal["stage"] == stage:
            break
        deal = live.ok("POST", f"/api/v1/deals/{deal['id']}/transitions", {"to_stage": next_stage})
    return deal


# --- the same handle registered twice at once ---------------------------------------------------


def test_two_creators_posted_at_once_with_one_handle_one_is_created_the_other_is_a_409(live):
    for round_ in range(ROUNDS):
        handle = f"samehandle{round_}"
        names = [f"Handle racer {round_} {side}" for side in "ab"]
        results = together(
            *(
                _request(
                    live,
                    "POST",
                    "/api/v1/creators",
                    {
                        "display_name": name,
                        "country": "FR",
                        "niche": "travel",
                        "languages": ["fr"],
                        "accounts": [{"platform": "tiktok", "handle": handle}],
                    },
                )
                for name in names
            )
        )
        assert _statuses(results) == [201, 409], results
        loser = next(body for status, body in results if status == 409)
        assert f"@{handle}" in loser["message"]
        with live.session() as s:
            # The loser's creator was not half-written: one creator, one account.
            created = s.scalars(select(Creator.display_name).where(Creator.display_name.in_(names))).all()
            accounts = s.scalars(select(PlatformAccount.creator_id).where(PlatformAccount.handle == handle)).all()
        assert len(created) == 1 and len(accounts) == 1


def _ui_client(live: Live):
    client = live.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert (
        client.post("/login", data={"email": live.email, "password": PASSWORD, "csrf_token": token}).status_code == 302
    )
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    return client, csrf


def test_one_handle_added_at_once_in_the_ui_to_two_creators_shows_the_loser_the_conflict(live):
    for round_ in range(ROUNDS):
        handle = f"uihandle{round_}"
        creators = [_creator(live) for _ in range(2)]
        clients = [_ui_client(live) for _ in creators]

        def add(client, csrf, creator, handle=handle):
            def call():
                response = client.post(
                    f"/creators/{creator['id']}/accounts",
                    data={"csrf_token": csrf, "platform": "youtube", "handle": handle, "account_type": "personal"},
                )
                return response.status_code, response.get_data(as_text=True)

            return call

        results = together(*(add(client, csrf, creator) for (client, csrf), creator in zip(clients, creators)))
        assert _statuses(results) == [302, 422], [status for status, _ in results]
        page = next(body for status, body in results if status == 422)
        assert f"@{handle}" in page and "already" in page
        with live.session() as s:
            assert s.scalar(select(func.count()).where(PlatformAccount.handle == handle)) == 1


# --- two edits made on the same version ---------------------------------------------------------


def _race_two_edits(live: Live, path: str, version: int, field: str, values: tuple, read_back):
    results = together(*(_request(live, "PATCH", path, {field: value, "version": version}) for value in values))
    assert _statuses(results) == [200, 409], results
    winner = next(body for status, body in results if status == 200)
    loser = next(body for status, body in results if status == 409)
    assert "changed by someone else" in loser["message"] and "eload" in loser["message"]
    assert winner["version"] == version + 1
    assert read_back() == winner[field]


def test_two_edits_of_a_creator_made_on_one_version_the_first_wins_the_other_is_a_409(live):
    for round_ in range(ROUNDS):
        creator = _creator(live)
        path = f"/api/v1/creators/{creator['id']}"
        _race_two_edits(
            live, path, creator["version"], "display_name", (f"Left {round_}", f"Right {round_}"),
            lambda path=path: live.ok("GET", path)["display_name"],
        )  # fmt: skip


def test_two_edits_of_a_deal_made_on_one_version_the_first_wins_the_other_is_a_409(live):
    for round_ in range(ROUNDS):
        deal = _deal(live)
        path = f"/api/v1/deals/{deal['id']}"
        _race_two_edits(
            live, path, deal["version"], "title", (f"Left {round_}", f"Right {round_}"),
            lambda path=path: live.ok("GET", path)["title"],
        )  # fmt: skip


def test_two_edits_of_a_brand_made_on_one_version_the_first_wins_the_other_is_a_409(live):
    for round_ in range(ROUNDS):
        brand = _brand(live)
        path = f"/api/v1/brands/{brand['id']}"
        _race_two_edits(
            live, path, brand["version"], "name", (f"Left brand {round_}", f"Right brand {round_}"),
            lambda path=path: live.ok("GET", path)["name"],
        )  # fmt: skip


def test_two_edits_of_a_revenue_record_made_on_one_version_the_first_wins_the_other_is_a_409(live):
    creator = _creator(live)
    for round_ in range(ROUNDS):
        record = live.ok(
            "POST",
            "/api/v1/revenue",
            {"creator_id": creator["id"], "date": TODAY.isoformat(), "source": "merch", "amount": "10.00",
             "currency": "EUR"},
        )  # fmt: skip
        path = f"/api/v1/revenue/{record['id']}"
        _race_two_edits(
            live, path, record["version"], "notes", (f"left {round_}", f"right {round_}"),
            lambda path=path: live.ok("GET", path)["notes"],
        )  # fmt: skip


# --- the same external reference at once --------------------------------------------------------


def test_one_external_reference_posted_twice_at_once_is_recorded_once(live):
    creator = _creator(live)
    for round_ in range(ROUNDS):
        ref = f"ORDER-{round_}"
        body = {
            "creator_id": creator["id"],
            "date": TODAY.isoformat(),
            "source": "merch",
            "amount": "25.00",
            "currency": "EUR",
            "external_ref": ref,
        }
        results = together(*(_request(live, "POST", "/api/v1/revenue", body) for _ in range(2)))
        assert _statuses(results) == [201, 409], results
        loser = next(body for status, body in results if status == 409)
        assert "external_ref" in loser["message"] and loser["errors"]["external_ref"]
        with live.session() as s:
            assert s.scalar(select(func.count()).where(RevenueRecord.external_ref == ref)) == 1


def test_two_payment_records_of_one_deal_posted_at_once_count_the_deal_once(live):
    for round_ in range(ROUNDS):
        deal = _deal(live, stage="delivered")
        bodies = [
            {
                "creator_id": deal["creator_id"],
                "date": TODAY.isoformat(),
                "source": "brand_deal",
                "amount": "1000.00",
                "currency": "EUR",
                "deal_id": deal["id"],
                "external_ref": f"deal-payment-{round_}-{side}",
            }
            for side in "ab"
        ]
        results = together(*(_request(live, "POST", "/api/v1/revenue", body) for body in bodies))
        assert _statuses(results) == [201, 409], results
        with live.session() as s:
            assert s.scalar(select(func.count()).where(RevenueRecord.deal_id == deal["id"])) == 1


def test_a_deal_paid_by_an_import_and_by_hand_at_once_is_counted_once(live):
    for round_ in range(ROUNDS):
        deal = _deal(live, stage="delivered")
        row = f"{deal['creator_id']},{TODAY.isoformat()},brand_deal,,1000.00,EUR,import-{round_},{deal['id']}\n"
        csv_body = "creator_id,date,source,platform,amount,currency,external_ref,deal_id\n" + row
        by_hand = {
            "creator_id": deal["creator_id"],
            "date": TODAY.isoformat(),
            "source": "brand_deal",
            "amount": "1000.00",
            "currency": "EUR",
            "deal_id": deal["id"],
            "external_ref": f"by-hand-{round_}",
        }

        def imported(csv_body=csv_body):
            response = live.app.test_client().post(
                "/api/v1/revenue/import", data=csv_body, content_type="text/csv", headers=live.headers
            )
            return response.status_code, response.get_json()

        results = together(imported, _request(live, "POST", "/api/v1/revenue", by_hand))
        assert all(status in (200, 201, 409, 422) for status, _ in results), results
        with live.session() as s:
            assert s.scalar(select(func.count()).where(RevenueRecord.deal_id == deal["id"])) == 1


def test_one_bank_reference_posted_twice_at_once_is_recorded_once(live):
    brand = _brand(live)
    for round_ in range(ROUNDS):
        ref = f"BANK-RACE-{round_}"
        body = {
            "brand_id": brand["id"],
            "received_on": TODAY.isoformat(),
            "amount": "50.00",
            "currency": "EUR",
            "bank_reference": ref,
        }
        results = together(*(_request(live, "POST", "/api/v1/payments", body) for _ in range(2)))
        assert _statuses(results) == [201, 409], results
        loser = next(body for status, body in results if status == 409)
        assert "bank reference" in loser["message"]
        with live.session() as s:
            assert s.scalar(select(func.count()).where(Payment.bank_reference == ref)) == 1


# --- a deal's stage and its money at once -------------------------------------------------------


def test_two_requests_moving_one_deal_to_paid_at_once_record_its_revenue_once(live):
    for _ in range(ROUNDS):
        deal = _deal(live, stage="invoiced")
        path = f"/api/v1/deals/{deal['id']}/transitions"
        results = together(*(_request(live, "POST", path, {"to_stage": "paid"}) for _ in range(2)))
        assert _statuses(results) == [200, 409], results
        with live.session() as s:
            assert s.scalar(select(func.count()).where(RevenueRecord.deal_id == deal["id"])) == 1
            assert s.scalar(select(func.count()).where(DealTransition.deal_id == deal["id"])) == 6
            assert s.get(Deal, deal["id"]).stage.value == "paid"


def test_two_requests_invoicing_one_deal_at_once_issue_one_invoice(live):
    for _ in range(ROUNDS):
        deal = _deal(live, stage="delivered")
        path = f"/api/v1/deals/{deal['id']}/transitions"
        results = together(*(_request(live, "POST", path, {"to_stage": "invoiced"}) for _ in range(2)))
        assert _statuses(results) == [200, 409], results
        with live.session() as s:
            assert s.scalar(select(func.count()).where(Invoice.deal_id == deal["id"])) == 1


def _invoice_of(live: Live, deal: dict) -> dict:
    invoices = live.ok("GET", f"/api/v1/invoices?deal_id={deal['id']}")
    assert len(invoices) == 1
    return invoices[0]


def test_two_payments_of_one_invoice_at_once_pay_it_once_and_never_lose_money(live):
    for round_ in range(ROUNDS):
        deal = _deal(live, stage="invoiced")
        invoice = _invoice_of(live, deal)
        bodies = [
            {
                "brand_id": deal["brand_id"],
                "received_on": TODAY.isoformat(),
                "amount": "1000.00",
                "currency": "EUR",
                "bank_reference": f"FULL-{round_}-{side}",
                "allocations": [{"invoice_id": invoice["id"], "amount": "1000.00"}],
            }
            for side in "ab"
        ]
        results = together(*(_request(live, "POST", "/api/v1/payments", body) for body in bodies))
        assert sorted(status for status, _ in results)[0] == 201, results
        assert all(status in (201, 409, 422) for status, _ in results), results
        with live.session() as s:
            stored = s.get(Invoice, invoice["id"])
            assert stored.amount_paid == Decimal("1000.00") and stored.status.value == "paid"
            allocated = s.scalar(
                select(func.sum(PaymentAllocation.amount)).where(PaymentAllocation.invoice_id == invoice["id"])
            )
            assert allocated == Decimal("1000.00")
            assert s.scalar(select(func.count()).where(RevenueRecord.deal_id == deal["id"])) == 1
            assert s.get(Deal, deal["id"]).stage.value == "paid"


def test_one_payment_allocated_twice_at_once_never_allocates_more_than_it_is_worth(live):
    for round_ in range(ROUNDS):
        brand_id = _brand(live)["id"]
        invoices = [_invoice_of(live, _deal(live, "invoiced", "600.00", brand_id)) for _ in range(2)]
        payment = live.ok(
            "POST",
            "/api/v1/payments",
            {"brand_id": brand_id, "received_on": TODAY.isoformat(), "amount": "1000.00", "currency": "EUR",
             "bank_reference": f"SPLIT-{round_}"},
        )  # fmt: skip
        path = f"/api/v1/payments/{payment['id']}/allocations"
        results = together(
            *(
                _request(live, "POST", path, {"allocations": [{"invoice_id": invoice["id"], "amount": "600.00"}]})
                for invoice in invoices
            )
        )
        assert _statuses(results) in ([200, 409], [200, 422]), results
        with live.session() as s:
            stored = s.get(Payment, payment["id"])
            allocated = s.scalar(
                select(func.sum(PaymentAllocation.payment_amount)).where(PaymentAllocation.payment_id == payment["id"])
            )
            assert allocated == Decimal("600.00") and stored.amount_allocated == allocated


# --- a transaction that fails when it commits ---------------------------------------------------


def test_a_write_refused_when_it_commits_is_a_409_and_is_logged_with_its_user(live):
    """A constraint checked at commit (a deferred one) refuses the write after the view returned:
    the answer is a 409, nothing is written, and the access line says 409 and who asked."""
    with live.session() as s:
        s.execute(
            text(
                "CREATE FUNCTION refuse_at_commit() RETURNS trigger AS $$ BEGIN "
                "IF NEW.name LIKE 'Refused%' THEN RAISE EXCEPTION 'refused at commit' "
                "USING ERRCODE = 'unique_violation'; END IF; RETURN NULL; END $$ LANGUAGE plpgsql"
            )
        )
        s.execute(
            text(
                "CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT ON brands DEFERRABLE INITIALLY DEFERRED "
                "FOR EACH ROW EXECUTE FUNCTION refuse_at_commit()"
            )
        )
        s.commit()
    stream = io.StringIO()
    configure_logging("INFO", json=True, stream=stream)
    try:
        response = live.app.test_client().post("/api/v1/brands", json={"name": "Refused brand"}, headers=live.headers)
    finally:
        configure_logging("WARNING", json=False)
        with live.session() as s:
            s.execute(text("DROP TRIGGER refuse_at_commit ON brands"))
            s.execute(text("DROP FUNCTION refuse_at_commit()"))
            s.commit()
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.json["message"].startswith("The change conflicts")
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip().startswith("{")]
    access = [entry for entry in lines if entry.get("event") == "request" and entry.get("path") == "/api/v1/brands"]
    assert access and access[-1]["status"] == 409 and access[-1]["user_id"] is not None
    assert live.ok("GET", "/api/v1/brands?q=Refused") == []
