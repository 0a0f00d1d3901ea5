"""The policy files: every value dated and cited, validated on load, overlays merged by key."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tuodi.policy import JURISDICTIONS, PolicyError, load_policy, value_at
from tuodi.policy.policy import TIERS


def _all_dated(policy):
    """Every cited value of the policy as (where, ref): the dated values of the tiers, subsidies,
    grants, warning lines, trigger shares and contribution figures, and the clauses of the
    warning rules, risk levels, look-back windows, contribution split and targets."""
    m = policy.model
    for tier in TIERS:
        for rule in policy.rules(tier):
            for param in ("threshold", "ratio", "cap"):
                for v in getattr(rule, param):
                    yield f"{tier}.{rule.id}.{param}", v.ref
            if rule.trigger is not None:
                for v in rule.trigger.share:
                    yield f"{tier}.{rule.id}.trigger.share", v.ref
    for s in m.subsidy:
        for v in s.share:
            yield f"subsidy.{s.id}", v.ref
    for g in m.grants:
        for v in g.amount:
            yield f"grants.{g.id}", v.ref
    for w in m.warnings:
        yield f"warnings.{w.id}", w.ref
        if w.contact_ref is not None:
            yield f"warnings.{w.id}.contact_ref", w.contact_ref
        for v in w.line or ():
            yield f"warnings.{w.id}.line", v.ref
    if m.risk_levels is not None:
        yield "risk_levels", m.risk_levels.ref
        for level in m.risk_levels.levels if isinstance(m.risk_levels.levels, list) else ():
            for v in level.line:
                yield f"risk_levels.{level.id}.line", v.ref
    for lb in m.lookback:
        yield f"lookback.{lb.category}", lb.ref
    if m.contribution is not None:
        c = m.contribution
        for param in ("individual", "fiscal_subsidy"):
            for v in getattr(c, param) or ():
                yield f"contribution.{param}", v.ref
        if c.fiscal_split:
            yield "contribution.fiscal_split", c.ref
    for t in m.targets:
        yield f"targets.{t.id}", t.ref


@pytest.mark.parametrize("name", JURISDICTIONS)
def test_every_value_cites_a_seed_document(name):
    """Every dated value names its document (a key of `documents`, which names its seed file)."""
    policy = load_policy(name)
    values = list(_all_dated(policy))
    assert values, name
    for where, ref in values:
        key = (ref or "").split(" ")[0]
        assert key in policy.model.documents, f"{name} {where}: ref {ref!r} names no document"
        assert policy.model.documents[key].seed, f"{name} {where}: document without seed file"


def test_citation_check_reaches_every_kind_of_cited_value():
    """The check above walks warning rules and their lines (哈政办规 三(四)), look-back windows
    (三(三) 自申请之日前12个月), trigger shares (三(二)2 50%), contribution figures (佳木斯 一1, 一2) and
    targets (衢政办发〔2023〕1号 二), not only the settlement schedules, subsidies and grants."""
    kinds = {where.split(".")[0] + (".trigger" if ".trigger." in where else "")
             for name in JURISDICTIONS for where, _ in _all_dated(load_policy(name))}
    assert {"warnings", "risk_levels", "lookback", "tilt.trigger", "contribution", "targets"} <= kinds, kinds


def test_heilongjiang_threshold_carries_forward_into_2022():
    """黑医保发〔2021〕41号 二1: 2021 threshold 12,000; 2022 changes ratios and cap, not the threshold."""
    rule = next(r for r in load_policy("jiamusi").rules("critical_illness") if r.id == "ci_resident")
    assert value_at(rule.threshold, dt.date(2022, 6, 1)).value == Decimal("12000")
    assert value_at(rule.cap, dt.date(2021, 6, 1)).value == Decimal("500000")
    assert value_at(rule.cap, dt.date(2022, 6, 1)).value is None            # 取消年度最高支付限额
    segments = value_at(rule.ratio, dt.date(2022, 6, 1)).value
    assert [(s.start, s.ratio) for s in segments] == [
        (Decimal(0), Decimal("0.65")), (Decimal(20000), Decimal("0.70")), (Decimal(50000), Decimal("0.75"))]
    assert value_at(rule.ratio, dt.date(2020, 12, 31)) is None              # before the notice


def test_harbin_and_jiamusi_share_the_provincial_critical_illness_rules():
    """CONTRACT.md Heilongjiang: the rules the Jiamusi notice relays apply in Harbin too."""
    ids = lambda p: [r.id for r in load_policy(p).rules("critical_illness")]
    assert ids("harbin") == ids("jiamusi") == ["ci_resident", "ci_lifted_poverty", "ci_tilt_poor", "ci_employee"]


def test_qinghai_aliases_follow_orphan_and_low_income():
    """青海 二: 事实无人抚养儿童、艾滋病病毒感染儿童 follow 孤儿; 农村易返贫致贫人口 follows 低收入家庭成员."""
    p = load_policy("qinghai")
    assert (p.follows("unsupported_child"), p.follows("hiv_child"), p.follows("monitored_rural")) == (
        "orphan", "orphan", "low_income")
    assert p.follows("dibao") == "dibao"


def test_in_force_dates():
    """哈政办规〔2022〕16号 四(五): 自2023年1月1日起施行,有效期5年; 衢政办发〔2023〕1号: 2023—2025年."""
    harbin, quzhou = load_policy("harbin"), load_policy("quzhou")
    assert not harbin.in_force(dt.date(2022, 12, 31))
    assert harbin.in_force(dt.date(2023, 1, 1)) and harbin.in_force(dt.date(2027, 12, 31))
    assert not harbin.in_force(dt.date(2028, 1, 1))
    assert quzhou.in_force(dt.date(2025, 12, 31)) and not quzhou.in_force(dt.date(2026, 1, 1))


def test_unknown_policy_is_refused():
    with pytest.raises(PolicyError, match="unknown policy 'beijing'"):
        load_policy("beijing")


def test_overlay_defines_an_undefined_ratio(tmp_path):
    """An overlay supplies Changzhi's critical-illness ratio (长民发[2017]142号 三(四) names none)."""
    overlay = tmp_path / "o.yaml"
    overlay.write_text(
        "critical_illness:\n  rules:\n    - id: ci_poor\n"
        "      ratio: [{from: 2017-01-01, value: 0.6, ref: 'local rule'}]\n", encoding="utf-8")
    p = load_policy("changzhi", overlay)
    rule = next(r for r in p.rules("critical_illness") if r.id == "ci_poor")
    assert value_at(rule.ratio, dt.date(2023, 1, 1)).value == Decimal("0.6")
    assert value_at(rule.threshold, dt.date(2023, 1, 1)).value == Decimal("5000")   # kept from the base
    base = next(r for r in load_policy("changzhi").rules("critical_illness") if r.id == "ci_poor")
    assert value_at(base.ratio, dt.date(2023, 1, 1)).value == "undefined"           # base untouched


