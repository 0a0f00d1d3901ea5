"""Helpers of the batch tests: synthetic populations read back through the contract's readers."""
from __future__ import annotations

from pathlib import Path

from tuodi.batch.synth import Shape, synth, write_frames
from tuodi.io import read_claims, read_identities, read_persons
from tuodi.policy import load_policy

EXAMPLES = Path(__file__).parents[2] / "examples"
# 上年度城乡居民人均可支配收入 for Harbin's 倾斜救助 line (illustrative figures, in fen)
INCOME = {("per_capita_disposable_income", y): 3_000_000 + 100_000 * (y - 2020) for y in range(2015, 2030)}

# Further payers (CONTRACT.md "Further payers after the three tiers"): a person-unit payer on the
# in_scope base, a family-unit payer (hh_no) like tests/conformance's red_cross, a family burden
# cap (ratio 1 above a warning line) on the reasonable base, and a person-unit payer after the
# family ones (reasonable base); illustrative numbers, not from the seeds
PAYER_OVERLAY = """payers:
  - id: charity_test
    name: 慈善总会 (test)
    unit: person
    rules:
      - id: charity_poor
        categories: [dibao, extreme_poverty, low_income]
        med_types: [inpatient, chronic]
        threshold: [{from: 2015-01-01, value: 1000, ref: "test"}]
        ratio: [{from: 2015-01-01, value: 0.5, ref: "test"}]
        cap: [{from: 2015-01-01, value: 3000, ref: "test"}]
      - id: charity_all
        categories: general
        med_types: [inpatient]
        threshold: [{from: 2015-01-01, value: 3000, ref: "test"}]
        ratio: [{from: 2015-01-01, value: 0.2, ref: "test"}]
        cap: [{from: 2015-01-01, value: 4000, ref: "test"}]
  - id: red_cross
    name: 红十字会
    base: in_scope
    unit: family
    rules:
      - id: red_cross_dibao
        categories: [dibao, near_dibao]
        med_types: [inpatient, chronic]
        threshold: [{from: 2015-01-01, value: 500, ref: "test"}]
        ratio: [{from: 2015-01-01, value: 0.6, ref: "test"}]
        cap: [{from: 2015-01-01, value: 2000, ref: "test"}]
  - id: burden_cap
    name: 负担封顶 (test)
    base: reasonable
    unit: family
    rules:
      - id: burden_cap_all
        categories: general
        med_types: [inpatient, chronic, outpatient]
        threshold: [{from: 2015-01-01, value: 8000, ref: "test"}]
        ratio: [{from: 2015-01-01, value: 1, ref: "test"}]
        cap: [{from: 2015-01-01, value: 30000, ref: "test"}]
  - id: mutual_aid_test
    name: 职工医疗互助 (test)
    base: reasonable
    unit: person
    rules:
      - id: mutual_aid_all
        categories: general
        med_types: [inpatient]
        threshold: [{from: 2015-01-01, value: 2000, ref: "test"}]
        ratio: [{from: 2015-01-01, value: 0.1, ref: "test"}]
        cap: [{from: 2015-01-01, value: 1000, ref: "test"}]
"""


def policy(name: str, overlay: bool = False):
    """A policy's three tiers: what the kernels pay (a policy's further payers, Quzhou's 暖心无忧
    fund, are settled by the engine: tests/engine/test_further_payers.py, tests/conformance)."""
    return three_tiers(load_policy(name, EXAMPLES / "overlay-harbin-ci-tilt.yaml" if overlay else None))


def three_tiers(pol):
    from tuodi.policy import Policy
    return Policy(pol.model.model_copy(update={"payers": []}))


def population(tmp: Path, pol, persons: int, year: int, seed: int, shape: Shape = Shape(),
               fmt: str = "csv"):
    """Synthesise, write in the contract format, read back with tuodi.io: engine objects."""
    frames = synth(pol, persons, year, seed, shape)
    paths = write_frames(tmp, dict(zip(("persons", "identities", "claims"), frames)), fmt)
    psn = read_persons(paths["persons"])
    ids = read_identities(paths["identities"], psn)
    clm = read_claims(paths["claims"], psn, pol)
    return paths, psn, ids, clm
