"""The API's Blueprint keeps flask-smorest's behaviour while building less per request."""
import json

import flask_smorest
import pytest
from marshmallow import Schema, fields

from agency.api.blueprint import Blueprint, SchemaReusingParser


@pytest.mark.parametrize("item_count", [0, 1, 9, 10, 11, 200, 1001])
@pytest.mark.parametrize("page_size", [1, 10, 50, 200])
@pytest.mark.parametrize("page", [1, 2, 5, 21, 10**6])
def test_pagination_header_matches_flask_smorest(page, page_size, item_count):
    assert (Blueprint._make_pagination_metadata(page, page_size, item_count)
            == flask_smorest.Blueprint._make_pagination_metadata(page, page_size, item_count))


def test_argument_schemas_are_built_once_per_class(app):
    class Query(Schema):
        n = fields.Integer(load_default=1)

    parser = SchemaReusingParser()
    with app.test_request_context("/?n=3"):
        first = parser._get_schema(Query, None)
        assert parser._get_schema(Query, None) is first
        assert parser.parse(Query, location="query") == {"n": 3}
    with app.test_request_context("/"):
        assert parser.parse(Query, location="query") == {"n": 1}


class RosterQuery(Schema):
    parse_once = True
    status = fields.List(fields.String())
    q = fields.String()
    mine = fields.Boolean(load_default=False)


def test_a_query_string_marked_parse_once_is_parsed_once_and_each_caller_gets_its_own_copy(app, monkeypatch):
    parser = SchemaReusingParser()
    loads = []
    real_load = Schema.load
    monkeypatch.setattr(Schema, "load", lambda self, *a, **kw: loads.append(type(self)) or real_load(self, *a, **kw))
    with app.test_request_context("/?status=active&status=paused&q=ana"):
        first = parser.parse(RosterQuery, location="query")
        first["status"].append("mutated by the first caller")
        first["q"] = "changed"
        second = parser.parse(RosterQuery, location="query")
    assert second == {"status": ["active", "paused"], "q": "ana", "mine": False}
    assert loads == [RosterQuery]
    with app.test_request_context("/?status=active&status=paused&q=ana&mine=true"):
        assert parser.parse(RosterQuery, location="query")["mine"] is True
    assert loads == [RosterQuery, RosterQuery]


def test_queries_of_schemas_not_marked_are_parsed_every_time(app):
    calls = []

    class Clocked(Schema):  # a default that changes between requests must not be kept
        n = fields.Integer(load_default=lambda: calls.append(1) or len(calls))

    parser = SchemaReusingParser()
    with app.test_request_context("/"):
        assert [parser.parse(Clocked, location="query")["n"] for _ in range(3)] == [1, 2, 3]


def test_invalid_query_strings_fail_every_time_and_are_not_kept(client, analyst, auth_for):
    headers = auth_for(analyst)
    for _ in range(3):
        response = client.get("/api/v1/creators?sort=nonsense", headers=headers)
        assert response.status_code == 422 and set(response.json["errors"]["query"]) == {"sort"}
        response = client.get("/api/v1/creators?page_size=0", headers=headers)
        assert response.status_code == 422 and set(response.json["errors"]["query"]) == {"page_size"}


def test_pagination_parameters_are_fresh_for_every_request(client, analyst, auth_for, make_creator):
    for i in range(3):
        make_creator(display_name=f"Creator {i}")
    headers = auth_for(analyst)
    pages = [client.get("/api/v1/creators?page_size=2&page=2", headers=headers) for _ in range(2)]
    assert [len(p.json) for p in pages] == [1, 1]
    for page in pages:  # the view's item count is set on each request's own parameters
        assert json.loads(page.headers["X-Pagination"]) == {
            "total": 3, "total_pages": 2, "first_page": 1, "last_page": 2, "page": 2, "previous_page": 1}


def test_only_the_most_recent_query_strings_are_kept(app):
    parser = SchemaReusingParser()
    parser.QUERY_CACHE_SIZE = 3
    for n in range(10):
        with app.test_request_context(f"/?q={n}"):
            assert parser.parse(RosterQuery, location="query")["q"] == str(n)
    assert len(parser._parsed_queries) == 3
