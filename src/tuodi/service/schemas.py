"""Request bodies of the API: the contract's file rows as JSON, checked field by field.

Field checks reuse `tuodi.io`'s parsers, so a row is refused over HTTP for the same reasons, in
the same words, as in a file. Amounts are strings of yuan (`"1234.50"`); a JSON number is refused
(CONTRACT.md, Who sees what: "a JSON number for an amount is refused (422)"): `0.1 + 0.2` must not
reach money as a float. Unknown fields are refused: a misspelt `hifmi_pay` must not silently become
"compute it".
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from tuodi.io.tables import (parse_amount_fen, parse_bool, parse_category, parse_certno, parse_date,
                             parse_insutype, parse_med_type)

MAX_FEN = 10**12  # ten billion yuan: above any real bill, well inside BIGINT sums
AMOUNT_PATTERN = r"^[0-9]{1,10}(\.[0-9]{1,2})?$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"


def _reject_bad_text(v: str) -> str:
    try:
        v.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid UTF-8 text") from None
    if any(unicodedata.category(ch) == "Cc" for ch in v):
        raise ValueError("control characters are not allowed")
    return v


def _no_number(v: Any) -> Any:
    if isinstance(v, (bool, int, float)):
        raise ValueError(f"{v!r} is a JSON number: an amount is a string of yuan, e.g. \"1234.50\"")
    return v


def _amount(v: str) -> int:
    v = v.strip()
    try:
        fen = parse_amount_fen(v)
    except (ValueError, InvalidOperation) as e:
        msg = e.args[0] if e.args and isinstance(e.args[0], str) else "not an amount in yuan"
        raise ValueError(f"{v!r}: {msg}") from None
    if fen >= MAX_FEN:
        raise ValueError(f"{v!r}: too large (at most 9999999999.99 yuan)")
    return fen


def _wrap(parse):
    def check(v: str):
        try:
            return parse(v.strip())
        except (ValueError, KeyError) as e:
            raise ValueError(f"{v!r}: {e.args[0] if e.args else 'invalid'}") from None
    return check


def _flag(v: Any) -> Any:
    if isinstance(v, str):
        return _wrap(parse_bool)(v)
    return v


Amount = Annotated[str, BeforeValidator(_no_number), AfterValidator(_reject_bad_text), AfterValidator(_amount),
                   Field(json_schema_extra={"pattern": AMOUNT_PATTERN, "examples": ["1234.50"]})]
Day = Annotated[str, AfterValidator(_reject_bad_text), AfterValidator(_wrap(parse_date)),
                Field(json_schema_extra={"format": "date", "examples": ["2023-05-01"]})]
Identifier = Annotated[str, Field(pattern=ID_PATTERN, examples=["HB23-0001"])]
Flag = Annotated[bool, BeforeValidator(_flag)]
Text = Annotated[str, Field(max_length=300), AfterValidator(_reject_bad_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClaimBody(Strict):
    """A claims-file row (结算申请)."""

    setl_id: Identifier
    psn_no: Identifier
    setl_date: Day
    med_type: Annotated[str, AfterValidator(_reject_bad_text), AfterValidator(_wrap(parse_med_type)),
                        Field(examples=["inpatient"], json_schema_extra={
                            "enum": ["inpatient", "chronic", "outpatient", "21", "22", "23", "24",
                                     "14", "11", "12", "13"]})]
    medfee_sumamt: Amount
    fulamt_ownpay_amt: Amount | None = None
    overlmt_selfpay: Amount | None = None
    preselfpay_amt: Amount | None = None
    inscp_scp_amt: Amount | None = None
    hifp_pay: Amount
    hifmi_pay: Amount | None = None
    referred: Flag | None = None
    in_province: Flag | None = None
    out_of_area: Flag | None = None
    fixmedins_code: Identifier | None = None


class PersonBody(Strict):
    """A persons-file row; `psn_no` may be left out (it is in the path)."""

    psn_no: Identifier | None = None
    certno: Annotated[str, AfterValidator(_reject_bad_text), AfterValidator(_wrap(parse_certno)),
                      Field(json_schema_extra={"pattern": r"^[0-9]{17}[0-9X]$"})] | None = None
    insutype: Annotated[str, AfterValidator(_wrap(parse_insutype)),
                        Field(json_schema_extra={"enum": ["390", "310"]})] | None = None
    brdy: Day | None = None
    psn_name: Annotated[str, Field(max_length=100), AfterValidator(_reject_bad_text)] | None = None
    tel: Annotated[str, Field(max_length=40), AfterValidator(_reject_bad_text)] | None = None
    addr: Text | None = None
    admdvs: Annotated[str, Field(pattern=r"^[0-9]{6,12}$")] | None = None
    late_stage_major_disease: Flag | None = None
    #: household number (家庭编号): one family for payers whose unit is `family`; left out: alone
    hh_no: Identifier | None = None


class IdentityBody(Strict):
    """An identities-file row, and the department that recognised it (认定部门)."""

    psn_no: Identifier | None = None
    category: Annotated[str, AfterValidator(_reject_bad_text), AfterValidator(_wrap(parse_category)),
                        Field(examples=["dibao", "低保对象"])]
    begndate: Day | None = None
    enddate: Day | None = None
    source_dept: Text | None = None


class EndIdentityBody(Strict):
    """Ending an identity: its last day, and why (the row is kept)."""

    enddate: Day
    reason: Text | None = None


class ReversalBody(Strict):
    reason: Text | None = None


def as_date(v: Any) -> dt.date | None:
    return v if v is None or isinstance(v, dt.date) else parse_date(v)


class RefusalItem(BaseModel):
    field: str = Field(description="the field to fix (`body` for the body as a whole)")
    loc: list[str] | None = Field(None, description="where in the request, as FastAPI locates it")
    msg: str


class Refusal(BaseModel):
    """Every refusal (4xx, 503): a sentence to show, and for bad input (422) the fields to fix."""

    message: str
    detail: list[RefusalItem] | None = None
