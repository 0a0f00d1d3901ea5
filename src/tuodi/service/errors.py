"""Refusals of the service, mapped to HTTP codes by the app: each says what a client can fix."""
from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError, TimeoutError as PoolTimeout

log = logging.getLogger("tuodi.service")


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


def _is_disk_full(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", None)
    if getattr(orig, "sqlite_errorcode", None) == 13:  # SQLITE_FULL: "database or disk is full"
        return True
    return getattr(orig, "sqlstate", None) == "53100"  # PostgreSQL disk_full


def register_database_errors(app: FastAPI) -> None:
    """Answer a database that is down, restarting, locked, out of connections or out of disk
    with a clear refusal instead of a 500: nothing was stored (the request's transaction is rolled
    back whole), and the same request may be sent again. 503 with Retry-After when it is down or
    busy; 507 when its disk is full (an operator must act; what writes nothing still answers)."""

    def refusal(exc: Exception):
        if _is_disk_full(exc):
            log.error("database disk full: %s", exc)
            return JSONResponse({"message": "the database's disk is full: nothing was stored; "
                                            "retry once an operator has freed space"},
                                status_code=507, headers={"Retry-After": "60"})
        log.warning("database unavailable: %s", exc)
        return JSONResponse({"message": "the database is busy or unavailable: nothing was stored; retry"},
                            status_code=503, headers={"Retry-After": "1"})

    async def on_operational(_request, exc: OperationalError):
        return refusal(exc)

    async def on_dbapi(_request, exc: DBAPIError):
        if exc.connection_invalidated:  # the connection dropped mid-request (InterfaceError, …)
            return refusal(exc)
        raise exc

    async def on_pool_timeout(_request, exc: PoolTimeout):
        return refusal(exc)

    app.add_exception_handler(OperationalError, on_operational)
    app.add_exception_handler(DBAPIError, on_dbapi)
    app.add_exception_handler(PoolTimeout, on_pool_timeout)
