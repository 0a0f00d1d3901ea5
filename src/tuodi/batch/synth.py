"""Synthetic populations (合成人口): a city's insured persons, their identities and a year of claims
in the contract's file formats, deterministic for a seed, shaped so that every tier the seeds
are about fires (`tuodi synth`; the profile of what a population exercises is
`tuodi.batch.profile`).

The shapes are plausible, not estimates. Each assumption is a named field of `Shape` or a row of
a table below, so a test or a what-if study can change it.

**Persons.** Families (`hh_no`, 家庭编号) of 1-6 persons (shares 15/30/30/15/7/3%, mean 2.7); a
family lives in one county-level division (`admdvs`, GB/T 2260 codes and names in `COUNTIES`,
drawn by rough population weights). Ages 0-95 (gamma, a little older than the population: older
people claim more). 80% residents (城乡居民, insutype 390), 20% employees (职工, 310); identity
holders are residents with probability 0.95. A valid 18-character `certno` (GB 11643) from the
county code, birth date and a sequence.

**Identities (救助对象身份).** Shares of persons in `IDENTITY_SHARES` (only the categories the
policy recognises are written). Household categories (低保, 低保边缘, 低收入, 脱贫人口, 监测对象,
返贫致贫, 支出型贫困) are granted to whole families; the rural ones (脱贫人口, 监测对象, 返贫致贫) 3x as
often in counties (县, 县级市) as in urban districts. Individual categories (特困, 孤儿, 事实无人抚养
儿童 (under 18), 重度残疾, 重点优抚, 因病致贫重病患者) are drawn per person, independently of the
household ones, so that persons with several identities occur. 20% of identities begin during the
year (with an `apply_date` 10-60 days before recognition), 20% hold from an open `begndate`, the
rest from a date in the previous five years; 10% end during the year.

**Conditions and diagnoses.** `DISEASES` is a small table of ICD-10 codes (`dise_no`, `dise_name`)
with cost profiles. A person has at most one chronic or serious condition, with the table's
prevalence scaled by age (older: more), 2.5x for identity holders (poverty and illness go
together), and a serious condition for 80% of 因病致贫重病患者 (the category is defined by it).
Claims per person are Poisson with a gamma rate (mean `claims_per_person`, shape
`claims_dispersion`), the rate raised by the condition's `claims_factor` (dialysis is monthly,
leukaemia is treated in cycles) and by `identity_claim_factor` for holders. 65% of a condition
holder's claims are for the condition (its own inpatient / chronic / outpatient split); the others,
and everyone else's, are common claims (outpatient 78%, chronic 14%, inpatient 8%) with a common
diagnosis. Persons with a serious condition have `late_stage_major_disease` with probability 0.3.

**Costs.** Total cost log-normal with the diagnosis's median per med_type and sigma (capped at
3,000,000 yuan); 全自费 about 6% of the cost (a little more in hospital), 超限价 on 15% of claims,
先行自付 about 4%; `inscp_scp_amt` is what is left; `reasonable_ownpay_amt` (政策外合理费用) is a
third of the 全自费 part on inpatient claims, 0 elsewhere.

**Basic insurance (`hifp_pay`), a stand-in for every city** (the seeds do not give it):
residents inpatient 70% above an 800-yuan deductible per stay, chronic 60%, outpatient 50%;
employees inpatient 85% above 1,200, chronic 75%, outpatient 60%; each person's yearly total
capped (统筹基金年度最高支付限额) at 200,000 yuan for residents and 300,000 for employees, so the
heaviest years reach the tiers after it as real ones do. Rounded down to the fen.

**Upstream critical-illness insurance (`hifmi_pay`).** The national platform settles it before
Tuodi sees a claim. `Shape.upstream`:

- `given` (the default): every claim carries `hifmi_pay`, computed as Tuodi computes
  critical-illness insurance (per person and calendar year on the cumulative base, claim by claim,
  the largest entitlement of the person's rules) under the policy's own rules where the seeds
  quantify them (Heilongjiang 黑医保发〔2021〕41号: 2021 12,000 / 60% / cap 500,000; from 2022
  12,000, 65% to 20,000, 70% to 50,000, 75% above, no cap; 脱贫人口 6,000 / 65%; Qinghai 12,000 /
  80%, 特困/低保/返贫致贫 6,000 / 85%) and under STAND-INS where they do not (`STAND_INS`; they
  live only here, never in the policy files):
  * 职工大额医疗费用补助 (employees; no seed gives it): 80% of the yearly base above 12,000 yuan,
    cap 400,000 — shaped like common city schemes, not any city's;
  * the critical-illness tilt for 特困人员、低保对象、返贫致贫人口 that Heilongjiang names without
    numbers (and Changzhi's 贫困人口 ratio): the national rule of 国办发〔2021〕42号 三(二) (起付线
    降低50%, 支付比例提高5个百分点, 取消封顶线) applied to the residents' rule;
  * a residents' rule a seed leaves unquantified (Changzhi's ratio and cap, Quzhou's whole rule):
    12,000 yuan, 60% (医保发〔2019〕30号's 60% floor), no cap.
- `computed`: `hifmi_pay` empty: Tuodi computes it (undefined rules stay empty, as the contract says).
- `mixed`: each claim given with probability `mixed_given` (as above), else empty: the differential
  tests compare the engine and the columnar path on both at once.

`hifmi_given` (default 0) further gives an arbitrary amount (0-30% of the claim's base) on that
share of claims, in any mode: a hospital sending less than the rule, which the tiers must take as
final.

**Where.** `fixmedins_code` (定点医药机构, `H` + county code + number): in the city, tertiary hospitals
in the urban districts, a county hospital and primary clinics in each county; inpatient and serious
claims mostly tertiary. 6% of claims (3x for a serious condition's stays) are out of the pooling
area (异地就医), 45% of those outside the province; 30% of out-of-area claims and 3% of the others
are not referred (未按规定转诊).

**Files.** Claims are written in `setl_date` order (as an export is), `setl_id` numbered in that
order. Amounts are decimal(18,2) in Parquet, two-decimal strings in CSV.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from tuodi.policy import Policy
from tuodi.policy.schema import PolicyFile

#: share of insured persons holding each identity (household categories: share of persons in
#: such families); rough orders of magnitude for a northern Chinese city, not statistics
IDENTITY_SHARES = {
    "dibao": 0.035, "extreme_poverty": 0.006, "near_dibao": 0.012, "monitored_rural": 0.006,
    "illness_poverty": 0.002, "lifted_poverty": 0.015, "low_income": 0.008,
    "expenditure_poverty": 0.002, "orphan": 0.0004, "unsupported_child": 0.0004,
    "severe_disability": 0.004, "entitled_veteran": 0.002, "returned_poverty": 0.001,
}
HOUSEHOLD_CATEGORIES = ("dibao", "near_dibao", "low_income", "lifted_poverty", "monitored_rural",
                        "returned_poverty", "expenditure_poverty")
RURAL_CATEGORIES = ("lifted_poverty", "monitored_rural", "returned_poverty")
MINOR_CATEGORIES = ("orphan", "unsupported_child")
FAMILY_SIZES = (0.15, 0.30, 0.30, 0.15, 0.07, 0.03)   # 1 .. 6 persons

#: county-level divisions (GB/T 2260 code, name, rough weight) of each jurisdiction; Qinghai's
#: policy is provincial: Xining, Haidong and Golmud stand for it
COUNTIES: dict[str, tuple[tuple[str, str, int], ...]] = {
    "harbin": (
        ("230102", "道里区", 100), ("230103", "南岗区", 110), ("230104", "道外区", 70),
        ("230108", "平房区", 20), ("230109", "松北区", 30), ("230110", "香坊区", 90),
        ("230111", "呼兰区", 60), ("230112", "阿城区", 50), ("230113", "双城区", 70),
        ("230123", "依兰县", 30), ("230124", "方正县", 20), ("230125", "宾县", 50),
        ("230126", "巴彦县", 55), ("230127", "木兰县", 25), ("230128", "通河县", 20),
        ("230129", "延寿县", 25), ("230183", "尚志市", 55), ("230184", "五常市", 80)),
    "jiamusi": (
        ("230803", "向阳区", 25), ("230804", "前进区", 20), ("230805", "东风区", 20),
        ("230811", "郊区", 25), ("230822", "桦南县", 40), ("230826", "桦川县", 20),
        ("230828", "汤原县", 25), ("230881", "同江市", 18), ("230882", "富锦市", 40),
        ("230883", "抚远市", 12)),
    "qinghai": (
        ("630102", "城东区", 40), ("630103", "城中区", 35), ("630104", "城西区", 35),
        ("630105", "城北区", 35), ("630106", "湟中区", 45), ("630121", "大通回族土族自治县", 45),
        ("630123", "湟源县", 14), ("630202", "乐都区", 26), ("630203", "平安区", 12),
        ("630222", "民和回族土族自治县", 35), ("630223", "互助土族自治县", 35), ("632801", "格尔木市", 22)),
    "changzhi": (
        ("140403", "潞州区", 70), ("140404", "上党区", 35), ("140405", "屯留区", 26),
        ("140406", "潞城区", 22), ("140423", "襄垣县", 25), ("140425", "平顺县", 15),
        ("140426", "黎城县", 16), ("140427", "壶关县", 28), ("140428", "长子县", 35),
        ("140429", "武乡县", 18), ("140430", "沁县", 15), ("140431", "沁源县", 16)),
    "quzhou": (
        ("330802", "柯城区", 55), ("330803", "衢江区", 40), ("330822", "常山县", 30),
        ("330824", "开化县", 30), ("330825", "龙游县", 36), ("330881", "江山市", 50)),
}
#: where out-of-area claims are treated: (in the province, outside it) county codes
AWAY = {
    "harbin": (("230202", "231002", "230602"), ("110102", "110105", "310104", "210102")),
    "jiamusi": (("230102", "230103", "230110"), ("110102", "110105", "210102")),
    "qinghai": (("632802", "632123"), ("620102", "110102", "610113")),
    "changzhi": (("140105", "140106"), ("110102", "110105", "410105")),
    "quzhou": (("330106", "330102"), ("310104", "310115", "360102")),
}
ADMDVS = {"harbin": "230100", "jiamusi": "230800", "qinghai": "630100", "changzhi": "140400",
          "quzhou": "330800"}

# Diagnoses (ICD-10) and their cost profiles. kind: acute (a common claim's diagnosis), chronic
# or serious (a person's condition). prevalence: persons per million with the condition in a year
# (before the age and identity factors). split: the condition's own claims as inpatient, chronic,
# outpatient. median: cost per claim in yuan as inpatient, chronic, outpatient; sigma of its log.
DISEASES = (
    # code     name                     kind      prev.   factor split              median                 sigma
    ("J06.9", "急性上呼吸道感染",        "acute",        0, 1.0, (0, 0, 1), (3_500, 300, 120), 0.7),
    ("K29.7", "胃炎",                    "acute",        0, 1.0, (0, 0, 1), (5_000, 400, 180), 0.8),
    ("M54.5", "腰痛",                    "acute",        0, 1.0, (0, 0, 1), (6_000, 400, 150), 0.8),
    ("J18.9", "肺炎",                    "acute",        0, 1.0, (0, 0, 1), (7_000, 500, 250), 0.7),
    ("K80.2", "胆囊结石",                "acute",        0, 1.0, (0, 0, 1), (14_000, 500, 200), 0.6),
    ("H25.9", "老年性白内障",            "acute",        0, 1.0, (0, 0, 1), (6_500, 300, 150), 0.5),
    ("K35.8", "急性阑尾炎",              "acute",        0, 1.0, (0, 0, 1), (11_000, 300, 200), 0.5),
    ("S72.0", "股骨颈骨折",              "acute",        0, 1.0, (0, 0, 1), (45_000, 600, 300), 0.6),
    ("I10",   "原发性高血压",            "chronic", 150_000, 1.3, (0.04, 0.56, 0.40), (6_000, 350, 150), 0.7),
    ("E11.9", "2型糖尿病",               "chronic",  80_000, 1.4, (0.06, 0.55, 0.39), (8_000, 500, 200), 0.7),
    ("J44.9", "慢性阻塞性肺疾病",        "chronic",  20_000, 1.6, (0.20, 0.50, 0.30), (10_000, 600, 250), 0.7),
    ("I25.1", "动脉硬化性心脏病",        "chronic",  30_000, 1.5, (0.12, 0.50, 0.38), (25_000, 500, 200), 0.8),
    ("I63.9", "脑梗死",                  "chronic",   8_000, 1.8, (0.30, 0.50, 0.20), (16_000, 700, 250), 0.7),
    ("F20.9", "精神分裂症",              "chronic",   5_000, 1.6, (0.15, 0.70, 0.15), (12_000, 800, 200), 0.6),
    ("N18.5", "慢性肾脏病5期",           "chronic",     800, 2.5, (0.10, 0.85, 0.05), (20_000, 6_000, 300), 0.5),
    ("C34.9", "支气管和肺恶性肿瘤",      "serious",   1_500, 2.0, (0.45, 0.45, 0.10), (35_000, 12_000, 500), 0.8),
    ("C16.9", "胃恶性肿瘤",              "serious",   1_000, 2.0, (0.50, 0.40, 0.10), (40_000, 6_000, 400), 0.8),
    ("C50.9", "乳房恶性肿瘤",            "serious",   1_500, 2.0, (0.40, 0.50, 0.10), (25_000, 8_000, 400), 0.8),
    ("C22.0", "肝细胞癌",                "serious",     700, 2.0, (0.50, 0.40, 0.10), (45_000, 10_000, 500), 0.8),
    ("C92.0", "急性髓系白血病",          "serious",     120, 2.5, (0.60, 0.35, 0.05), (90_000, 15_000, 600), 0.7),
    ("D66",   "遗传性凝血因子Ⅷ缺乏",     "serious",      50, 2.0, (0.15, 0.80, 0.05), (30_000, 25_000, 500), 0.6),
    ("I61.9", "脑出血",                  "serious",     800, 1.8, (0.45, 0.40, 0.15), (60_000, 1_000, 300), 0.7),
    ("I21.9", "急性心肌梗死",            "serious",   1_200, 1.6, (0.35, 0.45, 0.20), (50_000, 600, 250), 0.6),
)
_CODES = [d[0] for d in DISEASES]
#: the diagnosis of a common claim, by med_type (inpatient, chronic, outpatient)
COMMON_DIAGNOSES = (
    {"J18.9": 0.30, "I63.9": 0.15, "K80.2": 0.15, "H25.9": 0.15, "K35.8": 0.10, "S72.0": 0.05, "I10": 0.10},
    {"I10": 0.45, "E11.9": 0.35, "J44.9": 0.10, "I25.1": 0.10},
    {"J06.9": 0.35, "K29.7": 0.20, "M54.5": 0.15, "I10": 0.15, "E11.9": 0.15},
)
COMMON_MED = (0.025, 0.12, 0.855)       # inpatient, chronic, outpatient

#: stand-ins for critical-illness rules the seeds leave unquantified (see the module docstring)
STAND_INS = {
    "employee": {"threshold": Decimal(12_000), "ratio": Decimal("0.80"), "cap": Decimal(400_000),
                 "ref": "synth stand-in: 职工大额医疗费用补助 (no seed gives it)"},
    "resident": {"threshold": Decimal(12_000), "ratio": Decimal("0.60"), "cap": None,
                 "ref": "synth stand-in: 医保发〔2019〕30号 (大病保险政策范围内支付比例60%)"},
    "tilt": {"threshold_share": Decimal("0.5"), "ratio_points": Decimal("0.05"), "cap": None,
             "ref": "synth stand-in: 国办发〔2021〕42号 三(二) (起付线降低50%, 支付比例提高5个百分点, 取消封顶线)"},
}
#: basic insurance stand-in: (resident, employee) x (inpatient, chronic, outpatient) ratios,
#: deductible per stay (fen), yearly cap (fen)
BASIC_RATIO = ((0.70, 0.60, 0.50), (0.85, 0.75, 0.60))
BASIC_DEDUCTIBLE = (80_000, 120_000)
BASIC_CAP = (20_000_000, 30_000_000)
UPSTREAM = ("given", "computed", "mixed")

_CERT_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CERT_CHECK = np.array(list("10X98765432"))


@dataclass(frozen=True)
class Shape:
    """The assumptions of a synthetic population (see the module docstring)."""

    upstream: str = "given"              # given | computed | mixed (critical-illness amounts)
    mixed_given: float = 0.5             # with `mixed`: share of claims given
    resident_share: float = 0.8
    identity_scale: float = 1.0          # multiplies every identity share
    identity_starts_in_year: float = 0.20
    identity_ends_in_year: float = 0.10
    claims_per_person: float = 10.0
    claims_dispersion: float = 0.6       # gamma shape: smaller is a longer tail
    identity_claim_factor: float = 1.3
    condition_scale: float = 1.0         # multiplies every condition's prevalence
    cost_scale: float = 1.0
    out_of_area: float = 0.06
    unreferred_out_of_area: float = 0.30
    out_of_province: float = 0.45        # share of out-of-area claims outside the province
    unreferred: float = 0.03
    hifmi_given: float = 0.0             # arbitrary given amounts on this share of claims
    years: int = 1                       # claims over this many calendar years from --year


@dataclass
class Population:
    """A synthetic population: the three files' frames (amounts in integer fen columns `*_fen`) and
    the same claims as the columnar path's inputs (claims in person, date order), from which the
    profile settles without reading the files back."""

    persons: pl.DataFrame
    identities: pl.DataFrame
    claims: pl.DataFrame
    inputs: object                       # tuodi.batch.columnar.Inputs
    identity_holds: np.ndarray           # per claim (person order): a recognised identity holds
    file_order: np.ndarray               # person-order claim index of each file row
    #: with every hifmi_pay given as the upstream settlement computed it, that settlement's
    #: outputs: assistance and tilt on r2 = r1 - hifmi_pay are then those `tuodi settle` gives
    #: on the files (tests/batch/test_synth.py checks it), so the profile need not settle again
    settled: object = None

    @property
    def frames(self) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
        return self.persons, self.identities, self.claims


# ---------------------------------------------------------------------------------------------
# upstream critical-illness rules: the policy's, with the stand-ins where the seeds give no number


def _undefined(values: list) -> bool:
    return any(v["value"] == "undefined" for v in values)


def three_tiers(policy: Policy) -> Policy:
    """The policy without its further payers (梯次减负): what the columnar kernels settle. The
    upstream amounts and the profile are the three tiers'."""
    if not policy.declared_further_payers:
        return policy
    raw = policy.model.model_dump(by_alias=True)
    raw["payers"] = []
    return Policy(PolicyFile.model_validate(raw))


