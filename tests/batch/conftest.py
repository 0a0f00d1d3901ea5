"""Helpers of the batch tests: synthetic populations read back through the contract's readers."""
from __future__ import annotations

from pathlib import Path

from tuodi.batch.synth import Shape, synth, write_frames
from tuodi.io import read_claims, read_identities, read_persons
from tuodi.policy import load_policy

EXAMPLES = Path(__file__).parents[2] / "examples"
# 上年度城乡居民人均可支配收入 for Harbin's 倾斜救助 line (illustrative figures, in fen)
INCOME = {("per_capita_disposable_income", y): 3_000_000 + 100_000 * (y - 2020) for y in range(2015, 2030)}


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
