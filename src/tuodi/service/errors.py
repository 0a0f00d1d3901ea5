"""Refusals of the service, mapped to HTTP codes by the app: each says what a client can fix."""
from __future__ import annotations


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message, self.field = message, field


class Invalid(ServiceError):
    """Bad input (422): names the field."""
    status = 422


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403


class Conflict(ServiceError):
    status = 409


class Busy(ServiceError):
    """The database could not take the write now (503, Retry-After): nothing was stored."""
    status = 503
