"""The errors services raise when a domain rule refuses an operation. No Flask here: the API's
error handlers (errorhandlers.py) turn each into its HTTP status and the shared JSON shape."""


class ServiceError(Exception):
    """A domain rule refused the operation; `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, errors: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409


class Forbidden(ServiceError):
    status = 403


class InvalidInput(ServiceError):
    status = 422


def stale_version(label: str, current: int, sent: int | None) -> Conflict:
    """The 409 for an edit made on another version than the stored one (someone saved in
    between): what to do is to reload and apply the change again."""
    return Conflict(
        f"{label} was changed by someone else (version {current}, you sent {sent}). "
        "Reload it and apply your change again.",
        {"version": [f"current version is {current}"]},
    )
