"""Reading and writing the service's tables (SQLAlchemy Core, one connection = one transaction).

The functions take a `Connection` opened by `Database.write()` or `.read()`; they never commit.
Rows come back as SQLAlchemy `Row`s; `person_of`, `identity_of` and `claim_of` turn them into the
engine's types.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any, Iterable

from sqlalchemy import Connection, Row, and_, bindparam, func, insert, select, text, update

from tuodi.engine.model import Claim, Identity, Person
from tuodi.store.tables import (adjustments, api_keys, audit_log, claims, identities, person_years,
                                persons, reversals, revisions, settlements)

ROLES = ("hospital", "insurance_office", "civil_affairs", "auditor")
KEY_PREFIX = "tdk_"


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


# Statements of the settle path are built once: building a statement costs more than running it.
_PERSON = select(persons).where(persons.c.psn_no == bindparam("psn_no"))
_PERSON_LOCKED = _PERSON.with_for_update()
_IDENTITIES = select(identities).where(identities.c.psn_no == bindparam("psn_no")).order_by(identities.c.id)
_CLAIM_WITH_SETTLEMENT = select(claims, settlements).join(settlements, settlements.c.seq == claims.c.seq)
_CLAIM_BY_ID = _CLAIM_WITH_SETTLEMENT.where(claims.c.setl_id == bindparam("setl_id"))
_YEAR_ALL = (_CLAIM_WITH_SETTLEMENT.where(and_(claims.c.psn_no == bindparam("psn_no"), claims.c.year == bindparam("year")))
             .order_by(claims.c.setl_date, claims.c.seq))
_YEAR_SETTLED = (_CLAIM_WITH_SETTLEMENT.where(and_(claims.c.psn_no == bindparam("psn_no"),
                                                   claims.c.year == bindparam("year"), claims.c.status == "settled"))
                 .order_by(claims.c.setl_date, claims.c.seq))
_INSERT_CLAIM = insert(claims).returning(claims.c.seq)
_INSERT_SETTLEMENT = insert(settlements)
_PERSON_YEAR = select(person_years).where(and_(person_years.c.psn_no == bindparam("psn_no"),
                                               person_years.c.year == bindparam("year")))
_UPDATE_PERSON_YEAR = update(person_years).where(and_(person_years.c.psn_no == bindparam("b_psn_no"),
                                                      person_years.c.year == bindparam("b_year")))
_INSERT_PERSON_YEAR = insert(person_years)
_INSERT_AUDIT = insert(audit_log)
_KEY = select(api_keys).where(and_(api_keys.c.key_hash == bindparam("key_hash"), api_keys.c.revoked_at.is_(None)))
_KEY_LIVE = select(api_keys.c.id).where(and_(api_keys.c.id == bindparam("key_id"), api_keys.c.revoked_at.is_(None)))


# ---- persons and identities -------------------------------------------------------------------

def get_person(conn: Connection, psn_no: str, lock: bool = False) -> Row | None:
    """The person's row; `lock` holds it until the transaction ends (PostgreSQL `FOR UPDATE`;
    SQLite is already serialised by `BEGIN IMMEDIATE`)."""
    return conn.execute(_PERSON_LOCKED if lock else _PERSON, {"psn_no": psn_no}).first()


def put_person(conn: Connection, psn_no: str, values: dict[str, Any]) -> bool:
    """Create or replace the person's fields; returns True when the person is new."""
    t = now()
    exists = conn.execute(select(persons.c.psn_no).where(persons.c.psn_no == psn_no).with_for_update()).first()
    if exists:
        conn.execute(update(persons).where(persons.c.psn_no == psn_no).values(**values, updated_at=t))
        return False
    conn.execute(insert(persons).values(psn_no=psn_no, **values, created_at=t, updated_at=t))
    return True


def person_of(row: Row) -> Person:
    return Person(psn_no=row.psn_no, insutype=row.insutype, brdy=row.brdy, admdvs=row.admdvs,
                  late_stage_major_disease=bool(row.late_stage_major_disease), hh_no=row.hh_no)


