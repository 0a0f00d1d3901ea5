"""The shape of a policy file (政策参数), validated with pydantic.

A policy is one jurisdiction's parameters as dated values: every value is in force from a date
and carried forward until a later value replaces it, and cites the clause it comes from. A
value the seed documents name but do not quantify is written `undefined`; `null` for a cap means
no cap (不设封顶线). Money is in yuan with at most two decimals, ratios are fractions with at most
four decimals (so that every computation can be done in integers: fen x basis points).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MedType = Literal["inpatient", "chronic", "outpatient"]
MED_TYPES: tuple[str, ...] = ("inpatient", "chronic", "outpatient")
Undefined = Literal["undefined"]
UNDEFINED = "undefined"

#: The identity categories of the contract (CONTRACT.md, identities file) and their Chinese names.
CATEGORY_NAMES: dict[str, tuple[str, ...]] = {
    "extreme_poverty": ("特困人员", "特困供养人员", "特困供养对象"),
    "dibao": ("低保对象", "城乡最低生活保障对象"),
    "orphan": ("孤儿",),
    "unsupported_child": ("事实无人抚养儿童",),
    "hiv_child": ("艾滋病病毒感染儿童",),
    "near_dibao": ("低保边缘家庭成员",),
    "low_income": ("低收入家庭成员",),
    "monitored_rural": ("纳入监测范围的农村易返贫致贫人口", "农村易返贫致贫人口", "监测对象"),
    "returned_poverty": ("返贫致贫人口",),
    "illness_poverty": ("因病致贫重病患者",),
    "expenditure_poverty": ("支出型贫困家庭成员",),
    "severe_disability": ("低收入家庭中的重度残疾人",),
    "entitled_veteran": ("重点优抚对象",),
    "registered_poor": ("建档立卡贫困人口",),
    "lifted_poverty": ("脱贫人口",),
    "hardship_worker": ("困难职工",),          # recognised by the trade union (衢政办发〔2023〕1号 三(三))
    "disabled": ("残疾人", "持证残疾人"),        # 残联's members (衢政办发〔2023〕1号 三(三))
}
CATEGORIES: tuple[str, ...] = tuple(CATEGORY_NAMES)

_STRICT = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _money(v: Decimal) -> Decimal:
    if v < 0:
        raise ValueError("must not be negative")
    if v != v.quantize(Decimal("0.01")):
        raise ValueError("must have at most two decimals (yuan and fen)")
    return v


def _ratio(v: Decimal) -> Decimal:
    if not (0 <= v <= 1):
        raise ValueError("a ratio is a fraction between 0 and 1 (0.65 for 65%)")
    if v != v.quantize(Decimal("0.0001")):
        raise ValueError("a ratio has at most four decimals")
    return v


class Segment(BaseModel):
    """One segment of a segmented ratio (分段支付): the ratio paid on the base from `from` up."""

    model_config = _STRICT
    start: Decimal = Field(alias="from")
    ratio: Decimal

    _v_start = field_validator("start")(classmethod(lambda cls, v: _money(v)))
    _v_ratio = field_validator("ratio")(classmethod(lambda cls, v: _ratio(v)))


class _Dated(BaseModel):
    model_config = _STRICT
    start: dt.date = Field(alias="from")
    ref: str = Field(min_length=1)


class DatedMoney(_Dated):
    value: Union[Decimal, Undefined]

    @field_validator("value")
    @classmethod
    def _check(cls, v):
        return v if v == UNDEFINED else _money(v)


class DatedCap(_Dated):
    """A yearly cap (年度最高限额): `null` is no cap (不设封顶线)."""

    value: Union[Decimal, None, Undefined]

    @field_validator("value")
    @classmethod
    def _check(cls, v):
        return v if v is None or v == UNDEFINED else _money(v)


class DatedRatio(_Dated):
    """A ratio (比例) or a list of segments (分段比例)."""

    value: Union[Decimal, list[Segment], Undefined]

    @field_validator("value")
    @classmethod
    def _check(cls, v):
        if isinstance(v, list):
            starts = [s.start for s in v]
            if not v or starts != sorted(set(starts)):
                raise ValueError("segments must be a non-empty list in increasing order of `from`")
            return v
        return v if v == UNDEFINED else _ratio(v)


def _dated_list(values: list) -> list:
    starts = [v.start for v in values]
    if not values:
        raise ValueError("needs at least one dated value")
    if starts != sorted(set(starts)):
        raise ValueError("dated values must be in increasing order of `from`, each date once")
    return values


DatedMoneyList = Annotated[list[DatedMoney], Field(min_length=1)]
DatedCapList = Annotated[list[DatedCap], Field(min_length=1)]
DatedRatioList = Annotated[list[DatedRatio], Field(min_length=1)]


class Document(BaseModel):
    """A source document: its number (文号), title and the seed file it was read from."""

    model_config = _STRICT
    number: str
    title: str
    seed: str | None = None
    date: dt.date | None = None


class InForce(BaseModel):
    model_config = _STRICT
    start: dt.date = Field(alias="from")
    end: dt.date | None = Field(default=None, alias="to")
    ref: str


class Trigger(BaseModel):
    """A line that must be crossed before a rule pays (tilted assistance, 倾斜救助): the yearly
    base must exceed `share` x the published statistic of `lag` years before the claim."""

    model_config = _STRICT
    statistic: Literal["per_capita_disposable_income", "average_wage"]
    lag: int = 1
    share: DatedRatioList


class Rule(BaseModel):
    """One schedule of one tier (起付标准 + 比例 or 分段比例 + 年度限额) and whom it covers."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    #: optional (a further payer's rule in an overlay may give only its id)
    name: str = ""
    #: `general`: everyone insured (no identity needed); otherwise the categories it serves.
    categories: Union[Literal["general"], list[str]]
    insutypes: list[Literal["390", "310"]] | None = None
    med_types: list[MedType]
    #: med_types the seed names as covered without giving numbers: the amount is empty.
    undefined_med_types: list[MedType] = []
    threshold: DatedMoneyList
    ratio: DatedRatioList
    cap: DatedCapList
    trigger: Trigger | None = None
    #: counts only claims with `referred` and `in_province` (哈政办规〔2022〕16号 三(二)2).
    requires_referral_in_province: bool = False

    _v_dates = field_validator("threshold", "ratio", "cap")(classmethod(lambda cls, v: _dated_list(v)))

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, v):
        if v != "general":
            bad = [c for c in v if c not in CATEGORY_NAMES]
            if bad:
                raise ValueError(f"unknown categories {bad}; known: {', '.join(CATEGORIES)}")
        return v

    @model_validator(mode="after")
    def _check(self):
        if set(self.med_types) & set(self.undefined_med_types):
            raise ValueError("a med_type cannot be both covered and undefined")
        return self


