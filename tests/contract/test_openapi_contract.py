"""Schemathesis against the app's own OpenAPI: every operation, authenticated as an admin, with
generated input, on a database holding the demo agency (see conftest.py). No server errors, and
every answer has a documented status code, a documented content type and the documented shape."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from agency import create_app
from agency.core.config import Config

# The document only: an app on an unused in-memory database describes the same API.
schema = schemathesis.openapi.from_wsgi(
    "/api/openapi.json",
    create_app(
        Config.from_env(
            {},
            password_hash_profile="cheapest",
            database_url="sqlite://",
            secret_key="spec",
            log_json=False,
            log_level="ERROR",
        )
    ),
)


# Enough to reach every enum value (format=csv) and the edges of every documented range (a date far
# in the past) on each operation.
EXAMPLES = 10
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_api_contract(case, app, admin, auth_for, make_creator):
    make_creator(manager=admin)
    response = case.call(app=app, headers=auth_for(admin))  # the test app, on the test database
    case.validate_response(response, checks=CHECKS)
