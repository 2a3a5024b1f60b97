import pytest


@pytest.fixture(autouse=True)
def restore_limiter():
    """The limiter is one module-level object that each `create_app` rebinds; tests here build
    extra apps (some with a dead Redis), so put the session app's binding back afterwards."""
    from agency.extensions import limiter

    saved = dict(limiter.__dict__)
    yield
    limiter.__dict__.clear()
    limiter.__dict__.update(saved)
