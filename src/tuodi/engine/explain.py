"""Explanations (结算说明) of settlements, readable by an insurance-office clerk."""
from __future__ import annotations

from tuodi.engine.model import Settlement, Step
from tuodi.engine.money import ratio_text, yuan
from tuodi.policy import CATEGORY_NAMES, Policy
from tuodi.policy.payers import TIER_BASE_LABEL

#: the tiers' base labels as the explanation prints them (the service's views recognise them)
BASE_LABEL = TIER_BASE_LABEL

MED_TYPE_LABEL = {"inpatient": "住院", "chronic": "门诊慢特病", "outpatient": "普通门诊"}


def category_label(slug: str | None) -> str:
    if not slug:
        return "无救助身份"
    return f"{slug} ({CATEGORY_NAMES[slug][0]})"


def _ratios(step: Step) -> str:
    if len(step.ratios) == 1:
        return ratio_text(step.ratios[0][1])
    parts = []
    for i, (start, bp) in enumerate(step.ratios):
        end = step.ratios[i + 1][0] if i + 1 < len(step.ratios) else None
        lo = max(start, step.threshold or 0)
        parts.append(f"{yuan(lo)}–{yuan(end) if end else '∞'} {ratio_text(bp)}")
    return "分段 " + ", ".join(parts)


def explain_step(step: Step, policy: Policy) -> list[str]:
    payer = policy.payer(step.tier)
    base_label = payer.base_label
    amount = "空 (未量化)" if step.amount is None else yuan(step.amount)
    if payer.further:   # one of the payers whose sum is oth_pay: named, with its fund code or id
        head = f"  {payer.name} ({payer.fund_pay_type}, 计入 {payer.column}) = {amount}"
    else:
        head = f"  {payer.name} {payer.column} = {amount}"
    if step.rule_id:
        who = f" [{category_label(step.category)}]" if step.category else ""
        head += f"   规则 {step.rule_id}{' ' + step.rule_name if step.rule_name else ''}{who}"
    lines = [head]
    if step.amount is None or not step.refs:
        base = "" if step.base_claim is None else f"{base_label} 本次 {yuan(step.base_claim)}; "
        if step.note:
            lines.append(f"      {base}{step.note}")
        return lines
    cap = "不设封顶线" if step.cap is None else yuan(step.cap)
    # a family-unit payer's yearly base, paid amount and cap are the household's (hh_no)
    year = "家庭年度累计" if payer.unit == "family" else "年度累计"
    lines.append(
        f"      {base_label}: 本次 {yuan(step.base_claim)}, {year} {yuan(step.base_year)}; "
        f"起付标准 {yuan(step.threshold)}; 比例 {_ratios(step)}; 年度限额 {cap}"
    )
    if step.trigger_line is not None:
        lines.append(f"      启动线 {yuan(step.trigger_line)} (年度累计须超过此线)")
    due = step.amount if step.due is None else step.due
    paid = "本年家庭已付" if payer.unit == "family" else "本年已付"
    lines.append(f"      {'家庭' if payer.unit == 'family' else ''}年度应付 {yuan(step.annual_amount)} − "
                 f"{paid} {yuan(step.paid_before)} = {yuan(due)}")
    lines += _own_cost(step, base_label)
    if step.note:
        lines.append(f"      注: {step.note}")
    dates = sorted(set(step.value_dates))
    lines.append(f"      依据 (取值生效日 {', '.join(d.isoformat() for d in dates)}):")
    for ref in step.refs:
        lines.append(f"        - {policy.cite(ref)}")
    return lines


def _own_cost(step: Step, base_label: str) -> list[str]:
    """The own-cost rule on this step (CONTRACT.md, No claim is paid beyond its own cost): what
    passed to earlier claims, what no claim had room for, and the top-ups from later claims."""
    lines = []
    own = step.amount - sum(a for _, a in step.top_ups)  # type: ignore[operator]
    if step.due is not None and step.due > own:
        lines.append(f"      本次支付以本次{base_label} {yuan(step.base_claim)} 为限: 本次 {yuan(own)}, "
                     f"余额 {yuan(step.due - own)}")
        if step.passed_on:
            given = ", ".join(f"{sid} {yuan(a)}" for sid, a in step.passed_on)
            lines.append(f"      余额补付本年此前的结算 (由近及远, 各以其剩余基数为限): {given}")
        if step.unplaced:
            lines.append(f"      {yuan(step.unplaced)} 本年此前的结算均无剩余基数可容纳 (给定的金额不再追加), 未支付; "
                         "本年以后的结算可再支付")
    if step.top_ups:
        got = ", ".join(f"{sid} +{yuan(a)}" for sid, a in step.top_ups)
        lines.append(f"      后续结算使年度应付增加, 补付本结算: {got}; 本结算合计 {yuan(step.amount)}")
    return lines


def explain_settlement(s: Settlement, policy: Policy, med_type: str | None = None) -> str:
    mt = f"  {MED_TYPE_LABEL.get(med_type, med_type)} {med_type}" if med_type else ""
    lines = [
        f"结算 {s.setl_id}  {s.setl_date.isoformat()}{mt}  身份 {category_label(s.category)}",
        f"  医疗费总额 {yuan(s.medfee_sumamt)}  政策范围内 {yuan(s.inscp_scp_amt)}  "
        f"基本医保 hifp_pay = {yuan(s.hifp_pay)}",
    ]
    for step in s.steps:
        lines += explain_step(step, policy)
    fund = "空" if s.fund_pay_sumamt is None else yuan(s.fund_pay_sumamt)
    part = "空" if s.psn_part_amt is None else yuan(s.psn_part_amt)
    if policy.further_payers:
        oth = "空" if s.oth_pay is None else yuan(s.oth_pay)
        lines.append(f"  梯次减负合计 oth_pay = {oth}")
    lines.append(f"  基金支付合计 fund_pay_sumamt = {fund}   个人负担 psn_part_amt = {part}")
    return "\n".join(lines)