def upstream_policy(policy: Policy) -> Policy:
    """The policy with each critical-illness rule the seeds leave unquantified filled by a stand-in
    (`STAND_INS`), every med_type named covered: what the upstream platform is assumed to pay
    (the three tiers only: further payers come after it)."""
    policy = three_tiers(policy)
    raw = policy.model.model_dump(by_alias=True)
    ci = raw.get("critical_illness")
    if not ci:
        return policy
    start = policy.model.in_force.start
    rules = ci["rules"]
    general = next((r for r in rules if r["categories"] == "general" and r.get("insutypes") != ["310"]), None)

    def fill(rule, kind):
        s = STAND_INS[kind]
        for key in ("threshold", "ratio", "cap"):
            if not rule[key] or _undefined(rule[key]):
                rule[key] = [{"from": start, "value": s[key], "ref": s["ref"]}]

    def incomplete(rule):
        return rule["undefined_med_types"] or any(_undefined(rule[k]) for k in ("threshold", "ratio", "cap"))

    # the general residents' rule first: the tilted stand-in is derived from it
    for rule in sorted(rules, key=lambda r: r is not general):
        if not incomplete(rule):
            continue
        if rule is general:
            fill(rule, "resident")
        elif rule.get("insutypes") == ["310"]:
            fill(rule, "employee")
        elif general is not None:
            s = STAND_INS["tilt"]
            if _undefined(rule["threshold"]):
                rule["threshold"] = [{**v, "value": v["value"] * s["threshold_share"], "ref": s["ref"]}
                                     for v in general["threshold"]]
            if _undefined(rule["ratio"]):
                rule["ratio"] = [{**v, "ref": s["ref"], "value": (
                    [{**seg, "ratio": seg["ratio"] + s["ratio_points"]} for seg in v["value"]]
                    if isinstance(v["value"], list) else v["value"] + s["ratio_points"])}
                    for v in general["ratio"]]
            if _undefined(rule["cap"]):
                rule["cap"] = [{"from": start, "value": None, "ref": s["ref"]}]
        else:
            fill(rule, "resident")
        rule["med_types"] = [m for m in ("inpatient", "chronic", "outpatient")
                             if m in rule["med_types"] or m in rule["undefined_med_types"]]
        rule["undefined_med_types"] = []
    return Policy(PolicyFile.model_validate(raw))


