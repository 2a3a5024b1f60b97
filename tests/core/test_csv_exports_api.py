"""Every CSV the product writes is safe to open in a spreadsheet: text that starts like a formula
(=, +, -, @, tab, carriage return) is written with a leading apostrophe; numbers, negative ones
included, stay numbers."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

from agency.core.http import safe_cell
from agency.money.diversification import MixSettings, recompute_diversification
from agency.programmes.eligibility import recompute_eligibility
from tests.factories import PASSWORD

NAME = '=HYPERLINK("http://evil.example","open")'
LEGAL = "+1+cmd|' /C calc'!A0"


def _cells(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _no_formula(rows) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or re.fullmatch(r"-\d+(\.\d+)?", cell), cell


def test_the_helper_neutralises_formula_starts_and_keeps_numbers():
    for text in ("=1+1", "+1", "-1+1", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(text) == "'" + text
    assert safe_cell("-5.00") == "-5.00" and safe_cell("12") == "12" and safe_cell("plain") == "plain"
    assert safe_cell(None) == "" and safe_cell(7) == 7


def _creator(make_creator, manager):
    return make_creator(manager=manager, display_name=NAME, legal_name=LEGAL, date_of_birth=date(1990, 1, 1))


def test_roster_export(client, manager, make_creator):
    _creator(make_creator, manager)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": token})
    rows = _cells(client.get("/creators?format=csv"))
    assert "'" + NAME in rows[1] and "'" + LEGAL in rows[1]
    _no_formula(rows)


def test_statement_export_keeps_refunds_as_numbers(client, manager, make_creator, auth_for):
    creator = _creator(make_creator, manager)
    body = (
        "creator_id,date,source,platform,amount,currency,external_ref,refund\n"
        f"{creator.id},2026-01-03,affiliate,instagram,42.10,EUR,@SUM(A1:A9),false\n"
        f"{creator.id},2026-01-04,affiliate,instagram,-5.00,EUR,=cmd,true\n"
    )
    imported = client.post("/api/v1/revenue/import", data=body, content_type="text/csv", headers=auth_for(manager))
    assert imported.status_code == 200, imported.json
    rows = _cells(client.get(f"/api/v1/creators/{creator.id}/statements/2026-01?format=csv", headers=auth_for(manager)))
    cells = {cell for row in rows for cell in row}
    assert {"'@SUM(A1:A9)", "'=cmd", "-5.00", "42.10"} <= cells
    _no_formula(rows)


def test_diversification_export(app, client, session, manager, make_creator, auth_for):
    creator = _creator(make_creator, manager)
    header = "creator_id,date,source,platform,amount,currency,external_ref\n"
    body = header + f"{creator.id},{date.today()},merch,,10.00,EUR,a\n"
    client.post("/api/v1/revenue/import", data=body, content_type="text/csv", headers=auth_for(manager))
    recompute_diversification(db_session=session, settings=MixSettings.from_config(app.config["AGENCY"]))
    session.commit()
    rows = _cells(client.get("/api/v1/diversification?format=csv", headers=auth_for(manager)))
    assert "'" + NAME in rows[1]
    _no_formula(rows)


def test_eligibility_export(client, session, manager, make_creator, auth_for, make_program):
    _creator(make_creator, manager)
    make_program("test_fund", "Test Fund", [{"kind": "age", "min": 18}])
    recompute_eligibility(db_session=session)
    session.commit()
    rows = _cells(client.get("/api/v1/eligibility?format=csv", headers=auth_for(manager)))
    assert "'" + NAME in rows[1]
    _no_formula(rows)