def test_overlay_adds_a_dated_value_without_losing_the_older_one(tmp_path):
    """A reform from 2024 (threshold 3,000 for 低保边缘) leaves 2023's 3,500 in force for 2023."""
    overlay = tmp_path / "reform.yaml"
    overlay.write_text(
        "assistance:\n  rules:\n    - id: maf_marginal\n"
        "      threshold: [{from: 2024-01-01, value: 3000, ref: 'reform study'}]\n", encoding="utf-8")
    rule = next(r for r in load_policy("harbin", overlay).rules("assistance") if r.id == "maf_marginal")
    assert value_at(rule.threshold, dt.date(2023, 12, 31)).value == Decimal("3500")
    assert value_at(rule.threshold, dt.date(2024, 1, 1)).value == Decimal("3000")


@pytest.mark.parametrize("text, key, what", [
    ("assistance:\n  rules:\n    - id: maf_dibao\n      ratio: [{from: 2023-01-01, value: 1.5, ref: x}]\n",
     "assistance.rules.1.ratio.0.value", "between 0 and 1"),
    ("assistance:\n  rules:\n    - id: maf_dibao\n      cap: [{from: 2023-01-01, value: -5, ref: x}]\n",
     "assistance.rules.1.cap.0.value", "negative"),
    ("assistance:\n  rules:\n    - id: maf_dibao\n      threshold: [{from: 2023-01-01, value: 1.005, ref: x}]\n",
     "assistance.rules.1.threshold.0.value", "two decimals"),
    ("assistance:\n  rulez: []\n", "assistance.rulez", "Extra inputs"),
    ("assistance:\n  rules:\n    - id: maf_dibao\n      categories: [dibao, pirates]\n",
     "assistance.rules.1.categories", "unknown categories"),
    ("assistance:\n  rules:\n    - id: maf_dibao\n      threshold: [{from: 2023-01-01, value: 0}]\n",
     "assistance.rules.1.threshold.0.ref", "Field required"),
])
def test_bad_overlay_names_the_file_and_key(tmp_path, text, key, what):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError) as e:
        load_policy("harbin", overlay)
    message = str(e.value)
    assert str(overlay) in message and key in message and what in message, message


def test_overlay_that_is_not_yaml(tmp_path):
    overlay = tmp_path / "bad.yaml"
    overlay.write_text("assistance: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy("harbin", overlay)


def test_rule_category_must_be_recognised_by_the_jurisdiction(tmp_path):
    overlay = tmp_path / "o.yaml"
    overlay.write_text("assistance:\n  rules:\n    - id: maf_other\n      categories: [lifted_poverty]\n",
                       encoding="utf-8")
    with pytest.raises(PolicyError, match="not in categories.recognised"):
        load_policy("qinghai", overlay)


def test_overlay_with_a_non_number_is_refused(tmp_path):
    overlay = tmp_path / "nan.yaml"
    overlay.write_text("assistance:\n  rules:\n    - id: maf_dibao\n"
                       "      ratio: [{from: 2023-01-01, value: .nan, ref: x}]\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy("harbin", overlay)