# ---------------------------------------------------------------------------------------------
# persons


def _certno(rng, county: np.ndarray, brdy: np.ndarray) -> pl.Series:
    """county code, birth date (YYYYMMDD), a sequence of 3 digits and the GB 11643 check digit; the
    17 digits as one integer (the county code never starts with 0), the check from its digits."""
    n = len(brdy)
    seq = rng.integers(0, 1000, n)
    y = brdy.astype("datetime64[Y]")
    mth = brdy.astype("datetime64[M]")
    ymd = ((y.astype(np.int64) + 1970) * 10_000 + (mth - y.astype("datetime64[M]")).astype(np.int64) * 100
           + 100 + (brdy - mth.astype("datetime64[D]")).astype(np.int64) + 1)
    body = county.astype(np.int64) * 10 ** 11 + ymd * 1000 + seq
    total = np.zeros(n, dtype=np.int64)
    rest = body.copy()
    for w in _CERT_WEIGHTS[::-1]:
        total += (rest % 10) * w
        rest //= 10
    return pl.Series("certno", body).cast(pl.Utf8) + _strings(total % 11, list(_CERT_CHECK), "c").cast(pl.Utf8)


def _counties(policy: Policy) -> tuple[tuple[str, str, int], ...]:
    return COUNTIES.get(policy.id, ((ADMDVS.get(policy.id, "110101"), "", 1),))


