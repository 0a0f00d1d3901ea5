"""The one-stop settlement API (CONTRACT.md, Service): FastAPI over `tuodi.store` and the engine.

Each request is one transaction: it is written whole or not at all, its audit line included.
Handlers are plain functions run in FastAPI's thread pool; the database does the serialising
(see `tuodi.store.database`). Each transaction first checks that the caller's key is still live,
so a revocation holds on the next request; what a hospital key may see of other institutions'
claims is cut on the way out (`tuodi.service.views`); every response carries the web security
headers (`tuodi.service.web`).
"""

import contextlib
import logging
import os
from pathlib import Path
from typing import Annotated, Any, Callable, Iterator

from fastapi import Depends, FastAPI, Path as PathParam, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from tuodi.engine.model import Claim
from tuodi.io.tables import InconsistentAmounts, check_claim_amounts
from tuodi.policy import load_policy
from tuodi.service import ledger
from tuodi.service.auth import KeyCache, Principal, mask_addr, mask_certno, mask_name, mask_tel
from tuodi.service.errors import Busy, Forbidden, Invalid, NotFound, ServiceError, register_database_errors
from tuodi.service.views import View
from tuodi.service.web import add_docs, secure
from tuodi.service.schemas import (ClaimBody, EndIdentityBody, IdentityBody, PersonBody, Refusal,
                                   ReversalBody, ID_PATTERN)
from tuodi.store import Database, DEFAULT_URL
from tuodi.store import repository as repo

log = logging.getLogger("tuodi.service")

class Unauthorized(ServiceError):
    status = 401


PsnNo = Annotated[str, PathParam(pattern=ID_PATTERN, description="person number (psn_no)")]
SetlId = Annotated[str, PathParam(pattern=ID_PATTERN, description="settlement id (setl_id)")]


def refusal(description: str) -> dict[str, Any]:
    """An error response as the OpenAPI document lists it: the `Refusal` shape."""
    return {"model": Refusal, "description": description}


ERRORS = {401: refusal("missing, unknown or revoked API key"),
          403: refusal("the key's role may not do this"),
          422: refusal("bad input (a body that is not JSON included); `detail[].field` names the field")}