class Tier(BaseModel):
    model_config = _STRICT
    name: str
    ref: str
    #: national fund code (基金支付类型) for the detail file, where the policy gives one
    fund_code: str | None = None
    rules: list[Rule] = []
    #: Harbin 三(六)3: out-of-area claims without a referral are not eligible.
    exclude_unreferred_out_of_area: bool = False
    exclude_ref: str | None = None


class FurtherPayer(BaseModel):
    """A further payer after tilted assistance (梯次减负, special funds; CONTRACT.md "Further payers"):
    a department's or body's assistance, charity, or a fund such as Quzhou's 医保暖心无忧专项基金.

    `base`: `in_scope` pays on the in-scope self-pay left after every earlier payer; `reasonable`
    on that plus the claim's `reasonable_ownpay_amt` not yet paid. `unit`: `family` keeps the
    yearly base, the amount paid and the cap per household (`hh_no`). Its rules have the shape
    and meaning of the assistance rules; a payer with no rules pays nothing (a body a seed names
    without saying whom it pays or how much)."""

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    name: str
    fund_code: str | None = None
    base: Literal["in_scope", "reasonable"] = "in_scope"
    unit: Literal["person", "family"] = "person"
    ref: str | None = None
    rules: list[Rule] = []
    exclude_unreferred_out_of_area: bool = False
    exclude_ref: str | None = None
    #: the most of the fund that may be fiscal money (衢政办发〔2023〕1号 三(四): 原则上不超过40%)
    fiscal_share_limit: DatedRatioList | None = None


class Lookback(BaseModel):
    """Costs before recognition counted for identities granted on application (依申请救助)."""

    model_config = _STRICT
    category: str
    months: int | None = None
    days: int | None = None
    med_types: list[MedType]
    ref: str

    @model_validator(mode="after")
    def _check(self):
        if (self.months is None) == (self.days is None):
            raise ValueError("give exactly one of `months` or `days`")
        if self.category not in CATEGORY_NAMES:
            raise ValueError(f"unknown category {self.category!r}")
        return self


