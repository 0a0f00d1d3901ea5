"""Synthetic populations (合成人口) for load tests and differential tests: persons, identities and a
year of claims in the contract's file formats, deterministic for a seed.

The shapes are plausible, not estimates; each assumption is a named field of `Shape`, so a test
or a what-if study can change it:

- **Insured persons.** 80% residents (城乡居民, insutype 390), 20% employees (职工, 310); ages
  0-95, a little older on average than the population (older people claim more); a valid
  18-character `certno` (GB 11643 check digit) built from `admdvs`, birth date and a sequence.
- **Identities (救助对象身份).** Per person, independently: 低保 4%, 特困 0.6%, 低保边缘 2%,
  监测对象 1.5%, 因病致贫 0.5%, 脱贫人口 3%, 低收入 1%, 支出型贫困 0.3%, 孤儿 0.05%, 事实无人抚养儿童
  0.05%, 重度残疾 0.3%, 重点优抚 0.2%, 返贫致贫 0.2% (only categories the policy recognises).
  Each holder has a second identity with probability 10%. 70% of identities hold from before
  the year (a `begndate` in the previous five years, or empty), 20% begin during the year
  (recognised on application), 10% end during the year.
- **Claims per person.** Poisson with a gamma-distributed rate (mean `claims_per_person`,
  shape 0.6): most persons have a few claims, a long tail has dozens; persons with an identity
  claim twice as often (they are older and sicker).
- **Claims.** med_type outpatient 75% / chronic 17% / inpatient 8%; total cost log-normal with
  medians 150 / 600 / 9,000 yuan and sigma 0.9 / 0.8 / 1.1 (heavy right tail; capped at
  3,000,000 yuan); 全自费 about 6%, 超限价 1%, 先行自付 4% of the cost (inpatient a little more);
  `inscp_scp_amt` is what is left.
- **Basic insurance (`hifp_pay`).** A simple documented rule, not any city's: residents
  inpatient 70% above an 800-yuan deductible per stay, chronic 60%, outpatient 50%; employees
  inpatient 85% above 1,200, chronic 75%, outpatient 60%; rounded down to the fen.
  `hifmi_pay` is left empty (Tuodi computes it) except for a `hifmi_given` share.
- **Where.** 6% of claims are out of the pooling area (异地就医), 30% of those without referral;
  5% are outside the province; 3% of claims are not referred.
- **Files.** Claims are written in `setl_date` order (as an export is), `setl_id` numbered in that
  order. Amounts are decimal(18,2) in Parquet, two-decimal strings in CSV.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from tuodi.policy import Policy

IDENTITY_SHARES = {
    "dibao": 0.04, "extreme_poverty": 0.006, "near_dibao": 0.02, "monitored_rural": 0.015,
    "illness_poverty": 0.005, "lifted_poverty": 0.03, "low_income": 0.01,
    "expenditure_poverty": 0.003, "orphan": 0.0005, "unsupported_child": 0.0005,
    "severe_disability": 0.003, "entitled_veteran": 0.002, "returned_poverty": 0.002,
}
ADMDVS = {"harbin": "230100", "jiamusi": "230800", "qinghai": "630100", "changzhi": "140400",
          "quzhou": "330800"}
_CERT_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
_CERT_CHECK = np.array(list("10X98765432"))


@dataclass(frozen=True)
class Shape:
    """The assumptions of a synthetic population (see the module docstring)."""

    resident_share: float = 0.8
    identity_scale: float = 1.0          # multiplies every identity share
    second_identity: float = 0.10
    identity_starts_in_year: float = 0.20
    identity_ends_in_year: float = 0.10
    claims_per_person: float = 10.0
    claims_dispersion: float = 0.6       # gamma shape: smaller is a longer tail
    identity_claim_factor: float = 2.0
    med_shares: tuple[float, float, float] = (0.08, 0.17, 0.75)   # inpatient, chronic, outpatient
    cost_median: tuple[float, float, float] = (9000.0, 600.0, 150.0)
    cost_sigma: tuple[float, float, float] = (1.1, 0.8, 0.9)
    cost_scale: float = 1.0
    out_of_area: float = 0.06
    unreferred_out_of_area: float = 0.30
    out_of_province: float = 0.05
    unreferred: float = 0.03
    hifmi_given: float = 0.0
    years: int = 1                       # claims over this many calendar years from --year


def _certno(rng, admdvs: str, brdy: np.ndarray) -> np.ndarray:
    n = len(brdy)
    seq = rng.integers(0, 1000, n)
    ymd = brdy.astype("datetime64[D]").astype(str)
    body = np.char.add(np.char.add(admdvs[:4] + "02", np.char.replace(ymd, "-", "")),
                       np.char.zfill(seq.astype(str), 3))
    digits = np.frombuffer(body.astype("S17").tobytes(), dtype=np.uint8).reshape(n, 17) - ord("0")
    check = _CERT_CHECK[(digits * _CERT_WEIGHTS).sum(axis=1) % 11]
    return np.char.add(body, check)


def synth(policy: Policy, persons: int, year: int, seed: int, shape: Shape = Shape(),
          prefix: str = "P") -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(persons, identities, claims) frames; amounts in integer fen columns (`*_fen`)."""
    rng = np.random.default_rng(seed)
    n = persons
    first_day = np.datetime64(f"{year}-01-01")
    last_day = np.datetime64(f"{year + shape.years - 1}-12-31")
    width = max(7, len(str(n)))
    psn_no = pl.Series("psn_no", np.arange(n)).cast(pl.Utf8).str.zfill(width)
    psn_no = (prefix + psn_no).alias("psn_no") if len(psn_no) else pl.Series("psn_no", [], pl.Utf8)
    insutype = np.where(rng.random(n) < shape.resident_share, "390", "310")
    age = np.minimum(rng.gamma(2.2, 19.0, n), 95).astype(np.int64)
    brdy = first_day - (age * 365 + rng.integers(0, 365, n)).astype("timedelta64[D]")
    admdvs = ADMDVS.get(policy.id, "110100")
    persons_df = pl.DataFrame({
        "psn_no": psn_no,
        "certno": _certno(rng, admdvs, brdy) if n else np.array([], dtype=str),
        "insutype": insutype,
        "brdy": brdy.astype("datetime64[D]"),
        "admdvs": np.full(n, admdvs),
        "late_stage_major_disease": rng.random(n) < 0.002,
    })

    # identities
    recognised = [c for c in IDENTITY_SHARES if policy.recognises(c)]
    shares = np.array([IDENTITY_SHARES[c] for c in recognised]) * shape.identity_scale
    rows_psn, rows_cat = [], []
    if recognised:
        total = min(shares.sum(), 0.95)
        holder = np.flatnonzero(rng.random(n) < total)
        p = shares / shares.sum()
        first = rng.choice(len(recognised), len(holder), p=p)
        second_sel = rng.random(len(holder)) < shape.second_identity
        second = rng.choice(len(recognised), int(second_sel.sum()), p=p)
        keep2 = second != first[second_sel]
        rows_psn = np.r_[holder, holder[second_sel][keep2]]
        rows_cat = np.r_[first, second[keep2]]
    m = len(rows_psn)
    span_days = int((last_day - first_day).astype(int)) + 1
    u = rng.random(m)
    starts_in = u < shape.identity_starts_in_year
    open_begin = (u >= shape.identity_starts_in_year) & (u < shape.identity_starts_in_year + 0.2)
    begin = np.where(starts_in, first_day + rng.integers(0, span_days, m).astype("timedelta64[D]"),
                     first_day - rng.integers(1, 5 * 365, m).astype("timedelta64[D]"))
    ends_in = rng.random(m) < shape.identity_ends_in_year
    end = begin + rng.integers(30, 300, m).astype("timedelta64[D]")
    end = np.maximum(end, first_day + rng.integers(0, span_days, m).astype("timedelta64[D]"))
    identities_df = pl.DataFrame({
        "psn_no": psn_no.gather(rows_psn) if m else pl.Series("psn_no", [], pl.Utf8),
        "category": pl.Series([recognised[c] for c in rows_cat], dtype=pl.Utf8),
        "begndate": pl.Series(begin.astype("datetime64[D]")).set(pl.Series(open_begin), None),
        "enddate": pl.Series(end.astype("datetime64[D]")).set(pl.Series(~ends_in), None),
    }).sort("psn_no", maintain_order=True)

    # claims per person
    holds_identity = np.zeros(n, dtype=bool)
    holds_identity[rows_psn] = True
    mean = shape.claims_per_person * shape.years * np.where(holds_identity, shape.identity_claim_factor, 1.0)
    mean = mean * shape.claims_per_person * shape.years / max(mean.mean(), 1e-9) if n else mean
    rate = rng.gamma(shape.claims_dispersion, mean / shape.claims_dispersion)
    count = rng.poisson(rate)
    k = int(count.sum())
    cpsn = np.repeat(np.arange(n), count)
    day = first_day + rng.integers(0, span_days, k).astype("timedelta64[D]")
    med = rng.choice(3, k, p=np.array(shape.med_shares) / sum(shape.med_shares))
    median = np.array(shape.cost_median)[med] * shape.cost_scale
    sigma = np.array(shape.cost_sigma)[med]
    cost = np.minimum(median * np.exp(sigma * rng.standard_normal(k)), 3_000_000)
    medfee = np.maximum(np.round(cost * 100), 1).astype(np.int64)
    inpatient = med == 0
    ownpay = (medfee * rng.beta(1.2, 18, k) * np.where(inpatient, 1.3, 1.0)).astype(np.int64)
    overlmt = np.where(rng.random(k) < 0.15, (medfee * rng.beta(1, 12, k)).astype(np.int64), 0)
    preself = (medfee * rng.beta(1.5, 35, k)).astype(np.int64)
    over = np.maximum(ownpay + overlmt + preself - medfee, 0)
    ownpay = ownpay - over
    inscp = medfee - ownpay - overlmt - preself
    resident = insutype[cpsn] == "390"
    ratio = np.where(resident, np.array([0.70, 0.60, 0.50])[med], np.array([0.85, 0.75, 0.60])[med])
    deductible = np.where(inpatient, np.where(resident, 80_000, 120_000), 0)
    hifp = np.minimum((np.maximum(inscp - deductible, 0) * ratio).astype(np.int64), inscp)
    given = rng.random(k) < shape.hifmi_given
    hifmi = np.where(given, ((inscp - hifp) * rng.random(k) * 0.3).astype(np.int64), 0)
    out_of_area = rng.random(k) < shape.out_of_area
    referred = ~((out_of_area & (rng.random(k) < shape.unreferred_out_of_area))
                 | (rng.random(k) < shape.unreferred))
    in_province = rng.random(k) >= shape.out_of_province
    order = np.argsort(day, kind="stable")
    codes = np.array(["inpatient", "chronic", "outpatient"])
    claims_df = pl.DataFrame({
        "setl_id": pl.Series(np.arange(k) + 1).cast(pl.Utf8).str.zfill(10),
        "psn_no": psn_no.gather(cpsn[order]) if k else pl.Series("psn_no", [], pl.Utf8),
        "setl_date": day[order].astype("datetime64[D]"),
        "med_type": codes[med[order]],
        "medfee_sumamt_fen": medfee[order],
        "fulamt_ownpay_amt_fen": ownpay[order],
        "overlmt_selfpay_fen": overlmt[order],
        "preselfpay_amt_fen": preself[order],
        "inscp_scp_amt_fen": inscp[order],
        "hifp_pay_fen": hifp[order],
        "hifmi_pay_fen": pl.Series(hifmi[order]).set(pl.Series(~given[order]), None),
        "referred": referred[order],
        "in_province": in_province[order],
        "out_of_area": out_of_area[order],
    }).with_columns((pl.lit(f"S{year}") + pl.col("setl_id")).alias("setl_id"))
    return persons_df, identities_df, claims_df


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
            pq.write_table(table, path)
        paths[name] = path
    return paths


def synth_files(policy: Policy, persons: int, year: int, seed: int, out: Path, fmt: str = "parquet",
                shape: Shape = Shape()) -> dict[str, tuple[Path, int]]:
    """`tuodi synth`: write DIR/persons, identities, claims; returns each path and its rows."""
    frames = synth(policy, persons, year, seed, shape)
    paths = write_frames(out, dict(zip(("persons", "identities", "claims"), frames)), fmt)
    return {name: (paths[name], len(f)) for name, f in zip(("persons", "identities", "claims"), frames)}


__all__ = ["Shape", "synth", "synth_files", "write_frames", "replace"]
