"""The protection report as one self-contained HTML page: inline CSS and SVG, no script, no link
to anything outside the file (a Content-Security-Policy forbids it), so an office can open it
offline as it is."""
from __future__ import annotations

from decimal import Decimal
from html import escape
from pathlib import Path

from tuodi.dashboard.charts import rate_lines, stacked_bars
from tuodi.dashboard.tables import ENGLISH, PERSONAL, Group, Report, category_label
from tuodi.dashboard.workbook import (ACCOUNTS_REF, SOURCE_NAMES, account_rows, chain_note, group_columns,
                                      headers_zh)
from tuodi.programs.fund import SOURCE_TYPES
from tuodi.io.atomic import atomic_output

CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px;color:#222}
h1{font-size:22px} h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}
.kpis{display:flex;gap:12px;flex-wrap:wrap}
.kpi{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.kpi .v{font-size:20px;font-weight:bold} .kpi .l{font-size:12px;color:#555}
table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}
th{background:#f3f3f3} td.t{text-align:left}
.met{color:#1a7f37;font-weight:bold} .unmet{color:#c62828;font-weight:bold}
svg text{font-size:11px} svg .chart-title{font-size:13px;font-weight:bold}
.note{font-size:12px;color:#555}
"""


def _pct(r: Decimal | None) -> str:
    return "—" if r is None else f"{r * 100:.2f}%"


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:,.2f}"


def _group_table(report: Report, table_id: str, groups: list[Group]) -> str:
    cols, zh = group_columns(report), headers_zh(report)
    head = "".join(f"<th>{escape(zh.get(c, c))}<br><small>{escape(c)}</small></th>" for c in cols[1:])
    rows = []
    for g in groups:
        cells = [f'<td class="t">{escape(category_label(g.category))}</td>', f'<td class="t">{escape(g.month)}</td>',
                 f"<td>{len(g.persons)}</td>", f"<td>{g.claims}</td>", f"<td>{g.incomplete}</td>",
                 *[f'<td data-col="{escape(m)}">{_yuan(g.money[m])}</td>' for m in g.columns],
                 f'<td data-col="protection_rate">{_pct(g.protection_rate)}</td>',
                 f'<td data-col="in_scope_protection_rate">{_pct(g.in_scope_protection_rate)}</td>',
                 f'<td data-col="burden_rate">{_pct(g.burden_rate)}</td>', f"<td>{len(g.warned)}</td>"]
        rows.append(f'<tr data-category="{escape(g.category)}" data-month="{escape(g.month)}">{"".join(cells)}</tr>')
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _accounts(report: Report) -> str:
    """The further payers' accounts per year (专项基金运行情况, 衢政办发〔2023〕1号 三(四)); empty when
    no sources were given."""
    if report.accounts is None:
        return ""
    head = ("<th>fund</th><th>name</th><th>year</th><th>筹资 raised</th>"
            + "".join(f"<th>{escape(SOURCE_NAMES[t])}<br><small>{escape(t)}</small></th>" for t in SOURCE_TYPES)
            + "<th>财政占比 fiscal share</th><th>上限 limit</th><th>支出 paid</th><th>人数 persons</th>"
              "<th>笔数 claims</th><th>结余 balance</th><th>breach</th><th>ref</th>")
    rows = []
    for r in account_rows(report):
        fund, name, year, raised, *by_type = r[:4 + len(SOURCE_TYPES)]
        share, limit, paid, persons, claims, balance, breach, ref = r[4 + len(SOURCE_TYPES):]
        cells = [f'<td class="t">{escape(fund)}</td>', f'<td class="t">{escape(name)}</td>', f"<td>{year}</td>",
                 f'<td data-col="raised">{raised:,.2f}</td>',
                 *(f'<td data-col="raised_{t}">{v:,.2f}</td>' for t, v in zip(SOURCE_TYPES, by_type)),
                 f'<td data-col="fiscal_share">{_pct(share)}</td>', f'<td data-col="fiscal_share_limit">{_pct(limit)}</td>',
                 f'<td data-col="paid">{paid:,.2f}</td>', f'<td data-col="persons">{persons}</td>',
                 f'<td data-col="claims">{claims}</td>', f'<td data-col="balance">{balance:,.2f}</td>',
                 f'<td data-col="breach" class="{"unmet" if breach else "met"}">{escape(breach) or "—"}</td>',
                 f'<td class="t">{escape(ref)}</td>']
        rows.append(f'<tr data-fund="{escape(fund)}" data-year="{year}">{"".join(cells)}</tr>')
    return (f'<h2>梯次减负与专项基金 further payers\' accounts</h2><p class="note">{escape(ACCOUNTS_REF)}</p>'
            f'<table id="accounts"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
            '<p class="note">raised: the sources file, by source type; paid, persons, claims: the payer\'s '
            'payments over the year\'s claims (persons and claims paid more than 0); balance = raised − paid.</p>')


def render_html(report: Report) -> str:
    t, rc = report.total, report.recipients
    kpis = [("医疗费总额 total cost (元)", _yuan(t.money["medfee_sumamt"]), "kpi-cost"),
            ("基金支付 funds (元)", _yuan(t.money["fund_pay_sumamt"]), "kpi-funds"),
            ("综合保障率 protection rate", _pct(t.protection_rate), "kpi-protection"),
            ("政策范围内保障率 in-scope protection", _pct(t.in_scope_protection_rate), "kpi-inscope"),
            ("个人负担率 burden rate", _pct(t.burden_rate), "kpi-burden"),
            ("救助对象综合保障率 recipients' protection", _pct(rc.protection_rate), "kpi-recipients"),
            ("预警人数 persons warned", str(len(t.warned)), "kpi-warned")]
    kpi_html = "".join(f'<div class="kpi" id="{i}"><div class="v">{escape(v)}</div><div class="l">{escape(l)}</div></div>'
                       for l, v, i in kpis)
    spend = stacked_bars(
        "各身份费用构成 who pays the bill, by identity category",
        [(category_label(g.category), g.money) for g in [*report.by_category, report.recipients, report.total]],
        {**{f.column: f.label for f in report.funds}, PERSONAL[0]: f"{PERSONAL[1]} {ENGLISH[PERSONAL[0]]}"},
        "chart-spend")
    targets = {x.id: x for x in report.targets}
    target_lines = [(f"目标 {x.name} {x.op} {x.value * 100:.0f}%", x.value, "#1a7f37" if x.id == "protection_rate" else "#c62828")
                    for x in report.targets if x.id in ("protection_rate", "burden_rate")]
    rates = rate_lines(
        "按月保障率 protection and burden by month (all claims)", report.months,
        {"综合保障率 protection": ([g.protection_rate for g in report.by_month], "#1a7f37"),
         "个人负担率 burden": ([g.burden_rate for g in report.by_month], "#c62828"),
         "政策范围内保障率 in scope": ([g.in_scope_protection_rate for g in report.by_month], "#4e79a7")},
        target_lines, "chart-rates")
    target_rows = "".join(
        f'<tr data-target="{escape(x.id)}"><td class="t">{escape(x.name)}</td><td>{escape(x.op)} {x.value * 100:.0f}%</td>'
        f'<td>{x.year}</td><td data-col="actual">{_pct(x.actual)}</td>'
        f'<td class="{"met" if x.met else "unmet" if x.met is False else ""}">'
        f'{"达标 met" if x.met else "未达标 not met" if x.met is False else "无法由结算数据测算 not measurable"}</td>'
        f'<td class="t">{escape(x.source)}: {escape(x.ref)}</td></tr>' for x in report.targets)
    warn_rows = "".join(
        f'<tr data-rule="{escape(w["rule"])}"><td class="t">{escape(w["rule"])}</td><td class="t">{escape(w["name"])}</td>'
        f'<td>{w["persons"]}</td><td class="t">{escape(w["notify"])}</td><td class="t">{escape(w["ref"])}</td></tr>'
        for w in report.warnings)
    contribution = ""
    if report.contribution:
        rows = "".join(f'<tr><td class="t">{escape(c["item"])}</td><td>{escape(c["from"])}</td>'
                       f'<td>{Decimal(c["amount"]):,.2f}</td><td class="t">{escape(c["ref"])}</td></tr>'
                       for c in report.contribution)
        contribution = (f'<h2>筹资 who pays the premium</h2><table id="contribution"><thead><tr><th>item</th>'
                        f'<th>from</th><th>元/人</th><th>ref</th></tr></thead><tbody>{rows}</tbody></table>')
    notes = "".join(f"<li>{escape(n)}</li>" for n in [chain_note(report), *report.notes])
    accounts = _accounts(report)
    _ = targets
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(report.policy_name)} 医疗保障情况报告 — Tuodi</title><style>{CSS}</style></head>
<body>
<h1>{escape(report.policy_name)} ({escape(report.policy_id)}) 医疗保障情况报告</h1>
<p class="note">{t.claims} 笔结算, {len(t.persons)} 人, {escape(report.months[0] if report.months else "")} –
{escape(report.months[-1] if report.months else "")}. 金额单位: 元.</p>
<div class="kpis">{kpi_html}</div>
<h2>图表 charts</h2>
<div>{spend}</div>
<div>{rates}</div>
<h2>目标对比 targets</h2>
<table id="targets"><thead><tr><th>target</th><th>goal</th><th>year</th><th>actual (救助对象)</th><th>status</th><th>source</th></tr></thead>
<tbody>{target_rows}</tbody></table>
<h2>按身份 by identity category</h2>
{_group_table(report, "by-category", [*report.by_category, report.recipients, report.total])}
<h2>按月 by month</h2>
{_group_table(report, "by-month", report.by_month)}
<h2>身份 × 月 category × month</h2>
{_group_table(report, "by-category-month", report.by_category_month)}
<h2>预警 early warnings</h2>
<table id="warnings"><thead><tr><th>rule</th><th>name</th><th>persons</th><th>notify</th><th>ref</th></tr></thead>
<tbody>{warn_rows}</tbody></table>
{contribution}
{accounts}
<h2>说明 method</h2>
<ul class="note"><li>综合保障率 = fund_pay_sumamt ÷ medfee_sumamt; 政策范围内保障率 = fund_pay_sumamt ÷ inscp_scp_amt;
个人负担率 = psn_part_amt ÷ medfee_sumamt.</li>
<li>Amounts and rates are over the claims whose every amount is known; a claim with an empty amount (a rule the
seeds do not quantify) is counted apart, never guessed.</li>{notes}</ul>
</body></html>
"""


def write_report_html(path: str | Path, report: Report) -> None:
    """Write the page atomically (a temporary file beside it, renamed when complete)."""
    page = render_html(report)
    with atomic_output(Path(path)) as tmp:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(page)
