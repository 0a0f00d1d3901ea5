"""No claim is paid beyond its own cost (CONTRACT.md, Settlement rules; Service): in the service the
earlier claims' shares of a rise are adjustments (补付) on those claims, with their cause; no
claim's patient share goes below 0.

Harbin (tests/service/stats.csv: 2022 income 40,000, so the 2023 倾斜救助 line is 20,000).
因病致贫重病患者 (哈政办规〔2022〕16号 三(二)1): threshold 8,900, 70%; 倾斜救助 (三(二)2): 50% of the whole
yearly r3 once it exceeds the line, capped at 20,000 a year.
"""
from __future__ import annotations

from decimal import Decimal as D

ILL = "因病致贫重病患者"


def claim(setl_id, day, medfee, hifp, **extra):
    return dict(setl_id=setl_id, psn_no="K1", setl_date=day, med_type="inpatient",
                medfee_sumamt=str(medfee), hifp_pay=str(hifp), **extra)


def get(service, setl_id):
    r = service.client.get(f"/v1/settlements/{setl_id}", headers=service.h("insurance_office"))
    assert r.status_code == 200, r.text
    return r.json()


def test_a_crossing_settlement_tops_up_the_earlier_claim(service):
    """The example of issue 21 (claims of 100,000 and 40,000 without basic insurance, hifmi computed:
    黑医保发〔2021〕41号 二1): B raises the yearly tilt to 10,060 against its own r3 of 3,000. B is paid
    3,000; A gets the other 7,060 as an adjustment (补付) caused by B's settlement.
      A: hifmi F(100000) = 5200 + 21000 + 37500 = 63700; r2 36300; maf (36300-8900)*0.7 = 19180;
         r3 17120 <= 20000 -> tilt 0 at its settlement
      B: hifmi F(140000) - 63700 = 93700 - 63700 = 30000; r2 10000; maf 26180 - 19180 = 7000; r3 3000;
         yearly r3 20120 > 20000 -> 10060 due: B 3000, A 7060"""
    service.put_person("K1")
    service.add_identity("K1", ILL, begndate="2023-01-01")
    a = service.settle(**claim("A", "2023-03-01", 100000, 0)).json()
    assert (a["tilt_pay"], a["psn_part_amt"], a["adjustments"]) == ("0.00", "17120.00", [])

    r = service.settle(**claim("B", "2023-06-01", 40000, 0))
    assert r.status_code == 201, r.text
    b = r.json()
    assert (b["hifmi_pay"], b["maf_pay"], b["tilt_pay"], b["psn_part_amt"]) == \
        ("30000.00", "7000.00", "3000.00", "0.00")
    assert b["adjustments"] == [{"setl_id": "A", "setl_date": "2023-03-01", "cause": "settlement", "hifmi_pay": "0.00",
                                 "maf_pay": "0.00", "tilt_pay": "7060.00", "oth_pay": "0.00", "fund_pay_sumamt": "7060.00"}]
    assert "余额补付本年此前的结算" in b["explanation"]

    a = get(service, "A")
    assert (a["net"]["tilt_pay"], a["net"]["psn_part_amt"]) == ("7060.00", "10060.00")   # 17120 - 7060
    assert [(x["cause"], x["setl_id"], x["tilt_pay"]) for x in a["adjustments"]] == [("settlement", "B", "7060.00")]
    assert service.year("K1", 2023)["totals"]["tilt_pay"] == "10060.00"

    # reversing B (冲正) takes the year back under the line: A's top-up is clawed back (追回)
    r = service.client.post("/v1/settlements/B/reversal", json={"reason": "test"}, headers=service.h("insurance_office"))
    assert r.status_code == 200, r.text
    assert [(x["setl_id"], x["tilt_pay"]) for x in r.json()["adjustments"]] == [("A", "-7060.00")]
    assert get(service, "A")["net"]["tilt_pay"] == "0.00"


def test_an_identity_back_dated_over_a_capped_year(service):
    """An 因病致贫 identity recorded after four claims were settled without one (maf and tilt 0),
    back-dated to 2023-01-01: the year is re-settled under it (hifmi_pay given as 0), and the
    tilted assistance reaches its 20,000 cap. The crossing claim K2 takes only its own r3; the rest
    is K1's adjustment; no net psn_part_amt is below 0 (CONTRACT.md, No claim is paid beyond its
    own cost).
      K1: r2 30000; maf (30000-8900)*0.7 = 14770; r3 15230; cum r3 15230 <= 20000 -> 0 due
      K2: r2 20000; cum 50000 -> maf 41100*0.7 = 28770 - 14770 = 14000; r3 6000; cum r3 21230 -> 10615 due:
          K2 6000, K1 4615
      K3: r2 70000; cum 120000 -> maf 111100*0.7 = 77770 - 28770 = 49000; r3 21000; cum r3 42230
          -> 21115, capped 20000; due 20000 - 10615 = 9385
      K4: r2 5000; cum 125000 -> maf 116100*0.7 = 81270 - 77770 = 3500; r3 1500; tilt at its cap: 0"""
    service.put_person("K1")
    claims = [claim("K1", "2023-03-01", 40000, 10000, hifmi_pay="0"),
              claim("K2", "2023-05-01", 25000, 5000, hifmi_pay="0"),
              claim("K3", "2023-08-01", 100000, 30000, hifmi_pay="0"),
              claim("K4", "2023-10-01", 10000, 5000, hifmi_pay="0")]
    for c in claims:
        body = service.settle(**c).json()
        assert (body["maf_pay"], body["tilt_pay"]) == ("0.00", "0.00")

    r = service.client.post("/v1/persons/K1/identities", json={"category": ILL, "begndate": "2023-01-01"},
                            headers=service.h("civil_affairs"))
    assert r.status_code == 201, r.text
    moved = {a["setl_id"]: (a["maf_pay"], a["tilt_pay"]) for a in r.json()["adjustments"]}
    assert moved == {"K1": ("14770.00", "4615.00"), "K2": ("14000.00", "6000.00"),
                     "K3": ("49000.00", "9385.00"), "K4": ("3500.00", "0.00")}
    psn_part = {}
    for c in claims:
        got = get(service, c["setl_id"])
        assert got["adjustments"][0]["cause"] == "identity.add"
        psn_part[c["setl_id"]] = got["net"]["psn_part_amt"]
    # K1 40000-10000-14770-4615; K2 25000-5000-14000-6000; K3 100000-30000-49000-9385; K4 10000-5000-3500
    assert psn_part == {"K1": "10615.00", "K2": "0.00", "K3": "11615.00", "K4": "1500.00"}
    assert all(D(v) >= 0 for v in psn_part.values())
    year = service.year("K1", 2023)["totals"]
    assert (year["maf_pay"], year["tilt_pay"]) == ("81270.00", "20000.00")
