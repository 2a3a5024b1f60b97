import json
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from agency.currencies.models import FxRate
from agency.money.models import RevenueRecord
from agency.money.statements import build_statement
from agency.roster.models import Creator

HEADER = "creator_id,date,source,platform,amount,currency,external_ref\n"


def _import(client, headers, body, mode="all"):
    return client.post(f"/api/v1/revenue/import?mode={mode}", data=body, content_type="text/csv", headers=headers)


def test_revenue_import_is_idempotent_and_reports_bad_rows(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    good = (
        HEADER
        + f"{creator.id},2026-01-03,affiliate,instagram,42.10,eur,amz-1\n"
        + f"{creator.id},2026-01-04,merch,,19.99,USD,shop-1\n"
    )
    first = _import(client, headers, good)
    assert first.status_code == 200, first.json
    assert first.json["inserted"] == 2
    second = _import(client, headers, good)
    assert second.json["inserted"] == 0 and second.json["unchanged"] == 2
    assert session.scalar(select(func.count(RevenueRecord.id))) == 2
    bad = HEADER + (
        f"{creator.id},2026-01-05,affiliate,instagram,-5.00,EUR,r1\n"  # negative, no refund
        f"{creator.id},2026-01-05,tips,,5.00,EUR,r2\n"  # unknown source
        f"{creator.id},2026-01-05,merch,,5.001,EUR,r3\n"  # 3 decimals
        f"{creator.id},2026-01-05,merch,,5.00,XYZ,r4\n"  # unknown currency
        f"999999,2026-01-05,merch,,5.00,EUR,r5\n"  # unknown creator
        f"{creator.id},2026-01-05,merch,,5.00,EUR,r6\n"
        f"{creator.id},2026-01-06,merch,,6.00,EUR,r6\n"
    )  # duplicate ref in file
    rejected = _import(client, headers, bad)
    assert rejected.status_code == 422
    assert {(e["line"], e["field"]) for e in rejected.json["errors"]["rows"]} == {
        (2, "amount"),
        (3, "source"),
        (4, "amount"),
        (5, "currency"),
        (6, "creator_id"),
        (8, "external_ref"),
    }
    assert session.scalar(select(func.count(RevenueRecord.id))) == 2
    partial = _import(client, headers, bad, mode="partial")
    assert partial.status_code == 200 and partial.json["inserted"] == 1


def test_refunds_must_be_explicit(client, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    body = {"creator_id": creator.id, "date": "2026-01-05", "source": "merch", "amount": "-12.00", "currency": "EUR"}
    assert client.post("/api/v1/revenue", json=body, headers=headers).status_code == 422
    refund = client.post("/api/v1/revenue", json=body | {"refund": True}, headers=headers)
    assert refund.status_code == 201 and refund.json["amount"] == "-12.00"


def test_statement_converts_with_dated_rates_and_flags_missing_ones(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    session.add_all(
        [
            FxRate(day=date(2026, 1, 1), base="USD", quote="EUR", rate=Decimal("0.90")),
            FxRate(day=date(2026, 1, 15), base="USD", quote="EUR", rate=Decimal("0.80")),
        ]
    )
    session.commit()
    headers = auth_for(manager)
    body = HEADER + (
        f"{creator.id},2026-01-10,affiliate,instagram,100.00,USD,a\n"  # 90.00 EUR
        f"{creator.id},2026-01-20,affiliate,instagram,100.00,USD,b\n"  # 80.00 EUR
        f"{creator.id},2026-01-21,merch,,50.00,EUR,c\n"
        f"{creator.id},2026-01-22,merch,,1000,JPY,d\n"
    )  # no JPY rate
    assert _import(client, headers, body).status_code == 200
    statement = client.get(f"/api/v1/creators/{creator.id}/statements/2026-01", headers=headers).json
    assert statement["total"] == "220.00"
    assert statement["by_source"]["affiliate"]["amount"] == "170.00"
    assert statement["commission"] == "44.00" and statement["net"] == "176.00"
    assert statement["by_original_currency"] == {"EUR": "50.00", "JPY": "1000", "USD": "200.00"}
    assert len(statement["unconverted_record_ids"]) == 1
    csv = client.get(f"/api/v1/creators/{creator.id}/statements/2026-01?format=csv", headers=headers)
    assert csv.mimetype == "text/csv" and "NO RATE" in csv.get_data(as_text=True)
    html = client.get(f"/api/v1/creators/{creator.id}/statements/2026-01?format=html", headers=headers)
    assert html.mimetype == "text/html" and "220.00" in html.get_data(as_text=True)
    assert client.get(f"/api/v1/creators/{creator.id}/statements/2026-13", headers=headers).status_code == 404


def test_diversification_levels_and_suggestions(client, session, manager, make_creator, auth_for):
    tiktok_only = make_creator(manager=manager, niche="cooking")
    balanced = make_creator(manager=manager, niche="fashion")
    nothing = make_creator(manager=manager)
    today = date.today()
    rows = [f"{tiktok_only.id},{today - timedelta(days=d)},creator_rewards,tiktok,100.00,EUR,t{d}" for d in range(1, 8)]
    for n, (source, platform) in enumerate(
        [
            ("creator_rewards", "tiktok"),
            ("affiliate", "instagram"),
            ("platform_ads", "youtube"),
            ("merch", ""),
            ("courses", ""),
        ]
    ):
        rows.append(f"{balanced.id},{today - timedelta(days=3)},{source},{platform},100.00,EUR,b{n}")
    headers = auth_for(manager)
    imported = _import(client, headers, HEADER + "\n".join(rows) + "\n")
    assert imported.status_code == 200
    assert imported.json["diversification"]["written"] == 2  # the import refreshed the two creators it touched
    high = client.get(f"/api/v1/creators/{tiktok_only.id}/diversification", headers=headers).json
    assert high["risk_level"] == "high" and high["hhi"] == "1.0000" and high["tiktok_share"] == "1.0000"
    assert "course" in high["suggestion"].lower()
    low = client.get(f"/api/v1/creators/{balanced.id}/diversification", headers=headers).json
    assert low["hhi"] == "0.2000" and low["risk_level"] == "low" and low["total"] == "500.00"
    assert client.get(f"/api/v1/creators/{nothing.id}/diversification", headers=headers).json["risk_level"] == "no_data"
    first = client.post("/api/v1/diversification/recompute", json={}, headers=headers).json
    assert first["written"] == 1 and first["risk_counts"]["no_data"] == 1
    assert client.post("/api/v1/diversification/recompute", json={}, headers=headers).json["written"] == 0
    roster = client.get("/api/v1/diversification?risk=high", headers=headers).json
    assert [r["creator_id"] for r in roster] == [tiktok_only.id]
    export = client.get("/api/v1/diversification?format=csv&page_size=1&page=2", headers=headers)
    csv = export.get_data(as_text=True)
    assert csv.splitlines()[0].startswith("creator_id,creator,as_of")
    total = json.loads(export.headers["X-Pagination"])["total"]
    assert total == len(csv.splitlines()) - 1 >= 2  # every row, not page 2 of size 1


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    records=st.lists(
        st.tuples(
            st.integers(1, 28),
            st.sampled_from(["EUR", "USD", "GBP"]),
            st.decimals(Decimal("0.01"), Decimal("99999.99"), places=2),
            st.sampled_from(["affiliate", "merch", "live_gifts"]),
        ),
        min_size=1,
        max_size=25,
    ),
    usd=st.decimals(Decimal("0.5"), Decimal("1.5"), places=6),
    gbp=st.decimals(Decimal("0.8"), Decimal("1.4"), places=6),
)
def test_statement_totals_reconcile_to_the_cent(session, records, usd, gbp):
    nested = session.begin_nested()
    try:
        creator = Creator(display_name="Reconciled", country="FR", niche="other")
        session.add(creator)
        session.flush()
        session.add_all(
            [
                FxRate(day=date(2025, 12, 1), base="USD", quote="EUR", rate=usd),
                FxRate(day=date(2025, 12, 1), base="EUR", quote="GBP", rate=gbp),
            ]
        )  # inverse pair
        for n, (day, currency, amount, source) in enumerate(records):
            session.add(
                RevenueRecord(
                    creator_id=creator.id,
                    earned_on=date(2026, 2, day),
                    source=source,
                    amount=amount,
                    currency=currency,
                    external_ref=f"h{n}",
                )
            )
        session.flush()
        statement = build_statement(
            db_session=session,
            creator=creator,
            month="2026-02",
            base_currency="EUR",
            default_commission=Decimal("20.00"),
        )
        expected = Decimal("0.00")
        for _day, currency, amount, _source in records:
            rate = {"EUR": Decimal(1), "USD": usd, "GBP": Decimal(1) / gbp}[currency]
            expected += (amount * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert statement.total_base == expected
        assert sum((v["amount_base"] for v in statement.by_source.values()), Decimal(0)) == statement.total_base
        assert statement.commission_base + statement.net_base == statement.total_base
        assert all(line.commission_base + line.net_base == line.amount_base for line in statement.lines)
    finally:
        nested.rollback()


def test_rows_without_a_reference_are_never_imported_twice(client, session, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    body = (
        "creator_id,date,source,platform,amount,currency\n"
        f"{creator.id},2026-01-03,affiliate,instagram,42.10,EUR\n"
        f"{creator.id},2026-01-04,merch,,5.00,EUR\n"
        f"{creator.id},2026-01-04,merch,,5.00,EUR\n"  # the same again: a second sale that day
    )
    first = _import(client, headers, body)
    assert first.status_code == 200, first.json
    assert first.json["inserted"] == 3
    again = _import(client, headers, body.replace("42.10", "42.1"))  # the same amount, written otherwise
    assert again.json["inserted"] == 0 and again.json["unchanged"] == 3
    assert session.scalar(select(func.count(RevenueRecord.id))) == 3
    more = _import(client, headers, body + f"{creator.id},2026-01-04,merch,,5.00,EUR\n")  # a third sale
    assert more.json["inserted"] == 1 and more.json["unchanged"] == 3
