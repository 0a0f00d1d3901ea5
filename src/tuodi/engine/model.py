"""The engine's inputs and outputs: persons, identities, claims, settlements. Money in fen."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Person:
    """An insured person (参保人). `insutype` 390 resident (城乡居民), 310 employee (职工).

    `psn_name`, `tel`, `addr` and `certno` are personal data the engine never reads: they are
    carried for the early-warning lists whose clause sends contact data (哈政办规〔2022〕16号 三(四)).
    """

    psn_no: str
    insutype: str = "390"
    brdy: dt.date | None = None
    admdvs: str | None = None
    late_stage_major_disease: bool = False
    psn_name: str | None = None
    tel: str | None = None
    addr: str | None = None
    certno: str | None = None
    #: household number (家庭编号): one family for payers whose unit is `family`; None: alone
    hh_no: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    """An identity held (救助对象身份), inclusive dates; None is open."""

    psn_no: str
    category: str
    begndate: dt.date | None = None
    enddate: dt.date | None = None

    def holds_on(self, day: dt.date) -> bool:
        return (self.begndate is None or self.begndate <= day) and (
            self.enddate is None or day <= self.enddate
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """One settlement (结算) as the hospital reports it; amounts in fen.

    `hifmi_pay` is None when critical-illness insurance is to be computed by Tuodi.
    """

    setl_id: str
    psn_no: str
    setl_date: dt.date
    med_type: str
    medfee_sumamt: int
    inscp_scp_amt: int
    hifp_pay: int
    hifmi_pay: int | None = None
    referred: bool = True
    in_province: bool = True
    out_of_area: bool = False
    #: the out-of-scope costs judged reasonable (政策外合理费用, 衢政办发〔2023〕1号 三(二)): only
    #: payers whose base is `reasonable` count it
    reasonable_ownpay_amt: int = 0
    #: diagnosis (病种编号/名称) as the hospital sends it, carried to reports
    dise_no: str | None = None
    dise_name: str | None = None

    @property
    def ci_base(self) -> int:
        """Critical-illness base r1 (大病保险 报销基数): in-scope cost less basic insurance."""
        return self.inscp_scp_amt - self.hifp_pay


@dataclass(slots=True)
class Step:
    """How one tier's amount on one claim was found: the tracer of the explanation."""

    tier: str            # the payer's key in the chain (tuodi.policy.payers)
    amount: int | None
    rule_id: str | None = None
    rule_name: str | None = None
    category: str | None = None
    base_claim: int | None = None
    base_year: int | None = None
    threshold: int | None = None
    ratios: list[tuple[int, int]] = field(default_factory=list)  # (segment start fen, bp)
    cap: int | None = None
    trigger_line: int | None = None
    annual_amount: int | None = None
    paid_before: int | None = None
    refs: list[str] = field(default_factory=list)
    value_dates: list[dt.date] = field(default_factory=list)
    note: str | None = None
    #: annual amount less what the tier already paid: what the claim would take with room enough
    due: int | None = None
    #: the part of `due` past this claim's own base, given to earlier claims: (setl_id, fen)
    passed_on: tuple[tuple[str, int], ...] = ()
    #: the part of `due` no claim of the year had room for (a later claim may still take it)
    unplaced: int = 0
    #: what later claims of the year gave this claim (补付 under the own-cost rule): (setl_id, fen)
    top_ups: tuple[tuple[str, int], ...] = ()


@dataclass(slots=True)
class Settlement:
    """The split of one claim's bill (settlements file row) and its explanation."""

    setl_id: str
    psn_no: str
    setl_date: dt.date
    category: str | None
    medfee_sumamt: int
    inscp_scp_amt: int
    hifp_pay: int
    hifmi_pay: int | None
    maf_pay: int | None
    tilt_pay: int | None
    steps: list[Step] = field(default_factory=list)
    #: what the further payers after tilted assistance paid, their sum (其他支出); 0 where the
    #: policy declares none
    oth_pay: int | None = 0

    @property
    def fund_pay_sumamt(self) -> int | None:
        parts = (self.hifp_pay, self.hifmi_pay, self.maf_pay, self.tilt_pay, self.oth_pay)
        return None if any(p is None for p in parts) else sum(parts)  # type: ignore[arg-type]

    @property
    def psn_part_amt(self) -> int | None:
        fund = self.fund_pay_sumamt
        return None if fund is None else self.medfee_sumamt - fund


@dataclass(slots=True)
class Undefined:
    """A note that a rule the seeds do not quantify left amounts empty (one per rule and tier)."""

    tier: str
    rule_id: str
    category: str | None
    reason: str
