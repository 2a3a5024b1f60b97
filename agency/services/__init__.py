"""Domain logic: plain functions taking a keyword-only `db_session`. No Flask, no RQ here."""


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