def household(conn: Connection, hh_no: str) -> list[Row]:
    """The persons of a household (`hh_no`), in `psn_no` order."""
    return list(conn.execute(select(persons).where(persons.c.hh_no == hh_no).order_by(persons.c.psn_no)))


def lock_household(conn: Connection, hh_no: str) -> None:
    """Hold the household's lock until the transaction ends: on PostgreSQL a transaction-scoped
    advisory lock on the `hh_no`; SQLite is already serialised by `BEGIN IMMEDIATE`."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7212, hashtext(:hh))"), {"hh": hh_no})


def identities_of(conn: Connection, psn_no: str) -> list[Row]:
    return list(conn.execute(_IDENTITIES, {"psn_no": psn_no}))


def identity_of(row: Row) -> Identity:
    return Identity(row.psn_no, row.category, row.begndate, row.enddate)


def add_identity(conn: Connection, psn_no: str, category: str, begndate: dt.date | None,
                 enddate: dt.date | None, source_dept: str | None, by: int | None) -> Row:
    new_id = conn.execute(insert(identities).values(
        psn_no=psn_no, category=category, begndate=begndate, enddate=enddate, source_dept=source_dept,
        recorded_at=now(), recorded_by=by).returning(identities.c.id)).scalar_one()
    return conn.execute(select(identities).where(identities.c.id == new_id)).one()


def get_identity(conn: Connection, psn_no: str, identity_id: int) -> Row | None:
    return conn.execute(select(identities).where(and_(identities.c.id == identity_id,
                                                      identities.c.psn_no == psn_no))).first()


def end_identity(conn: Connection, row: Row, enddate: dt.date, reason: str | None, by: int | None) -> Row:
    """End an identity on `enddate` (its last day). The row stays: ending is history, not deletion."""
    conn.execute(update(identities).where(identities.c.id == row.id).values(
        enddate=enddate, ended_at=now(), ended_by=by, end_reason=reason, enddate_before_end=row.enddate))
    return conn.execute(select(identities).where(identities.c.id == row.id)).one()


# ---- claims, settlements, accumulators -------------------------------------------------------

def claim_by_setl_id(conn: Connection, setl_id: str) -> Row | None:
    return conn.execute(_CLAIM_BY_ID, {"setl_id": setl_id}).first()


def year_claims(conn: Connection, psn_no: str, year: int, status: str | None = "settled") -> list[Row]:
    """The person's claims of `year` with their settlements, in settlement order (date, arrival)."""
    assert status in (None, "settled")
    return list(conn.execute(_YEAR_SETTLED if status else _YEAR_ALL, {"psn_no": psn_no, "year": year}))


def institutions_in_year(conn: Connection, psn_no: str, year: int, before_seq: int | None = None) -> set[str | None]:
    """The institutions (`fixmedins_code`) of the person's claims of `year`, reversed ones too;
    with `before_seq`, only of the claims that arrived before that one."""
    q = select(claims.c.fixmedins_code).distinct().where(and_(claims.c.psn_no == psn_no, claims.c.year == year))
    if before_seq is not None:
        q = q.where(claims.c.seq < before_seq)
    return set(conn.execute(q).scalars())


def claim_of(row: Row | dict) -> Claim:
    g = row._mapping if isinstance(row, Row) else row
    return Claim(setl_id=g["setl_id"], psn_no=g["psn_no"], setl_date=g["setl_date"], med_type=g["med_type"],
                 medfee_sumamt=g["medfee_sumamt"], inscp_scp_amt=g["inscp_scp_amt"], hifp_pay=g["hifp_pay"],
                 hifmi_pay=g["hifmi_pay_given"], referred=bool(g["referred"]),
                 in_province=bool(g["in_province"]), out_of_area=bool(g["out_of_area"]))


def insert_claim(conn: Connection, values: dict[str, Any], by: int | None) -> int:
    return conn.execute(_INSERT_CLAIM, {**values, "status": "settled", "received_at": now(),
                                        "received_by": by}).scalar_one()


