"""Two requests racing on one setl_id: the loser's insert hits the unique setl_id. It must get
what a repeat gets — the stored result (200, the same body) or 409 for another body — never a 422,
since nothing is wrong with its input."""
from __future__ import annotations

import pytest

from tuodi.store import repository

CLAIM = dict(setl_id="z1", psn_no="Z1", setl_date="2023-05-01", med_type="inpatient",
             medfee_sumamt="15000", hifp_pay="9000", hifmi_pay="0")


def lose_the_race(monkeypatch, looks: int) -> None:
    """The winner's row is invisible to the loser's first `looks` look-ups of the setl_id, as when
    its commit lands just after each look (PostgreSQL, read committed); the insert then fails."""
    real = repository.claim_by_setl_id
    left = {"n": looks}

    def blind(conn, setl_id):
        if left["n"] > 0:
            left["n"] -= 1
            return None
        return real(conn, setl_id)
    monkeypatch.setattr(repository, "claim_by_setl_id", blind)


@pytest.mark.parametrize("looks", [1, 2])
def test_the_loser_with_the_same_body_gets_the_stored_result(service, monkeypatch, looks):
    service.put_person("Z1")
    service.add_identity("Z1", "低保对象")
    won = service.settle(**CLAIM)
    assert won.status_code == 201
    lose_the_race(monkeypatch, looks)
    lost = service.settle(**CLAIM)
    assert lost.status_code == 200, lost.text
    assert lost.json() == {**won.json()}
    assert service.year("Z1", 2023)["totals"]["maf_pay"] == "5400.00"  # paid once


@pytest.mark.parametrize("looks", [1, 2])
def test_the_loser_with_another_body_gets_409(service, monkeypatch, looks):
    service.put_person("Z1")
    service.put_person("Z2")
    assert service.settle(**CLAIM).status_code == 201
    lose_the_race(monkeypatch, looks)
    lost = service.settle(**{**CLAIM, "psn_no": "Z2"})
    assert lost.status_code == 409, lost.text
    assert lost.json()["detail"][0]["field"] == "setl_id"