class Categories(BaseModel):
    model_config = _STRICT
    #: categories this jurisdiction recognises; an identity of another category is ignored.
    recognised: list[str]
    #: identity -> the category whose rules it follows (Qinghai: 事实无人抚养儿童 -> 孤儿).
    follows: dict[str, str] = {}
    follows_ref: str | None = None
    ref: str

    @model_validator(mode="after")
    def _check(self):
        for c in [*self.recognised, *self.follows, *self.follows.values()]:
            if c not in CATEGORY_NAMES:
                raise ValueError(f"unknown category {c!r}; known: {list(CATEGORIES)}")
        return self


class SubsidyRule(BaseModel):
    """Premium subsidy (资助参保): the share of the individual contribution paid."""

    model_config = _STRICT
    id: str
    name: str | None = None
    categories: list[str]
    share: DatedRatioList
    #: only persons under this age on 1 January of the year (Qinghai: minors, under 18)
    under_age: int | None = None
    #: the share holds only until this date (transition periods, 过渡期)
    until: dt.date | None = None


class Contribution(BaseModel):
    """Individual contribution and fiscal subsidy figures (筹资标准)."""

    model_config = _STRICT
    individual: DatedMoneyList | None = None
    fiscal_subsidy: DatedMoneyList | None = None
    fiscal_split: dict[str, dict[str, Decimal]] = {}
    ref: str | None = None


class WarningRule(BaseModel):
    """An early-warning rule (双预警): a yearly figure, a line, and who is told."""

    model_config = _STRICT
    id: str
    name: str
    measure: str
    line: DatedMoneyList | None = None
    statistic: Literal["per_capita_disposable_income", "average_wage"] | None = None
    #: the statistic of `lag` years before the year looked at (上年: 1)
    lag: int = 1
    share: Decimal | None = None
    categories: list[str] | None = None
    insutypes: list[Literal["390", "310"]] | None = None
    notify: list[str] = Field(min_length=1)
    #: the push carries contact data (address, telephone) for the departments it goes to
    contact: bool = False
    contact_ref: str | None = None
    ref: str

    @model_validator(mode="after")
    def _check(self):
        if (self.line is None) == (self.statistic is None):
            raise ValueError("a warning rule has either a `line` or a `statistic` with a `share`")
        if self.statistic is not None and self.share is None:
            raise ValueError("a warning rule on a statistic needs its `share` (1 for the whole figure)")
        if self.measure not in WARNING_MEASURES:
            raise ValueError(f"unknown measure {self.measure!r}; known: {', '.join(WARNING_MEASURES)}")
        for c in self.categories or ():
            if c not in CATEGORY_NAMES:
                raise ValueError(f"unknown category {c!r}")
        return self


#: the yearly figures a warning rule can look at (tuodi.programs.warnings computes them)
WARNING_MEASURES = ("burden_after_insurance", "critical_illness_started",
                    "self_paid_in_scope_after_assistance")


class Grant(BaseModel):
    """A one-off grant (一次性救助), e.g. Changzhi's 大病关怀救助."""

    model_config = _STRICT
    id: str
    name: str
    categories: list[str]
    #: person-level conditions (columns of the persons file) that must be true
    requires: list[Literal["late_stage_major_disease"]] = []
    amount: DatedMoneyList
    once_per_person: bool = True


class RiskLevel(BaseModel):
    """One risk level (风险等级) of an early-warning scheme: its line and who is told."""

    model_config = _STRICT
    id: str
    name: str
    line: DatedMoneyList
    notify: list[str] = []


class RiskLevels(BaseModel):
    """Risk levels a seed asks for (衢州 三(一) 按风险等级高低将人员信息共享给…相关部门): the levels,
    or `undefined` when the seed names them without lines."""

    model_config = _STRICT
    levels: Union[list[RiskLevel], Undefined]
    ref: str


class Target(BaseModel):
    model_config = _STRICT
    id: str
    name: str
    op: Literal[">=", "<="]
    value: Decimal
    year: int
    ref: str


class PolicyFile(BaseModel):
    """A policy file as written (a jurisdiction, a provincial part, or an overlay, merged first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    name: str
    include: list[str] = []
    documents: dict[str, Document] = {}
    in_force: InForce | None = None
    categories: Categories | None = None
    lookback: list[Lookback] = []
    critical_illness: Tier | None = None
    assistance: Tier | None = None
    tilt: Tier | None = None
    #: further payers after tilted assistance, in the order they pay (CONTRACT.md "Further payers")
    payers: list[FurtherPayer] = []
    subsidy: list[SubsidyRule] = []
    contribution: Contribution | None = None
    warnings: list[WarningRule] = []
    grants: list[Grant] = []
    targets: list[Target] = []
    risk_levels: RiskLevels | None = None
    notes: list[str] = []
