"""The columnar path on the engine's own objects (Person, Identity, Claim -> Settlement).

Used by the differential tests and by callers that already hold objects; the command line reads
files straight into columns (`tuodi.batch.files`)."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from tuodi.batch.columnar import (INSUTYPES, MED_TYPES, NO_BEGIN, NO_END, Inputs, Outputs,
                                  day_number, settle_columns)
from tuodi.engine.model import Claim, Identity, Person, Settlement
from tuodi.engine.schedule import Stats
from tuodi.engine.settle import SettleResult
from tuodi.policy import Policy
from tuodi.policy.schema import CATEGORIES


def inputs_from_objects(persons: dict[str, Person], identities: Iterable[Identity],
                        claims: list[Claim]) -> Inputs:
    index = {p: i for i, p in enumerate(persons)}
    ids = list(identities)
    families: dict[str, int] = {}
    return Inputs(
        person_insutype=np.array([INSUTYPES.index(p.insutype) for p in persons.values()], dtype=np.int8),
        ident_psn=np.array([index[i.psn_no] for i in ids], dtype=np.int64),
        ident_category=[i.category for i in ids],
        ident_begin=np.array([NO_BEGIN if i.begndate is None else day_number(i.begndate) for i in ids],
                             dtype=np.int32),
        ident_end=np.array([NO_END if i.enddate is None else day_number(i.enddate) for i in ids],
                           dtype=np.int32),
        claim_psn=np.array([index[c.psn_no] for c in claims], dtype=np.int64),
        claim_date=np.array([day_number(c.setl_date) for c in claims], dtype=np.int32),
        claim_med=np.array([MED_TYPES.index(c.med_type) for c in claims], dtype=np.int8),
        medfee=np.array([c.medfee_sumamt for c in claims], dtype=np.int64),
        inscp=np.array([c.inscp_scp_amt for c in claims], dtype=np.int64),
        hifp=np.array([c.hifp_pay for c in claims], dtype=np.int64),
        hifmi=np.array([c.hifmi_pay or 0 for c in claims], dtype=np.int64),
        hifmi_given=np.array([c.hifmi_pay is not None for c in claims], dtype=bool),
        referred=np.array([c.referred for c in claims], dtype=bool),
        in_province=np.array([c.in_province for c in claims], dtype=bool),
        out_of_area=np.array([c.out_of_area for c in claims], dtype=bool),
        person_hh=np.array([-1 if p.hh_no is None else families.setdefault(p.hh_no, len(families))
                            for p in persons.values()], dtype=np.int64),
        reasonable=np.array([c.reasonable_ownpay_amt for c in claims], dtype=np.int64),
    )


def settlements_from_outputs(claims: list[Claim], out: Outputs) -> list[Settlement]:
    def amount(values, nulls, i):
        return None if nulls[i] else int(values[i])

    return [
        Settlement(
            setl_id=c.setl_id, psn_no=c.psn_no, setl_date=c.setl_date,
            category=None if out.category[i] < 0 else CATEGORIES[out.category[i]],
            medfee_sumamt=c.medfee_sumamt, inscp_scp_amt=c.inscp_scp_amt, hifp_pay=c.hifp_pay,
            hifmi_pay=amount(out.hifmi, out.hifmi_null, i), maf_pay=amount(out.maf, out.maf_null, i),
            tilt_pay=amount(out.tilt, out.tilt_null, i),
            oth_pay=0 if out.oth is None else amount(out.oth, out.oth_null, i),
        )
        for i, c in enumerate(claims)
    ]


def settle_objects(policy: Policy, persons: dict[str, Person], identities: Iterable[Identity],
                   claims: list[Claim], stats: Stats | None = None) -> SettleResult:
    """`tuodi.engine.settle` through the columnar path (no explanation steps)."""
    out = settle_columns(policy, inputs_from_objects(persons, identities, claims), stats)
    return SettleResult(settlements_from_outputs(claims, out), out.notes)