def _field_of(loc: tuple) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def create_app(db_url: str = DEFAULT_URL, policy: str = "harbin", stats: Path | None = None,
               overlay: Path | None = None, key_ttl: float = 30.0) -> FastAPI:
    """The app for one database and one jurisdiction's policy (one service per pooling area)."""
    from tuodi.io import read_stats

    rules = ledger.Rules(load_policy(policy, overlay), read_stats(stats) if stats else {})
    db = Database(db_url)
    keys = KeyCache(key_ttl)
    bearer = HTTPBearer(auto_error=False, description="an API key from `tuodi apikey create`")

    app = FastAPI(
        title="Tuodi one-stop settlement (一站式结算)",
        version="1",
        description=("Hospitals settle at discharge: basic insurance (given) → critical illness → "
                     "medical assistance → tilted assistance, under the policy "
                     f"`{rules.policy.id}` ({rules.policy.name}). Amounts are strings of yuan; "
                     "an undefined amount is null."),
        docs_url=None, redoc_url=None,  # /docs is web.add_docs: Swagger UI from this host, no inline script
    )
    add_docs(app, app.title)
    secure(app)
    app.state.db, app.state.rules = db, rules

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        detail = []
        for e in exc.errors():
            loc = tuple(e.get("loc", ()))
            if e.get("type") == "json_invalid":  # loc is ("body", character position)
                pos = loc[1] if len(loc) > 1 else 0
                reason = (e.get("ctx") or {}).get("error", "JSON decode error")
                detail.append({"field": "body", "loc": ["body"],
                               "msg": f"not valid JSON: {reason} (at character {pos})"})
                continue
            msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
            detail.append({"field": _field_of(loc), "loc": [str(p) for p in loc], "msg": msg})
        return invalid_response(detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        # FastAPI's own refusals. Its 400 is a body it could not parse (bytes that are not
        # UTF-8, JSON nested too deep): bad input like any other, so the documented 422.
        if exc.status_code == 400:
            return invalid_response([{"field": "body", "loc": ["body"],
                                      "msg": "not valid JSON (could not be parsed as UTF-8 JSON)"}])
        return JSONResponse({"message": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(ServiceError)
    async def _refused(_request: Request, exc: ServiceError):
        body: dict[str, Any] = {"message": f"{exc.field}: {exc.message}" if exc.field else exc.message}
        if exc.field:
            body["detail"] = [{"field": exc.field, "msg": exc.message}]
        headers = ({"WWW-Authenticate": "Bearer"} if exc.status == 401
                   else {"Retry-After": "1"} if exc.status == 503 else None)
        return JSONResponse(body, status_code=exc.status, headers=headers)

    register_database_errors(app)  # down, restarting, locked: 503; disk full: 507

    def principal(creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
        if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
            raise Unauthorized("send Authorization: Bearer KEY (a key from `tuodi apikey create`)")
        p = keys.lookup(db, creds.credentials)
        if p is None:
            raise Unauthorized("unknown or revoked API key")
        return p

    Who = Annotated[Principal, Depends(principal)]

    # Every /v1 request reads and writes through these: the key is checked live inside the
    # request's own transaction, so a revocation holds on the next request whatever the cache
    # says, and a refused request leaves nothing behind (its transaction rolls back).
    @contextlib.contextmanager
    def writing(who: Principal) -> Iterator[Connection]:
        with db.write() as conn:
            live(conn, who)
            yield conn

    @contextlib.contextmanager
    def reading(who: Principal) -> Iterator[Connection]:
        with db.read() as conn:
            live(conn, who)
            yield conn

    def live(conn: Connection, who: Principal) -> None:
        if not repo.key_is_live(conn, who.key_id):
            keys.forget(who.key_id)
            raise Unauthorized("unknown or revoked API key")

    def require(p: Principal, action: str) -> None:
        if not p.may(action):
            raise Forbidden(f"the role {p.role} may not do this ({action})")

    def hospital_owns(p: Principal) -> Callable | None:
        """For a hospital key, whether a stored claim is its own (CONTRACT.md, Who sees what)."""
        if p.role != "hospital":
            return None
        return lambda row: row.fixmedins_code == p.hospital_code

    def view_of(p: Principal) -> View:
        return View(p.hospital_code if p.role == "hospital" else None)

    def others_before(conn: Connection, view: View, psn_no: str, year: int | None, seq: int | None) -> bool:
        """Whether claims of other institutions arrived in the person's year (their family's, under
        a family-unit payer) before this claim."""
        if view.sees_all or year is None:
            return False
        # under a family-unit payer, the household's claims count too (their base is the family's)
        person = repo.get_person(conn, psn_no) if ledger.family_payers(rules) else None
        members = [m.psn_no for m in repo.household(conn, person.hh_no)] if person is not None and person.hh_no else []
        return any(code != view.institution for p in (members or [psn_no])
                   for code in repo.institutions_in_year(conn, p, year, seq))

    def settlement_answer(conn: Connection, who: Principal, out: ledger.Outcome) -> JSONResponse:
        view = view_of(who)
        if view.sees_all:
            return JSONResponse(view.settlement(out.body, False), status_code=out.status)
        if out.institutions is not None:  # settled now: the claims it was settled with are at hand
            others = any(code != view.institution for code in out.institutions)
        else:
            others = others_before(conn, view, out.psn_no, out.year, out.seq)
        return JSONResponse(view.settlement(out.body, others), status_code=out.status)

    def person_json(row, ids, p: Principal) -> dict[str, Any]:
        show = p.sees_personal_data
        return {
            "psn_no": row.psn_no,
            "certno": row.certno if show else mask_certno(row.certno),
            "insutype": row.insutype, "brdy": row.brdy.isoformat() if row.brdy else None,
            "psn_name": row.psn_name if show else mask_name(row.psn_name),
            "tel": row.tel if show else mask_tel(row.tel),
            "addr": row.addr if show else mask_addr(row.addr),
            "admdvs": row.admdvs, "late_stage_major_disease": bool(row.late_stage_major_disease),
            "hh_no": row.hh_no,
            "identities": [identity_json(i) for i in ids],
        }

    # ---- persons and identities --------------------------------------------------------------

    @app.put("/v1/persons/{psn_no}", tags=["persons"], responses=ERRORS)
    def put_person(psn_no: PsnNo, body: PersonBody, who: Who) -> dict[str, Any]:
        """Register or update a person (a persons-file row). Fields left out are cleared to their defaults.

        An update re-settles the person's years (their `insutype` picks the critical-illness rule:
        城乡居民 390 or 职工 310; their `hh_no` the family of a family-unit payer, whose years are
        re-settled too, the family left and the family joined); `adjustments` lists the claims
        whose payments it moved."""
        require(who, "person.write")
        if body.psn_no is not None and body.psn_no != psn_no:
            raise Invalid(f"{body.psn_no!r} differs from the path's {psn_no!r}", "psn_no")
        values = dict(certno=body.certno, insutype=body.insutype or "390", brdy=body.brdy,
                      psn_name=body.psn_name, tel=body.tel, addr=body.addr, admdvs=body.admdvs,
                      late_stage_major_disease=bool(body.late_stage_major_disease), hh_no=body.hh_no)
        with writing(who) as conn:
            before = ledger.lock_unit(conn, rules, psn_no)
            if body.hh_no and ledger.family_payers(rules):
                repo.lock_household(conn, body.hh_no)
            left = ([m.psn_no for m in repo.household(conn, before.hh_no) if m.psn_no != psn_no]
                    if before is not None and before.hh_no and before.hh_no != body.hh_no else [])
            created = repo.put_person(conn, psn_no, values)
            person = repo.get_person(conn, psn_no)
            caused = [] if created else ledger.revise_person(conn, rules, person, "person.update", None, who.key_id,
                                                             also=left[:1])
            repo.audit(conn, who.key_id, who.role, "person.create" if created else "person.update", psn_no,
                       detail="fields: " + ",".join(k for k, v in body.model_dump().items() if v is not None)
                              + ("" if created else f"; {len(caused)} adjustment(s)"))
            return {**person_json(person, repo.identities_of(conn, psn_no), who),
                    "adjustments": view_of(who).moved(caused)}

    @app.get("/v1/persons/{psn_no}", tags=["persons"], responses={**ERRORS, 404: refusal("no such person")})
    def get_person(psn_no: PsnNo, who: Who) -> dict[str, Any]:
        """A person and all their identities, ended ones included (masked for roles that do not manage persons)."""
        require(who, "person.read")
        with writing(who) as conn:
            row = repo.get_person(conn, psn_no)
            if row is None:
                raise NotFound(f"no person {psn_no!r}", "psn_no")
            repo.audit(conn, who.key_id, who.role, "person.read", psn_no)
            return person_json(row, repo.identities_of(conn, psn_no), who)

    @app.post("/v1/persons/{psn_no}/identities", status_code=201, tags=["persons"],
              responses={**ERRORS, 404: refusal("no such person")})
    def add_identity(psn_no: PsnNo, body: IdentityBody, who: Who) -> dict[str, Any]:
        """Record an identity (救助对象身份) the person holds, with the department that recognised it.

        The person's years are re-settled with it; `adjustments` lists the claims whose payments it
        moved (补付 positive, 追回 negative)."""
        require(who, "identity.write")
        if body.psn_no is not None and body.psn_no != psn_no:
            raise Invalid(f"{body.psn_no!r} differs from the path's {psn_no!r}", "psn_no")
        if body.begndate and body.enddate and body.enddate < body.begndate:
            raise Invalid(f"enddate {body.enddate} is before begndate {body.begndate}", "enddate")
        with writing(who) as conn:
            person = ledger.lock_unit(conn, rules, psn_no)
            if person is None:
                raise NotFound(f"no person {psn_no!r}: register them first", "psn_no")
            row = repo.add_identity(conn, psn_no, body.category, body.begndate, body.enddate,
                                    body.source_dept, who.key_id)
            caused = ledger.revise_person(conn, rules, person, "identity.add", row.id, who.key_id)
            repo.audit(conn, who.key_id, who.role, "identity.add", psn_no,
                       detail=f"identity {row.id} {row.category} {row.begndate or ''}..{row.enddate or ''}; "
                              f"{len(caused)} adjustment(s)")
            return {**identity_json(row), "adjustments": view_of(who).moved(caused)}

    @app.post("/v1/persons/{psn_no}/identities/{identity_id}/end", tags=["persons"],
              responses={**ERRORS, 404: refusal("no such identity")})
    def end_identity(psn_no: PsnNo, identity_id: Annotated[int, PathParam(ge=1, le=2**31 - 1)],
                     body: EndIdentityBody, who: Who) -> dict[str, Any]:
        """End an identity on `enddate` (its last day). Identities are ended, never deleted.

        The person's years are re-settled without it from that day; `adjustments` lists the claims
        whose payments it moved (a back-dated end claws back what was paid after it)."""
        require(who, "identity.write")
        with writing(who) as conn:
            person = ledger.lock_unit(conn, rules, psn_no)
            if person is None:
                raise NotFound(f"no person {psn_no!r}", "psn_no")
            row = repo.get_identity(conn, psn_no, identity_id)
            if row is None:
                raise NotFound(f"person {psn_no!r} has no identity {identity_id}", "identity_id")
            if row.begndate and body.enddate < row.begndate:
                raise Invalid(f"enddate {body.enddate} is before the identity's begndate {row.begndate}", "enddate")
            row = repo.end_identity(conn, row, body.enddate, body.reason, who.key_id)
            caused = ledger.revise_person(conn, rules, person, "identity.end", row.id, who.key_id)
            repo.audit(conn, who.key_id, who.role, "identity.end", psn_no,
                       detail=f"identity {row.id} ended {row.enddate} (was {row.enddate_before_end or 'open'}); "
                              f"{len(caused)} adjustment(s)")
            return {**identity_json(row), "adjustments": view_of(who).moved(caused)}

    # ---- settlements -------------------------------------------------------------------------

    @app.post("/v1/settlements", tags=["settlements"], status_code=201, responses={
        **ERRORS, 200: {"description": "the stored result of this setl_id and body, or a pre-settlement (dry_run)"},
        201: {"description": "settled now"},
        409: refusal("this setl_id was settled with another body")})
    def post_settlement(body: ClaimBody, who: Who,
                        dry_run: Annotated[bool, Query(description="pre-settle (预结算): compute, store nothing")] = False):
        """Settle a claim (结算) at discharge, or pre-settle it with `dry_run=true`.

        The same `setl_id` and body again returns the stored result (200) and pays nothing more.
        """
        require(who, "settle")
        code = body.fixmedins_code
        if who.role == "hospital":
            if code is not None and code != who.hospital_code:
                raise Forbidden(f"a hospital key settles only its own claims ({who.hospital_code})",
                                "fixmedins_code")
            code = who.hospital_code
        ci = claim_input(body, code)
        for _attempt in range(3):
            try:
                with writing(who) as conn:
                    out = ledger.settle(conn, rules, ci, who.key_id, dry_run=dry_run, owner_check=hospital_owns(who))
                    if out.settled:
                        repo.audit(conn, who.key_id, who.role, "settle", out.psn_no, ci.claim.setl_id,
                                   detail=f"fund_pay_sumamt {out.body['fund_pay_sumamt']}")
                    answer = settlement_answer(conn, who, out)
                return answer
            except IntegrityError:
                # Another request stored this setl_id between our look and our insert (it is
                # unique; a rival for another person does not wait on our person's lock). Its
                # row is committed now: answer as to a repeat, 200 (same body) or 409.
                with reading(who) as conn:
                    out = ledger.repeat(conn, ci, owner_check=hospital_owns(who))
                    if out is not None:
                        return settlement_answer(conn, who, out)
        raise Busy("the settlement could not be stored; retry")

    @app.get("/v1/settlements/{setl_id}", tags=["settlements"],
             responses={**ERRORS, 404: refusal("no such settlement")})
    def get_settlement(setl_id: SetlId, who: Who) -> dict[str, Any]:
        """The stored settlement, its explanation, its net amounts after reversals and the adjustments."""
        require(who, "settlement.read")
        with writing(who) as conn:
            row = repo.claim_by_setl_id(conn, setl_id)
            owns = hospital_owns(who)
            if row is None or (owns is not None and not owns(row)):
                raise NotFound(f"no settlement {setl_id!r}", "setl_id")  # another institution's: as if none
            repo.audit(conn, who.key_id, who.role, "settlement.read", row.psn_no, setl_id)
            view = view_of(who)
            out = ledger.settlement_json(row, [])
            out["adjustments"] = view.received(ledger.received(repo.adjustments_of(conn, row.seq)))
            if not view.sees_all:
                moved = view.moved(ledger.caused_by(conn, row.seq))
                out["explanation"] = view.explanation(row.explanation, moved,
                                                      others_before(conn, view, row.psn_no, row.year, row.seq))
            return out

    @app.post("/v1/settlements/{setl_id}/reversal", tags=["settlements"],
              responses={**ERRORS, 404: refusal("no such settlement")})
    def post_reversal(setl_id: SetlId, who: Who, body: ReversalBody | None = None) -> dict[str, Any]:
        """Reverse a settlement (冲正): claw back its payments and re-settle the person's other claims
        of that year as if it had never been; returns their adjustments (negative: clawed back)."""
        require(who, "settle")
        with writing(who) as conn:
            out = ledger.reverse(conn, rules, setl_id, body.reason if body else None, who.key_id,
                                 owner_check=hospital_owns(who))
            if out.settled:
                repo.audit(conn, who.key_id, who.role, "reversal", out.psn_no, setl_id,
                           detail=f"{len(out.body['adjustments'])} adjustment(s)")
            return view_of(who).reversal(out.body)

    @app.get("/v1/persons/{psn_no}/years/{year}", tags=["persons"],
             responses={**ERRORS, 404: refusal("no such person")})
    def get_person_year(psn_no: PsnNo, year: Annotated[int, PathParam(ge=1900, le=2999)], who: Who) -> dict[str, Any]:
        """A person's year: totals per fund, each tier's accumulator, and every settlement of the year."""
        require(who, "year.read")
        with writing(who) as conn:
            if repo.get_person(conn, psn_no) is None:
                raise NotFound(f"no person {psn_no!r}", "psn_no")
            repo.audit(conn, who.key_id, who.role, "year.read", psn_no, detail=str(year))
            return ledger.person_year(conn, psn_no, year)

    @app.get("/v1/audit", tags=["audit"], responses=ERRORS)
    def get_audit(who: Who, psn_no: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
                  setl_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
                  limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
        """The audit log, newest first: who (key id and role), when, what, on which person or claim."""
        require(who, "audit.read")
        with reading(who) as conn:
            return [{"at": r.at.isoformat(), "key_id": r.key_id, "role": r.role, "action": r.action,
                     "psn_no": r.psn_no, "setl_id": r.setl_id, "detail": r.detail}
                    for r in repo.audit_rows(conn, psn_no, setl_id, limit)]

    @app.get("/v1/me", tags=["audit"], responses=ERRORS)
    def me(who: Who) -> dict[str, Any]:
        """The caller's role (and institution, for a hospital key)."""
        with reading(who):
            pass
        return {"key_id": who.key_id, "role": who.role, "hospital_code": who.hospital_code}

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok", "policy": rules.policy.id}

    return app


def invalid_response(detail: list[dict[str, Any]]) -> JSONResponse:
    message = "; ".join(f"{d['field']}: {d['msg']}" for d in detail[:5])
    return JSONResponse({"message": message, "detail": detail}, status_code=422)


def identity_json(row) -> dict[str, Any]:
    return {
        "id": row.id, "psn_no": row.psn_no, "category": row.category,
        "begndate": row.begndate.isoformat() if row.begndate else None,
        "enddate": row.enddate.isoformat() if row.enddate else None,
        "source_dept": row.source_dept, "recorded_at": row.recorded_at.isoformat(),
        "ended_at": row.ended_at.isoformat() if row.ended_at else None, "end_reason": row.end_reason,
    }


def claim_input(body: ClaimBody, fixmedins_code: str | None) -> ledger.ClaimInput:
    """The checks of a claims-file row that span fields (CONTRACT.md, claims file)."""
    medfee, hifp = body.medfee_sumamt, body.hifp_pay
    ownpay, overlmt, preself = (body.fulamt_ownpay_amt or 0, body.overlmt_selfpay or 0, body.preselfpay_amt or 0)
    try:
        inscp = check_claim_amounts(medfee, ownpay, overlmt, preself, body.inscp_scp_amt, hifp, body.hifmi_pay)
    except InconsistentAmounts as e:
        raise Invalid(str(e), e.column) from None
    claim = Claim(
        setl_id=body.setl_id, psn_no=body.psn_no, setl_date=body.setl_date, med_type=body.med_type,
        medfee_sumamt=medfee, inscp_scp_amt=inscp, hifp_pay=hifp, hifmi_pay=body.hifmi_pay,
        referred=True if body.referred is None else body.referred,
        in_province=True if body.in_province is None else body.in_province,
        out_of_area=False if body.out_of_area is None else body.out_of_area,
    )
    return ledger.ClaimInput(claim, ownpay, overlmt, preself, fixmedins_code)


def app_from_env() -> FastAPI:
    """Factory for `uvicorn --factory` (several workers): settings from TUODI_* variables."""
    stats = os.environ.get("TUODI_STATS")
    overlay = os.environ.get("TUODI_OVERLAY")
    return create_app(os.environ.get("TUODI_DB", DEFAULT_URL), os.environ.get("TUODI_POLICY", "harbin"),
                      Path(stats) if stats else None, Path(overlay) if overlay else None)
