"""What the engine tests share: a claims-file row, the exact check of a settled row, and the
check of an undefined-rule warning (CONTRACT.md: it names the policy, the rule and the count)."""
from __future__ import annotations

import re
from decimal import Decimal as D


def claim(setl_id, setl_date, medfee, hifp, hifmi="", *, psn="P1", med_type="inpatient", **extra):
    """A claims-file row; inscp_scp_amt is left to its default (medfee - self-paid parts)."""
    row = {"setl_id": setl_id, "psn_no": psn, "setl_date": setl_date, "med_type": med_type,
           "medfee_sumamt": str(medfee), "hifp_pay": str(hifp), "hifmi_pay": str(hifmi)}
    row.update({k: str(v) for k, v in extra.items()})
    return row


def check(run, setl_id, **want):
    """Assert a row's amounts (None = empty) and category, exactly."""
    assert run.exit_code == 0, run.stderr
    got, expected = {}, {}
    for col, value in want.items():
        if col == "category":
            got[col], expected[col] = run.row(setl_id)[col], value
        else:
            got[col] = run.amount(setl_id, col)
            expected[col] = None if value is None else D(str(value))
    assert got == expected, f"claim {setl_id}"


def assert_warned(run, policy_words, rule_words, count):
    """The warning names the policy, the rule and how many claims it left empty."""
    err = run.stderr
    assert any(w in err for w in policy_words), err
    assert any(w in err for w in rule_words), err
    assert re.search(rf"(?<![\d.]){count}(?![\d.])", err), err
