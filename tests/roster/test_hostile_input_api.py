"""Hostile strings in every roster filter never cause a server error and never widen a match;
the password policy refuses weak passwords at every entry point."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agency.core.errors import InvalidInput
from agency.core.users.service import check_password_policy

ATTACKS = [
    "' OR '1'='1",
    "1; DROP TABLE creators; --",
    '" OR 1=1 --',
    "%",
    "_",
    "%%",
    "\\",
    "\\%",
    "' UNION SELECT * FROM users --",
    "../../etc/passwd",
    "..%2F..%2Fetc%2Fpasswd",
    "/etc/passwd\x00",
    "..\\..\\windows\\win.ini",
    "*",
    "@",
    "1) OR (1=1",
]
hostile = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(max_size=40).filter(lambda s: "\x00" not in s),
    st.builds(lambda a, b: a + b, st.sampled_from(ATTACKS), st.text(max_size=10)),
)
FILTERS = [
    "q",
    "status",
    "niche",
    "country",
    "manager_id",
    "sort",
    "mine",
    "unassigned",
    "include_archived",
    "page",
    "page_size",
]
PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture()
def roster(client, admin, manager, auth_for, make_creator):
    make_creator(manager=manager, display_name="Alice Cook")
    make_creator(display_name="Bob Travel", niche="travel")
    return client, auth_for(admin)


@PROPERTY
@given(name=st.sampled_from(FILTERS), value=hostile)
def test_hostile_filter_values_are_refused_or_harmless(roster, name, value):
    client, headers = roster
    response = client.get("/api/v1/creators", query_string={name: value}, headers=headers)
    assert response.status_code in (200, 422), response.status_code
    if response.status_code == 200:
        assert len(response.json) <= 2


@PROPERTY
@given(needle=hostile)
def test_search_matches_only_literal_text(roster, needle):
    client, headers = roster
    found = client.get("/api/v1/creators", query_string={"q": needle}, headers=headers)
    assert found.status_code in (200, 422)
    if found.status_code == 200:
        literal = needle.strip().lower().lstrip("@")
        for creator in found.json:
            haystacks = [creator["display_name"].lower(), creator["legal_name"].lower()] + [
                a["handle"].lower() for a in creator["accounts"]
            ]
            assert any(literal in h for h in haystacks), (needle, creator["display_name"])


def test_path_traversal_in_ids_is_a_404(roster):
    client, headers = roster
    for path in (
        "/api/v1/creators/..%2F..%2Fetc%2Fpasswd",
        "/api/v1/creators/../users",
        "/api/v1/creators/-1",
        "/api/v1/creators/1%20OR%201=1",
    ):
        assert client.get(path, headers=headers).status_code in (404, 405), path


@pytest.mark.parametrize(
    "password, email",
    [
        ("short-1", ""),
        ("a" * 20, ""),
        ("1234567890123", ""),
        ("x" * 300 + "1", ""),
        ("jane.doe-2024-secret", "jane.doe@agency.example"),
    ],
)
def test_weak_passwords_are_refused(password, email):
    with pytest.raises(InvalidInput):
        check_password_policy(password, email)


def test_strong_password_is_accepted():
    check_password_policy("correct-horse-battery-9", "someone@agency.example")


def test_api_refuses_weak_password_with_422(client, admin, auth_for):
    response = client.post(
        "/api/v1/users",
        headers=auth_for(admin),
        json={"email": "weak@test.example", "role": "analyst", "password": "password"},
    )
    assert response.status_code in (400, 422)
    assert "password" in str(response.json)


def test_nul_characters_are_a_422_not_a_500(roster):
    client, headers = roster
    assert client.get("/api/v1/creators", query_string={"q": "a\x00b"}, headers=headers).status_code == 422
    body = '{"display_name": "Nul\\u0000Name", "country": "FR", "niche": "travel"}'
    response = client.post("/api/v1/creators", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 422 and "NUL" in response.json["message"]
