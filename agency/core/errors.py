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
