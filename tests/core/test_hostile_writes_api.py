"""Hostile values in every write a user can make, the imports and the UI forms included: huge or
malformed numbers, ids beyond the integer range, NUL bytes, Unicode digits, nested structures.
Each is refused (422, or a row error) or stored as given; never a server error."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import PASSWORD

HOSTILE = [
    "9" * 40,
    "-" + "9" * 40,
    "99999999999999999999",
    "2147483648",
    "9223372036854775808",
    "1e309",
    "1E+400",
    "NaN",
    "Infinity",
    "-0",
    "0x10",
    "1_000",
    "١٢٣",  # Arabic-Indic digits
    "１２３",  # full-width digits
    "²",
    "a\x00b",
    "\x00",
    "12\x00",
    "9999-12-31",
    "0001-01-01",
    "10000-01-01",
    "2026-02-30",
    "",
    " ",
    "x" * 5000,
    "=1+1",
    "[]",
    "{}",
    "true",
]
hostile = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
PROPERTY = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
REVENUE = [
    "creator_id",
    "date",
    "source",
    "platform",
    "amount",
    "currency",
    "external_ref",
    "deal_id",
    "refund",
    "notes",
]
METRICS = ["account_id", "day", "followers", "views", "likes", "watch_hours", "live_hours"]


@pytest.fixture()
def writer(client, manager, make_creator, auth_for):
    creator = make_creator(manager=manager)
    return client, auth_for(manager), creator


def _csv_cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@PROPERTY
@given(field=st.sampled_from(REVENUE), value=hostile)
def test_revenue_import_rows(writer, field, value):
    client, headers, creator = writer
    row = {"creator_id": str(creator.id), "date": "2026-01-03", "source": "merch", "amount": "5.00", "currency": "EUR"}
    row[field] = value
    names = list(row)
    body = ",".join(names) + "\n" + ",".join(_csv_cell(row[n]) for n in names) + "\n"
    response = client.post("/api/v1/revenue/import", data=body, content_type="text/csv", headers=headers)
    assert response.status_code in (200, 422), (field, value, response.status_code)


JSON_VALUES = st.one_of(
    st.sampled_from([1e308, -1e308, 2**70, -(2**70), True, False, 1.5, [], {}, [1, [2]], {"a": {"b": 1}}, None]),
    st.integers(),
    st.floats(allow_nan=False),
    hostile,
)


@PROPERTY
@given(field=st.sampled_from(REVENUE + METRICS), value=JSON_VALUES)
def test_json_lines_imports(writer, field, value):
    client, headers, creator = writer
    revenue = {"creator_id": creator.id, "date": "2026-01-03", "source": "merch", "amount": "5.00", "currency": "EUR"}
    metrics = {"account_id": creator.accounts[0].id, "day": "2026-01-03", "followers": 10}
    for path, row, allowed in (
        ("/api/v1/revenue/import", revenue, REVENUE),
        ("/api/v1/metrics/import", metrics, METRICS),
    ):
        if field not in allowed:
            continue
        body = json.dumps(row | {field: value}) + "\n"
        response = client.post(path, data=body, content_type="application/x-ndjson", headers=headers)
        assert response.status_code in (200, 422), (path, field, value, response.status_code)


@PROPERTY
@given(field=st.sampled_from(METRICS), value=hostile)
def test_metrics_import_rows(writer, field, value):
    client, headers, creator = writer
    row = {"account_id": str(creator.accounts[0].id), "day": "2026-01-03", "followers": "10"}
    row[field] = value
    names = list(row)
    body = ",".join(names) + "\n" + ",".join(_csv_cell(row[n]) for n in names) + "\n"
    response = client.post("/api/v1/metrics/import", data=body, content_type="text/csv", headers=headers)
    assert response.status_code in (200, 422), (field, value, response.status_code)


@pytest.fixture()
def ui(client, manager, make_creator):
    creator = make_creator(manager=manager)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"email": manager.email, "password": PASSWORD, "csrf_token": token})
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    return client, csrf, creator


def _forms(creator):
    account = creator.accounts[0]
    return {
        "/revenue/new": {
            "creator_id": str(creator.id),
            "date": "2026-01-03",
            "source": "merch",
            "amount": "5.00",
            "currency": "EUR",
        },
        "/creators/new": {"display_name": "New", "country": "FR", "niche": "travel", "languages": "fr"},
        "/brands/new": {"name": "Brand"},
        "/deals/new": {
            "creator_id": str(creator.id),
            "brand_id": "1",
            "title": "Deal",
            "fee_amount": "100.00",
            "fee_currency": "EUR",
        },
        f"/accounts/{account.id}/metrics/day": {"day": "2026-01-03", "followers": "10", "views": "5"},
        f"/creators/{creator.id}/accounts": {"platform": "youtube", "handle": "someone"},
        f"/creators/{creator.id}/strikes": {"platform": "tiktok", "issued_on": "2026-01-03", "reason": "x"},
    }


@PROPERTY
@given(which=st.integers(min_value=0, max_value=6), field_index=st.integers(min_value=0, max_value=5), value=hostile)
def test_ui_forms(ui, which, field_index, value):
    client, csrf, creator = ui
    path, form = list(_forms(creator).items())[which]
    field = list(form)[field_index % len(form)]
    response = client.post(path, data=form | {field: value, "csrf_token": csrf})
    assert response.status_code < 500, (path, field, value, response.status_code)