def insert_settlement(conn: Connection, seq: int, values: dict[str, Any]) -> None:
    conn.execute(_INSERT_SETTLEMENT, {
        "seq": seq, **values, "net_hifmi_pay": values["hifmi_pay"], "net_maf_pay": values["maf_pay"],
        "net_tilt_pay": values["tilt_pay"], "net_oth_pay": values["oth_pay"], "settled_at": now()})


def get_person_year(conn: Connection, psn_no: str, year: int) -> Row | None:
    return conn.execute(_PERSON_YEAR, {"psn_no": psn_no, "year": year}).first()


def save_person_year(conn: Connection, psn_no: str, year: int, values: dict[str, Any], exists: bool) -> None:
    """Write the year's accumulators; the caller holds the person's lock, so no race on `exists`."""
    if exists:
        conn.execute(_UPDATE_PERSON_YEAR, {**values, "updated_at": now(), "b_psn_no": psn_no, "b_year": year})
    else:
        conn.execute(_INSERT_PERSON_YEAR, {**values, "psn_no": psn_no, "year": year, "updated_at": now()})


def mark_reversed(conn: Connection, seq: int) -> None:
    conn.execute(update(claims).where(claims.c.seq == seq).values(status="reversed"))


def set_net(conn: Connection, seq: int, net: dict[str, int | None], payments: str | None = None) -> None:
    """The claim's net amounts; `payments` each further payer's (JSON by payer id)."""
    conn.execute(update(settlements).where(settlements.c.seq == seq).values(
        net_hifmi_pay=net["hifmi_pay"], net_maf_pay=net["maf_pay"], net_tilt_pay=net["tilt_pay"],
        net_oth_pay=net["oth_pay"], net_payments=payments))


def insert_reversal(conn: Connection, seq: int, reason: str | None, by: int | None) -> int:
    return conn.execute(insert(reversals).values(seq=seq, reason=reason, result="", reversed_at=now(),
                                                 reversed_by=by).returning(reversals.c.id)).scalar_one()


def set_reversal_result(conn: Connection, reversal_id: int, result: str) -> None:
    conn.execute(update(reversals).where(reversals.c.id == reversal_id).values(result=result))


def reversal_of(conn: Connection, seq: int) -> Row | None:
    return conn.execute(select(reversals).where(reversals.c.seq == seq)).first()


def insert_adjustments(conn: Connection, reversal_id: int | None, rows: Iterable[dict[str, Any]],
                       revision_id: int | None = None) -> None:
    rows = [dict(r, reversal_id=reversal_id, revision_id=revision_id) for r in rows]
    if rows:
        conn.execute(insert(adjustments), rows)


def insert_revision(conn: Connection, psn_no: str, cause: str, seq: int | None = None,
                    identity_id: int | None = None, by: int | None = None) -> int:
    """A revision of the person's year (its adjustments follow): a settlement dated before
    others (`seq`), or an identity added or ended (`identity_id`)."""
    return conn.execute(insert(revisions).values(psn_no=psn_no, cause=cause, seq=seq, identity_id=identity_id,
                                                 revised_at=now(), revised_by=by)
                        .returning(revisions.c.id)).scalar_one()


def claim_years(conn: Connection, psn_no: str) -> list[int]:
    """The years in which the person has settled (not reversed) claims."""
    return list(conn.execute(select(claims.c.year).distinct().where(
        and_(claims.c.psn_no == psn_no, claims.c.status == "settled")).order_by(claims.c.year)).scalars())


_CAUSED_BY_SETTLEMENT = (
    select(adjustments, claims.c.setl_id, claims.c.setl_date, claims.c.fixmedins_code)
    .join(revisions, revisions.c.id == adjustments.c.revision_id)
    .join(claims, claims.c.seq == adjustments.c.seq)
    .where(and_(revisions.c.seq == bindparam("seq"), revisions.c.cause == "settlement"))
    .order_by(adjustments.c.id))


def adjustments_caused_by(conn: Connection, seq: int) -> list[Row]:
    """The adjustments a settlement caused to the person's other claims (with their setl_id, date
    and institution)."""
    return list(conn.execute(_CAUSED_BY_SETTLEMENT, {"seq": seq}))