def _strings(index: np.ndarray, values: list[str], name: str) -> pl.Series:
    """values[index] as a categorical column: written to Parquet as its dictionary (read back as
    text), to CSV as text; no Python string per row."""
    arr = pa.DictionaryArray.from_arrays(pa.array(index.astype(np.int32)), pa.array(values, pa.string()))
    return pl.Series(name, arr)


def _persons(rng, policy: Policy, n: int, shape: Shape):
    """Persons with families, counties, ages, schemes and identities; the identity rows."""
    sizes = rng.choice(len(FAMILY_SIZES), n // 2 + 2, p=FAMILY_SIZES) + 1
    fam_of = np.repeat(np.arange(len(sizes)), sizes)[:n]
    n_fam = int(fam_of[-1]) + 1 if n else 0
    counties = _counties(policy)
    weight = np.array([c[2] for c in counties], dtype=float)
    fam_county = rng.choice(len(counties), n_fam, p=weight / weight.sum())
    county = fam_county[fam_of]
    rural_county = np.array([int(c[0][4:]) >= 21 for c in counties])   # 县, 县级市 (GB/T 2260)
    age = np.minimum(rng.gamma(2.2, 19.0, n), 95).astype(np.int64)

    # identities: household categories per family, individual ones per person
    recognised = [c for c in IDENTITY_SHARES if policy.recognises(c)]
    cat_index = {c: i for i, c in enumerate(recognised)}
    rows_psn, rows_cat = [], []
    house = [c for c in HOUSEHOLD_CATEGORIES if c in cat_index]
    if house and n:
        share = np.array([IDENTITY_SHARES[c] for c in house]) * shape.identity_scale
        rural = np.array([c in RURAL_CATEGORIES for c in house])
        # rural categories 3x as often in counties as in districts, the city-wide share kept
        in_county = rural_county[fam_county].mean()
        county_factor = np.where(rural_county[fam_county], 3.0, 1.0) / (1 + 2 * in_county)
        p_fam = np.where(rural[None, :], share[None, :] * county_factor[:, None], share[None, :])
        total = np.minimum(p_fam.sum(axis=1), 0.95)
        holder = rng.random(n_fam) < total
        cum = np.cumsum(p_fam, axis=1) / p_fam.sum(axis=1, keepdims=True)
        pick = (rng.random(n_fam)[:, None] > cum).sum(axis=1)
        fam_cat = np.where(holder, pick, -1)
        pc = fam_cat[fam_of]
        sel = np.flatnonzero(pc >= 0)
        rows_psn.append(sel)
        rows_cat.append(np.array([cat_index[house[i]] for i in range(len(house))])[pc[sel]])
    for c in recognised:
        if c in HOUSEHOLD_CATEGORIES:
            continue
        p = IDENTITY_SHARES[c] * shape.identity_scale
        if c in MINOR_CATEGORIES:
            minors = max((age < 18).mean(), 1e-9)
            p_person = np.where(age < 18, min(p / minors, 0.95), 0.0)
        else:
            p_person = np.full(n, min(p, 0.95))
        sel = np.flatnonzero(rng.random(n) < p_person)
        rows_psn.append(sel)
        rows_cat.append(np.full(len(sel), cat_index[c]))
    rows_psn = np.concatenate(rows_psn) if rows_psn else np.zeros(0, np.int64)
    rows_cat = np.concatenate(rows_cat) if rows_cat else np.zeros(0, np.int64)
    holds = np.zeros(n, dtype=bool)
    holds[rows_psn] = True

    # schemes: holders mostly residents, the overall resident share kept
    hold_share = holds.mean() if n else 0.0
    p_res_other = (shape.resident_share - 0.95 * hold_share) / max(1 - hold_share, 1e-9)
    resident = rng.random(n) < np.where(holds, 0.95, np.clip(p_res_other, 0, 1))
    return fam_of, county, age, resident, holds, recognised, rows_psn, rows_cat


def _identity_dates(rng, m: int, first_day, span_days: int, shape: Shape):
    u = rng.random(m)
    starts_in = u < shape.identity_starts_in_year
    open_begin = (u >= shape.identity_starts_in_year) & (u < shape.identity_starts_in_year + 0.2)
    begin = np.where(starts_in, first_day + rng.integers(0, span_days, m).astype("timedelta64[D]"),
                     first_day - rng.integers(1, 5 * 365, m).astype("timedelta64[D]"))
    ends_in = rng.random(m) < shape.identity_ends_in_year
    end = begin + rng.integers(30, 300, m).astype("timedelta64[D]")
    end = np.maximum(end, first_day + rng.integers(0, span_days, m).astype("timedelta64[D]"))
    apply = begin - rng.integers(10, 61, m).astype("timedelta64[D]")
    return begin, open_begin, end, ends_in, apply, starts_in


# ---------------------------------------------------------------------------------------------
# claims


def _conditions(rng, n: int, age: np.ndarray, holds: np.ndarray, illness_poor: np.ndarray,
                shape: Shape) -> np.ndarray:
    """Each person's condition (index into DISEASES) or -1."""
    prev = np.array([d[3] for d in DISEASES], dtype=float) / 1e6 * shape.condition_scale
    total = prev.sum()
    age_factor = 0.2 + (age / 45.0) ** 2
    age_factor /= age_factor.mean() if n else 1.0
    risk = np.minimum(total * age_factor * np.where(holds, 2.5, 1.0), 0.9)
    has = rng.random(n) < risk
    cond = np.where(has, rng.choice(len(DISEASES), n, p=prev / total), -1)
    serious = np.flatnonzero([d[2] == "serious" for d in DISEASES])
    sp = prev[serious] / prev[serious].sum()
    give = illness_poor & (rng.random(n) < 0.8)
    cond[give] = rng.choice(serious, int(give.sum()), p=sp)
    return cond


def _sorted_days(rng, count: np.ndarray, span_days: int) -> np.ndarray:
    """Claim days of each person in order (uniform order statistics from exponential spacings):
    the claims come out in settlement order without a sort."""
    n, k = len(count), int(count.sum())
    m = count + 1
    e = rng.standard_exponential(k + n)
    cs = np.cumsum(e)
    ends = np.cumsum(m) - 1
    before = cs[ends - m + 1] - e[ends - m + 1]
    total = cs[ends] - before
    keep = np.ones(k + n, dtype=bool)
    keep[ends] = False
    owner = np.repeat(np.arange(n), count)
    frac = (cs[keep] - before[owner]) / total[owner]
    return np.minimum((frac * span_days).astype(np.int64), span_days - 1)


def _year_groups(cpsn: np.ndarray, year_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start flags and group index of each claim's person-year (claims in person, date order)."""
    k = len(cpsn)
    new = np.ones(k, dtype=bool)
    if k:
        new[1:] = (cpsn[1:] != cpsn[:-1]) | (year_of[1:] != year_of[:-1])
    return new, np.cumsum(new) - 1


def _capped_yearly(amount: np.ndarray, group: np.ndarray, new: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """Each claim's part of a yearly total capped at `cap` (per claim, its person's cap); only the
    few person-years over the cap are worked out claim by claim."""
    start = np.flatnonzero(new)
    if not len(start):
        return amount
    over = (np.add.reduceat(amount, start) > cap[start])[group]
    if not over.any():
        return amount
    a, g, c = amount[over], group[over], cap[over]
    cs = np.cumsum(a)
    first = np.r_[True, g[1:] != g[:-1]]
    cum = cs - (cs - a)[np.flatnonzero(first)][np.cumsum(first) - 1]
    out = amount.copy()
    out[over] = np.minimum(cum, c) - np.minimum(cum - a, c)
    return out


def generate(policy: Policy, persons: int, year: int, seed: int, shape: Shape = Shape(),
             prefix: str = "P", stats: dict | None = None) -> Population:
    """A synthetic population (see the module docstring)."""
    from tuodi.batch.columnar import MED_TYPES, Inputs, settle_columns
    from tuodi.policy.schema import CATEGORIES

    if shape.upstream not in UPSTREAM:
        raise ValueError(f"upstream {shape.upstream!r}: use one of {', '.join(UPSTREAM)}")
    rng = np.random.default_rng(seed)
    n = persons
    first_day = np.datetime64(f"{year}-01-01")
    last_day = np.datetime64(f"{year + shape.years - 1}-12-31")
    span_days = int((last_day - first_day).astype(int)) + 1
    epoch_day = int((first_day - np.datetime64("1970-01-01")).astype(int))

    fam_of, county, age, resident, holds, recognised, rows_psn, rows_cat = _persons(rng, policy, n, shape)
    counties = _counties(policy)
    county_code = np.array([c[0] for c in counties])
    brdy = first_day - (age * 365 + rng.integers(0, 365, n)).astype("timedelta64[D]")
    width = max(7, len(str(n)))
    psn_no = (prefix + pl.Series("psn_no", np.arange(n)).cast(pl.Utf8).str.zfill(width)).alias("psn_no") \
        if n else pl.Series("psn_no", [], pl.Utf8)
    illness_poor = np.zeros(n, dtype=bool)
    if "illness_poverty" in recognised:
        illness_poor[rows_psn[rows_cat == recognised.index("illness_poverty")]] = True
    cond = _conditions(rng, n, age, holds, illness_poor, shape)
    kinds = np.array([d[2] for d in DISEASES] + ["none"])
    serious_person = kinds[cond] == "serious"
    persons_df = pl.DataFrame({
        "psn_no": psn_no,
        "certno": _certno(rng, county_code[county], brdy) if n else pl.Series([], dtype=pl.Utf8),
        "insutype": _strings(np.where(resident, 0, 1), ["390", "310"], "insutype"),
        "brdy": brdy.astype("datetime64[D]"),
        "admdvs": _strings(county, list(county_code), "admdvs"),
        "hh_no": ("H" + pl.Series(fam_of + 1).cast(pl.Utf8).str.zfill(8)) if n else pl.Series([], dtype=pl.Utf8),
        "late_stage_major_disease": serious_person & (rng.random(n) < 0.3),
    })

    # identity rows, sorted by person
    m = len(rows_psn)
    order_i = np.argsort(rows_psn, kind="stable")
    rows_psn, rows_cat = rows_psn[order_i], rows_cat[order_i]
    begin, open_begin, end, ends_in, apply, starts_in = _identity_dates(rng, m, first_day, span_days, shape)
    identities_df = pl.DataFrame({
        "psn_no": psn_no.gather(rows_psn) if m else pl.Series("psn_no", [], pl.Utf8),
        "category": _strings(rows_cat, recognised or [""], "category"),
        "begndate": pl.Series(begin.astype("datetime64[D]")).set(pl.Series(open_begin), None),
        "enddate": pl.Series(end.astype("datetime64[D]")).set(pl.Series(~ends_in), None),
        "apply_date": pl.Series(apply.astype("datetime64[D]")).set(pl.Series(~starts_in), None),
    })

    # claims, in person and date order (the settlement order) until they are written
    factor = np.array([d[4] for d in DISEASES] + [1.0])[cond] * np.where(holds, shape.identity_claim_factor, 1.0)
    mean = factor * shape.claims_per_person * shape.years / max(factor.mean(), 1e-9) if n else factor
    count = rng.poisson(rng.gamma(shape.claims_dispersion, mean / shape.claims_dispersion))
    k = int(count.sum())
    cpsn = np.repeat(np.arange(n), count)
    day = _sorted_days(rng, count, span_days) if k else np.zeros(0, np.int64)

    # med_type and diagnosis: the condition's own claims, else common ones
    split = np.array([d[5] for d in DISEASES] + [(0, 0, 1)], dtype=float)
    ccond = cond[cpsn]
    own = (ccond >= 0) & (rng.random(k) < 0.65)
    u = rng.random(k)
    c1, c2 = (np.cumsum(split, axis=1)[:, j][ccond] for j in (0, 1))
    med_own = (u > c1).astype(np.int8) + (u > c2)
    med_common = np.searchsorted(np.cumsum(COMMON_MED)[:2], u, side="right")
    med = np.where(own, med_own, med_common).astype(np.int8)
    dise = ccond.copy()
    for mt, table in enumerate(COMMON_DIAGNOSES):
        sel = np.flatnonzero(~own & (med == mt))
        p = np.array(list(table.values()))
        dise[sel] = np.array([_CODES.index(c) for c in table])[rng.choice(len(p), len(sel), p=p / p.sum())]

    # costs
    median = np.array([d[6] for d in DISEASES], dtype=float)[dise, med] * shape.cost_scale
    sigma = np.array([d[7] for d in DISEASES])[dise]
    cost = np.minimum(median * np.exp(sigma * rng.standard_normal(k)), 3_000_000)
    medfee = np.maximum(np.round(cost * 100), 1).astype(np.int64)
    inpatient = med == 0
    ownpay = (medfee * np.minimum(rng.standard_exponential(k) * 0.06, 0.9) * np.where(inpatient, 1.3, 1.0)).astype(np.int64)
    overlmt = np.where(rng.random(k) < 0.15, (medfee * np.minimum(rng.standard_exponential(k) * 0.08, 0.5)).astype(np.int64), 0)
    preself = (medfee * np.minimum(rng.standard_exponential(k) * 0.04, 0.5)).astype(np.int64)
    over = np.maximum(ownpay + overlmt + preself - medfee, 0)
    ownpay = ownpay - over
    inscp = medfee - ownpay - overlmt - preself
    reasonable = np.where(inpatient, ownpay // 3, 0)

    # basic insurance: per claim, then each person's yearly cap
    emp = (~resident[cpsn]).astype(np.int64)
    ratio = np.array(BASIC_RATIO)[emp, med]
    deductible = np.where(inpatient, np.array(BASIC_DEDUCTIBLE)[emp], 0)
    hifp = np.minimum((np.maximum(inscp - deductible, 0) * ratio).astype(np.int64), inscp)
    date = (first_day + day.astype("timedelta64[D]"))
    year_of = date.astype("datetime64[Y]").astype(np.int64) if shape.years > 1 else np.zeros(k, np.int64)
    new, group = _year_groups(cpsn, year_of)
    hifp = _capped_yearly(hifp, group, new, np.array(BASIC_CAP)[emp])

    # where
    ooa_p = shape.out_of_area * np.where(serious_person[cpsn] & own & inpatient, 3.0, 1.0)
    out_of_area = rng.random(k) < np.minimum(ooa_p, 1.0)
    in_province = ~(out_of_area & (rng.random(k) < shape.out_of_province))
    referred = ~((out_of_area & (rng.random(k) < shape.unreferred_out_of_area))
                 | (~out_of_area & (rng.random(k) < shape.unreferred)))
    fixmedins, institutions = _institutions(rng, policy, county[cpsn], med, own & serious_person[cpsn],
                                            out_of_area, in_province)

    # upstream critical illness
    cat_slots = np.array([CATEGORIES.index(c) for c in recognised] or [0], dtype=np.int64)
    ident_begin = np.where(open_begin, np.iinfo(np.int32).min,
                           (begin - np.datetime64("1970-01-01")).astype(np.int64)).astype(np.int32)
    ident_end = np.where(ends_in, (end - np.datetime64("1970-01-01")).astype(np.int64),
                         np.iinfo(np.int32).max).astype(np.int32)
    claim_date = (day + epoch_day).astype(np.int32)
    inp = Inputs(
        person_insutype=(~resident).astype(np.int8), ident_psn=rows_psn.astype(np.int64),
        ident_category=cat_slots[rows_cat] if m else np.zeros(0, np.int64),
        ident_begin=ident_begin, ident_end=ident_end,
        claim_psn=cpsn.astype(np.int64), claim_date=claim_date, claim_med=med,
        medfee=medfee, inscp=inscp, hifp=hifp, hifmi=np.zeros(k, np.int64),
        hifmi_given=np.zeros(k, dtype=bool), referred=referred, in_province=in_province,
        out_of_area=out_of_area)
    assert MED_TYPES == ("inpatient", "chronic", "outpatient")
    settled = None
    if shape.upstream != "computed" and k:
        up = settle_columns(upstream_policy(policy), inp, stats or {})
        given = np.ones(k, dtype=bool) if shape.upstream == "given" else rng.random(k) < shape.mixed_given
        given &= ~up.hifmi_null
        inp.hifmi = np.where(given, up.hifmi, 0)
        inp.hifmi_given = given
        if shape.upstream == "given" and given.all() and not shape.hifmi_given:
            settled = up
    if shape.hifmi_given:
        arbitrary = rng.random(k) < shape.hifmi_given
        inp.hifmi = np.where(arbitrary, ((inscp - hifp) * rng.random(k) * 0.3).astype(np.int64), inp.hifmi)
        inp.hifmi_given = inp.hifmi_given | arbitrary

    holding = _identity_holds(cpsn, claim_date, inp, n)

    # the file: claims in setl_date order, file order breaking ties by person
    # (16-bit days: numpy's stable sort is then a radix sort)
    order = np.argsort(day.astype(np.int16 if span_days < 2 ** 15 else np.int32), kind="stable") \
        if k else np.zeros(0, np.int64)
    med_names = list(MED_TYPES)
    claims_df = pl.DataFrame({
        "setl_id": (f"S{year}" + pl.Series(np.arange(1, k + 1)).cast(pl.Utf8).str.zfill(10)) if k
        else pl.Series([], dtype=pl.Utf8),
        "psn_no": psn_no.gather(cpsn[order]) if k else pl.Series("psn_no", [], pl.Utf8),
        "setl_date": date[order].astype("datetime64[D]"),
        "med_type": _strings(med[order], med_names, "med_type"),
        "medfee_sumamt_fen": medfee[order],
        "fulamt_ownpay_amt_fen": ownpay[order],
        "overlmt_selfpay_fen": overlmt[order],
        "preselfpay_amt_fen": preself[order],
        "inscp_scp_amt_fen": inscp[order],
        "hifp_pay_fen": hifp[order],
        "hifmi_pay_fen": pl.Series(inp.hifmi[order]).set(pl.Series(~inp.hifmi_given[order]), None),
        "referred": referred[order],
        "in_province": in_province[order],
        "out_of_area": out_of_area[order],
        "fixmedins_code": _strings(fixmedins[order], institutions, "fixmedins_code"),
        "dise_no": _strings(dise[order], _CODES, "dise_no"),
        "dise_name": _strings(dise[order], [d[1] for d in DISEASES], "dise_name"),
        "reasonable_ownpay_amt_fen": reasonable[order],
    })
    return Population(persons_df, identities_df, claims_df, inp, holding, order, settled)


def _identity_holds(cpsn: np.ndarray, claim_date: np.ndarray, inp, n: int) -> np.ndarray:
    """Per claim (person order): an identity row of the person holds on its date."""
    k = len(cpsn)
    out = np.zeros(k, dtype=bool)
    if not len(inp.ident_psn) or not k:
        return out
    first = np.searchsorted(cpsn, np.arange(n))
    count = np.searchsorted(cpsn, np.arange(n), side="right") - first
    reps = count[inp.ident_psn]
    rows = np.repeat(np.arange(len(inp.ident_psn)), reps)
    claim = np.repeat(first[inp.ident_psn], reps) + (np.arange(len(rows)) - np.repeat(np.cumsum(reps) - reps, reps))
    d = claim_date[claim]
    ok = (inp.ident_begin[rows] <= d) & (d <= inp.ident_end[rows])
    out[claim[ok]] = True
    return out


def _institutions(rng, policy: Policy, county: np.ndarray, med: np.ndarray, serious: np.ndarray,
                  out_of_area: np.ndarray, in_province: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Each claim's institution (index) and the institutions' codes: per county a county hospital
    (00001) and two clinics (00101, 00102); tertiary hospitals (00011-) in the urban districts;
    two hospitals in each place out of the area."""
    counties = [c[0] for c in _counties(policy)]
    nc = len(counties)
    districts = [i for i, c in enumerate(counties) if int(c[4:]) < 21] or [0]
    codes = [f"H{c}00001" for c in counties] + [f"H{c}00101" for c in counties] + [f"H{c}00102" for c in counties]
    tertiary = [f"H{counties[districts[j % len(districts)]]}{11 + j // len(districts):05d}" for j in range(8)]
    near, far = AWAY.get(policy.id, ((), ()))
    near = [f"H{c}{j:05d}" for c in near for j in (11, 12)] or tertiary
    far = [f"H{c}{j:05d}" for c in far for j in (11, 12)] or tertiary
    t0, n0, f0 = 3 * nc, 3 * nc + len(tertiary), 3 * nc + len(tertiary) + len(near)
    k = len(county)
    u = rng.random(k, dtype=np.float32)
    pick = rng.integers(0, 1 << 20, k, dtype=np.int32)
    # local: tertiary with probability by med_type (inpatient .55, chronic .4, outpatient .2;
    # a serious condition's claims .9), else the county hospital (outpatient: clinics 40%)
    p_tertiary = np.array([0.55, 0.40, 0.20], dtype=np.float32)[med]
    p_tertiary[serious] = 0.9
    out = county.astype(np.int32)
    clinic = np.flatnonzero((med == 2) & (u > 0.6))
    out[clinic] += nc * (1 + pick[clinic] % 2)
    tert = np.flatnonzero(u < p_tertiary)
    out[tert] = t0 + pick[tert] % len(tertiary)
    near_rows = np.flatnonzero(out_of_area & in_province)
    far_rows = np.flatnonzero(out_of_area & ~in_province)
    out[near_rows] = n0 + pick[near_rows] % len(near)
    out[far_rows] = f0 + pick[far_rows] % len(far)
    return out, codes + tertiary + near + far


def synth(policy: Policy, persons: int, year: int, seed: int, shape: Shape = Shape(),
          prefix: str = "P", stats: dict | None = None) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(persons, identities, claims) frames; amounts in integer fen columns (`*_fen`)."""
    return generate(policy, persons, year, seed, shape, prefix, stats).frames


def _decimal(fen: pl.Series) -> pa.Array:
    """Integer fen -> decimal128(18, 2) with the same digits (no float on the way)."""
    arr = fen.to_arrow()
    values = np.asarray(fen.fill_null(0).to_numpy(), dtype=np.int64)
    words = np.empty(2 * len(values), dtype=np.int64)
    words[0::2] = values
    words[1::2] = values >> 63
    validity = arr.buffers()[0] if arr.null_count else None
    if validity is not None and arr.offset:
        validity = pa.array(arr.is_valid()).buffers()[1]
    return pa.Array.from_buffers(pa.decimal128(18, 2), len(values),
                                 [validity, pa.py_buffer(words.tobytes())], null_count=arr.null_count)


def _yuan_text(fen: pl.Expr) -> pl.Expr:
    """Integer fen -> `1234.56` (negative with a leading minus; null stays null)."""
    a = fen.abs()
    text = (a // 100).cast(pl.Utf8) + "." + (a % 100).cast(pl.Utf8).str.zfill(2)
    return pl.when(fen < 0).then("-" + text).otherwise(text)


def write_frames(out: Path, frames: dict[str, pl.DataFrame], fmt: str = "parquet") -> dict[str, Path]:
    """Write frames whose `*_fen` columns hold amounts: decimals in Parquet, yuan text in CSV."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in frames.items():
        path = out / f"{name}.{fmt}"
        fen_cols = [c for c in df.columns if c.endswith("_fen")]
        if fmt == "csv":
            df.with_columns(
                [_yuan_text(pl.col(c)).alias(c[:-4]) for c in fen_cols]
                + [pl.col(c).cast(pl.Utf8).str.to_lowercase() for c, t in df.schema.items() if t == pl.Boolean]
            ).select([c[:-4] if c.endswith("_fen") else c for c in df.columns]).write_csv(path)
        else:
            table = df.to_arrow()
            for c in fen_cols:
                i = table.schema.get_field_index(c)
                table = table.set_column(i, c[:-4], _decimal(df[c]))
            table = table.cast(pa.schema([pa.field(f.name, pa.string()) if pa.types.is_large_string(f.type)
                                          else f for f in table.schema]))
            # without the Arrow schema a categorical column is read back as the text it is
            # (Parquet stores text dictionary-encoded either way)
            pq.write_table(table, path, store_schema=False)
        paths[name] = path
    return paths


def synth_files(policy: Policy, persons: int, year: int, seed: int, out: Path, fmt: str = "parquet",
                shape: Shape = Shape(), stats: dict | None = None, population: Population | None = None
                ) -> dict[str, tuple[Path, int]]:
    """`tuodi synth`: write DIR/persons, identities, claims; returns each path and its rows."""
    pop = population or generate(policy, persons, year, seed, shape, stats=stats)
    names = ("persons", "identities", "claims")
    paths = write_frames(out, dict(zip(names, pop.frames)), fmt)
    return {name: (paths[name], len(f)) for name, f in zip(names, pop.frames)}


__all__ = ["DISEASES", "COUNTIES", "IDENTITY_SHARES", "Population", "STAND_INS", "Shape", "generate",
           "synth", "synth_files", "upstream_policy", "write_frames", "replace"]
