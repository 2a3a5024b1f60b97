"""The API's Blueprint keeps flask-smorest's behaviour while building less per request."""
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