def adjustments_of(conn: Connection, seq: int) -> list[Row]:
    """The adjustments made to one claim, with what caused each (a reversal or a revision)."""
    reversed_claim = claims.alias("reversed_claim")
    causing_claim = claims.alias("causing_claim")
    return list(conn.execute(
        select(adjustments, reversals.c.reversed_at, reversed_claim.c.setl_id.label("reversed_setl_id"),
               reversed_claim.c.fixmedins_code.label("reversed_code"),
               revisions.c.cause, revisions.c.revised_at, revisions.c.identity_id,
               causing_claim.c.setl_id.label("caused_by_setl_id"),
               causing_claim.c.fixmedins_code.label("caused_by_code"))
        .outerjoin(reversals, reversals.c.id == adjustments.c.reversal_id)
        .outerjoin(reversed_claim, reversed_claim.c.seq == reversals.c.seq)
        .outerjoin(revisions, revisions.c.id == adjustments.c.revision_id)
        .outerjoin(causing_claim, causing_claim.c.seq == revisions.c.seq)
        .where(adjustments.c.seq == seq).order_by(adjustments.c.id)))


# ---- API keys and audit ------------------------------------------------------------------------

def hash_key(key: str) -> str:
    """SHA-256 of a key. Keys are 256 random bits, so a fast hash is enough: no dictionary to try."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def create_api_key(conn: Connection, role: str, hospital_code: str | None = None) -> str:
    """Make a key for `role`; only its hash is stored, the key itself is returned once."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
    if role == "hospital" and not hospital_code:
        raise ValueError("a hospital key needs --hospital CODE (its fixmedins_code)")
    if role != "hospital" and hospital_code:
        raise ValueError("--hospital is only for the hospital role")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    conn.execute(insert(api_keys).values(key_hash=hash_key(key), prefix=key[:12], role=role,
                                         hospital_code=hospital_code, created_at=now()))
    return key


def list_api_keys(conn: Connection) -> list[Row]:
    """Every key, revoked ones too (its prefix, never the key), oldest first."""
    return list(conn.execute(select(api_keys.c.id, api_keys.c.prefix, api_keys.c.role, api_keys.c.hospital_code,
                                    api_keys.c.created_at, api_keys.c.revoked_at).order_by(api_keys.c.id)))


def revoke_api_key(conn: Connection, key_id: int) -> Row:
    """Revoke a key for good (the row stays, for the audit log's sake). Refuses an unknown key;
    revoking a revoked key changes nothing."""
    row = conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
    if row is None:
        raise ValueError(f"no API key {key_id} (tuodi apikey list shows them)")
    if row.revoked_at is None:
        conn.execute(update(api_keys).where(api_keys.c.id == key_id).values(revoked_at=now()))
    return conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()


def key_by_hash(conn: Connection, key_hash: str) -> Row | None:
    return conn.execute(_KEY, {"key_hash": key_hash}).first()


def key_is_live(conn: Connection, key_id: int) -> bool:
    """Whether the key exists and is not revoked, as this transaction sees it (one primary-key read)."""
    return conn.execute(_KEY_LIVE, {"key_id": key_id}).first() is not None


def audit(conn: Connection, key_id: int | None, role: str | None, action: str, psn_no: str | None = None,
          setl_id: str | None = None, detail: str | None = None) -> None:
    """One line of the audit log, in the same transaction as what it records."""
    conn.execute(_INSERT_AUDIT, {"at": now(), "key_id": key_id, "role": role, "action": action, "psn_no": psn_no,
                                 "setl_id": setl_id, "detail": (detail or "")[:500] or None})


def audit_rows(conn: Connection, psn_no: str | None, setl_id: str | None, limit: int) -> list[Row]:
    q = select(audit_log)
    if psn_no:
        q = q.where(audit_log.c.psn_no == psn_no)
    if setl_id:
        q = q.where(audit_log.c.setl_id == setl_id)
    return list(conn.execute(q.order_by(audit_log.c.id.desc()).limit(limit)))


def count_rows(conn: Connection, table) -> int:
    return conn.execute(select(func.count()).select_from(table)).scalar_one()
