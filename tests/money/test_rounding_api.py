"""Money is rounded half-up to the currency's minor unit (Babel's CLDR data: JPY 0, EUR 2, BHD and
KWD 3) wherever a rounding happens: conversions, commissions, statements, income-mix totals."""

from datetime import date, timedelta
from decimal import Decimal

from agency.alerts.service import AlertSettings, evaluate_alerts
from agency.currencies.models import FxRate
from agency.currencies.service import minor_unit, round_money
from agency.deals.models import Brand, Deal

HEADER = "creator_id,date,source,platform,amount,currency,external_ref\n"


def _import(client, headers, body):
    return client.post("/api/v1/revenue/import?mode=all", data=body, content_type="text/csv", headers=headers)


def test_the_minor_units_come_from_the_currency_data():
    assert [minor_unit(c) for c in ("JPY", "EUR", "USD", "BHD", "KWD")] == [0, 2, 2, 3, 3]
    assert round_money(Decimal("0.125"), "EUR") == Decimal("0.13")  # half-up, not half-even (0.12)
    assert round_money(Decimal("2.5"), "JPY") == Decimal("3")
    assert round_money(Decimal("1.0005"), "BHD") == Decimal("1.001")


def test_amounts_carry_their_currencys_decimals(client, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    headers = auth_for(manager)
    body = {"creator_id": creator.id, "date": "2026-01-05", "source": "merch", "currency": "BHD", "amount": "12.345"}
    bhd = client.post("/api/v1/revenue", json=body, headers=headers)
    assert bhd.status_code == 201 and bhd.json["amount"] == "12.345"
    yen = client.post("/api/v1/revenue", json=body | {"currency": "JPY", "amount": "1000.5"}, headers=headers)
    assert yen.status_code == 422 and "at most 0 decimals in JPY" in yen.json["errors"]["amount"][0]
    whole_yen = client.post("/api/v1/revenue", json=body | {"currency": "JPY", "amount": "1000"}, headers=headers)
    assert whole_yen.status_code == 201 and whole_yen.json["amount"] == "1000"
    euro = client.post("/api/v1/revenue", json=body | {"currency": "EUR", "amount": "1.005"}, headers=headers)
    assert euro.status_code == 422
    imported = _import(
        client,
        headers,
        HEADER + f"{creator.id},2026-01-06,merch,,7.125,KWD,k1\n{creator.id},2026-01-06,merch,,7.5,JPY,j1\n",
    )
    assert imported.status_code == 422
    assert [(e["line"], e["field"]) for e in imported.json["errors"]["rows"]] == [(3, "amount")]
    brand = client.post("/api/v1/brands", json={"name": "Gulf"}, headers=headers).json
    deal = {"creator_id": creator.id, "brand_id": brand["id"], "title": "Gulf", "source": "direct"}
    kwd = client.post("/api/v1/deals", json=deal | {"fee_amount": "100.125", "fee_currency": "KWD"}, headers=headers)
    assert kwd.status_code == 201 and kwd.json["fee_amount"] == "100.125"
    eur = client.post("/api/v1/deals", json=deal | {"fee_amount": "100.125", "fee_currency": "EUR"}, headers=headers)
    assert eur.status_code == 422 and "fee_amount" in eur.json["errors"]


def test_statements_round_half_up_once_per_line(app, client, session, manager, make_creator, auth_for, monkeypatch):
    monkeypatch.setattr(app.config["AGENCY"], "default_commission_percent", "12.50")
    creator = make_creator(manager=manager)
    session.add(FxRate(day=date(2026, 1, 1), base="USD", quote="EUR", rate=Decimal("0.90")))
    session.commit()
    headers = auth_for(manager)
    body = HEADER + (
        f"{creator.id},2026-01-10,merch,,0.20,EUR,a\n"  # commission 0.025 -> 0.03 (half-even would say 0.02)
        f"{creator.id},2026-01-11,merch,,0.05,USD,b\n"  # 0.045 EUR -> 0.05 (half-even would say 0.04)
    )
    assert _import(client, headers, body).status_code == 200
    statement = client.get(f"/api/v1/creators/{creator.id}/statements/2026-01", headers=headers).json
    lines = [(line["amount_base"], line["commission"], line["net"]) for line in statement["lines"]]
    assert lines == [("0.20", "0.03", "0.17"), ("0.05", "0.01", "0.04")]
    assert statement["total"] == "0.25" and statement["commission"] == "0.04" and statement["net"] == "0.21"


def test_a_yen_agency_sees_whole_yen_everywhere(app, client, session, manager, make_creator, auth_for, monkeypatch):
    monkeypatch.setattr(app.config["AGENCY"], "base_currency", "JPY")
    creator = make_creator(manager=manager)
    day = date.today() - timedelta(days=3)
    session.add(FxRate(day=day - timedelta(days=30), base="EUR", quote="JPY", rate=Decimal("160.5")))
    session.commit()
    headers = auth_for(manager)
    body = HEADER + f"{creator.id},{day},affiliate,instagram,10.01,EUR,y1\n"  # 1606.605 JPY -> 1607
    imported = _import(client, headers, body)
    assert imported.status_code == 200, imported.json
    statement = client.get(f"/api/v1/creators/{creator.id}/statements/{day:%Y-%m}", headers=headers).json
    assert statement["currency"] == "JPY" and statement["total"] == "1607"
    assert statement["commission"] == "321" and statement["net"] == "1286"  # 20 % of 1607 = 321.4
    assert statement["lines"][0]["amount"] == "10.01"
    mix = client.get(f"/api/v1/creators/{creator.id}/diversification", headers=headers).json
    assert mix["currency"] == "JPY" and mix["total"] == "1607"
    assert mix["by_source"]["affiliate"]["amount"] == "1607"
    brand = client.post("/api/v1/brands", json={"name": "Yen brand"}, headers=headers).json
    deal = {"creator_id": creator.id, "brand_id": brand["id"], "title": "Yen", "source": "direct"}
    assert client.post("/api/v1/deals", json=deal | {"fee_amount": "10.01", "fee_currency": "EUR"}, headers=headers)
    pipeline = client.get("/api/v1/deals/pipeline", headers=headers).json
    assert pipeline["currency"] == "JPY"
    assert next(s for s in pipeline["stages"] if s["stage"] == "lead")["value"] == "1607"


def test_unpaid_invoice_alerts_and_the_pipeline_show_each_currencys_decimals(
    client, session, manager, make_creator, auth_for
):
    creator = make_creator(manager=manager)
    brand = Brand(name="Invoices abroad")
    session.add(brand)
    session.flush()
    for fee, currency in (("100.125", "KWD"), ("150000", "JPY")):
        session.add(
            Deal(
                creator_id=creator.id,
                brand_id=brand.id,
                title=f"Unpaid in {currency}",
                source="direct",
                fee_amount=fee,
                fee_currency=currency,
                commission_percent="20.00",
                stage="invoiced",
                invoiced_on=date.today() - timedelta(days=45),
            )
        )
    session.commit()
    evaluate_alerts(db_session=session, settings=AlertSettings(today=date.today()))
    session.commit()
    headers = auth_for(manager)
    alerts = client.get(f"/api/v1/alerts?creator_id={creator.id}", headers=headers).json
    messages = " ".join(a["message"] for a in alerts if a["kind"] == "invoice_overdue")
    assert "(100.125 KWD)" in messages and "(150000 JPY)" in messages
