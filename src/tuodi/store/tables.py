"""The service's tables. Money is integer fen (BIGINT); an amount the seeds leave undefined is NULL.

- `persons` (参保人) and `identities` (救助对象身份): an identity is ended, never deleted; the row
  keeps who recorded it, from which department, and who ended it when.
- `claims` (结算申请) are the hospital's rows as received, in order of arrival (`seq`), with the hash
  of the normalised body that makes `setl_id` an idempotency key.
- `settlements` hold what was paid at the window and, after reversals of other claims, the net
  amount (`net_*`); `adjustments` are the clawbacks and top-ups (追回 / 补付) that moved them,
  each caused by a reversal or by a `revision` of the year (a settlement dated before others,
  an identity added or ended): a claim's net amounts are always the engine's on the current year.
- `person_years` are the yearly per-person accumulators (年度累计) of each tier: what it has paid
  and the yearly base of the claims eligible for it. Its row is also what a settle locks.
- `reversals` (冲正) store their result, so a repeated reversal returns it again.
- `api_keys` keep a SHA-256 of the key, never the key; `audit_log` records every write and every
  read of personal data.
"""
from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, Date, DateTime, ForeignKey, Index, Integer,
                        MetaData, String, Table, Text, UniqueConstraint)

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s", "pk": "pk_%(table_name)s",
})

ID = String(64)
TIER_COLUMNS = ("hifmi_pay", "maf_pay", "tilt_pay")

persons = Table(
    "persons", metadata,
    Column("psn_no", ID, primary_key=True),
    Column("certno", String(18)),
    Column("insutype", String(3), nullable=False, default="390"),
    Column("brdy", Date),
    Column("psn_name", String(100)),
    Column("tel", String(40)),
    Column("addr", String(300)),
    Column("admdvs", String(12)),
    Column("late_stage_major_disease", Boolean, nullable=False, default=False),
    Column("hh_no", ID, index=True),  # household (家庭编号): one family for family-unit payers
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

identities = Table(
    "identities", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("psn_no", ID, ForeignKey("persons.psn_no"), nullable=False, index=True),
    Column("category", String(40), nullable=False),
    Column("begndate", Date),
    Column("enddate", Date),
    Column("source_dept", String(100)),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", Integer),
    Column("ended_at", DateTime(timezone=True)),
    Column("ended_by", Integer),
    Column("end_reason", String(300)),
    Column("enddate_before_end", Date),
)

claims = Table(
    "claims", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("setl_id", ID, nullable=False, unique=True),
    Column("psn_no", ID, ForeignKey("persons.psn_no"), nullable=False),
    Column("setl_date", Date, nullable=False),
    Column("year", Integer, nullable=False),
    Column("med_type", String(12), nullable=False),
    Column("medfee_sumamt", BigInteger, nullable=False),
    Column("fulamt_ownpay_amt", BigInteger, nullable=False),
    Column("overlmt_selfpay", BigInteger, nullable=False),
    Column("preselfpay_amt", BigInteger, nullable=False),
    Column("inscp_scp_amt", BigInteger, nullable=False),
    Column("hifp_pay", BigInteger, nullable=False),
    Column("hifmi_pay_given", BigInteger),
    Column("referred", Boolean, nullable=False),
    Column("in_province", Boolean, nullable=False),
    Column("out_of_area", Boolean, nullable=False),
    Column("fixmedins_code", String(64)),
    Column("body_hash", String(64), nullable=False),
    Column("status", String(10), nullable=False, default="settled"),  # settled | reversed
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("received_by", Integer),
    Index("ix_claims_person_year", "psn_no", "year", "setl_date", "seq"),
)

settlements = Table(
    "settlements", metadata,
    Column("seq", Integer, ForeignKey("claims.seq"), primary_key=True),
    Column("policy", String(20), nullable=False),
    Column("category", String(40)),
    Column("hifmi_pay", BigInteger),
    Column("maf_pay", BigInteger),
    Column("tilt_pay", BigInteger),
    Column("net_hifmi_pay", BigInteger),
    Column("net_maf_pay", BigInteger),
    Column("net_tilt_pay", BigInteger),
    # the further payers: their sum, and each one's net amount by payer id (JSON: no column per payer)
    Column("oth_pay", BigInteger, server_default="0"),
    Column("net_oth_pay", BigInteger, server_default="0"),
    Column("net_payments", Text),
    Column("setldetail", Text),  # the claim's detail-file rows as settled (JSON)
    Column("explanation", Text, nullable=False),
    Column("settled_at", DateTime(timezone=True), nullable=False),
)

person_years = Table(
    "person_years", metadata,
    Column("psn_no", ID, ForeignKey("persons.psn_no"), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("claims", Integer, nullable=False, default=0),
    Column("medfee_sumamt", BigInteger, nullable=False, default=0),
    Column("inscp_scp_amt", BigInteger, nullable=False, default=0),
    Column("hifp_pay", BigInteger, nullable=False, default=0),
    # paid per tier this year (NULL once an undefined amount made it unknown)
    Column("hifmi_pay", BigInteger),
    Column("maf_pay", BigInteger),
    Column("tilt_pay", BigInteger),
    Column("oth_pay", BigInteger, server_default="0"),
    # yearly eligible base per tier after the year's last claim (r1, r2, r3)
    Column("ci_base", BigInteger),
    Column("assistance_base", BigInteger),
    Column("tilt_base", BigInteger),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

reversals = Table(
    "reversals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", Integer, ForeignKey("claims.seq"), nullable=False, unique=True),
    Column("reason", String(300)),
    Column("result", Text, nullable=False),  # the JSON returned, returned again on a repeat
    Column("reversed_at", DateTime(timezone=True), nullable=False),
    Column("reversed_by", Integer),
)

revisions = Table(
    "revisions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("psn_no", ID, ForeignKey("persons.psn_no"), nullable=False),
    Column("cause", String(20), nullable=False),  # settlement | identity.add | identity.end
    Column("seq", Integer, ForeignKey("claims.seq"), index=True),  # the settlement that caused it
    Column("identity_id", Integer, ForeignKey("identities.id")),  # the identity added or ended
    Column("revised_at", DateTime(timezone=True), nullable=False),
    Column("revised_by", Integer),
)

adjustments = Table(
    "adjustments", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # what caused it: a reversal, or a revision of the year (exactly one of the two)
    Column("reversal_id", Integer, ForeignKey("reversals.id"), index=True),
    Column("revision_id", Integer, ForeignKey("revisions.id"), index=True),
    Column("seq", Integer, ForeignKey("claims.seq"), nullable=False, index=True),
    Column("hifmi_pay", BigInteger),
    Column("maf_pay", BigInteger),
    Column("tilt_pay", BigInteger),
    Column("oth_pay", BigInteger, server_default="0"),
    Column("payments", Text),  # each further payer's change, by payer id (JSON)
)

api_keys = Table(
    "api_keys", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("role", String(20), nullable=False),
    Column("hospital_code", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

audit_log = Table(
    "audit_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("key_id", Integer),
    Column("role", String(20)),
    Column("action", String(40), nullable=False),
    Column("psn_no", ID),
    Column("setl_id", ID),
    Column("detail", String(500)),
    Index("ix_audit_log_psn_no", "psn_no"),
)

__all__ = ["metadata", "persons", "identities", "claims", "settlements", "person_years", "reversals",
           "revisions", "adjustments", "api_keys", "audit_log", "TIER_COLUMNS", "UniqueConstraint"]
