"""The protection report as an XLSX workbook: one sheet per table, amounts in yuan, rates as %."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tuodi.dashboard.tables import MONEY, Group, Report, category_label
from tuodi.dashboard.xlsx import AMOUNT_FORMAT, RATE_FORMAT, Sheet, write_workbook

GROUP_COLUMNS = ["category", "category_name", "month", "persons", "claims", "claims_with_empty_amounts",
                 *MONEY, "protection_rate", "in_scope_protection_rate", "burden_rate", "persons_warned"]
#: 中文 headers, shown on the HTML page and in the workbook's second header row notes
HEADERS_ZH = {"persons": "人数", "claims": "结算笔数", "claims_with_empty_amounts": "金额未定笔数",
              "medfee_sumamt": "医疗费总额", "inscp_scp_amt": "政策范围内费用", "hifp_pay": "基本医保",
              "hifmi_pay": "大病保险", "maf_pay": "医疗救助", "tilt_pay": "倾斜救助",
              "fund_pay_sumamt": "基金支付合计", "psn_part_amt": "个人负担", "protection_rate": "综合保障率",
              "in_scope_protection_rate": "政策范围内保障率", "burden_rate": "个人负担率",
              "persons_warned": "预警人数"}


def yuan_dec(fen: int) -> Decimal:
    return Decimal(fen) / 100


def group_row(g: Group) -> list:
    return [g.category, category_label(g.category), g.month, len(g.persons), g.claims, g.incomplete,
            *[yuan_dec(g.money[m]) for m in MONEY], g.protection_rate, g.in_scope_protection_rate,
            g.burden_rate, len(g.warned)]


def sheets(report: Report) -> list[Sheet]:
    formats = {**{m: AMOUNT_FORMAT for m in MONEY},
               **{r: RATE_FORMAT for r in ("protection_rate", "in_scope_protection_rate", "burden_rate")}}
    method = ["Rates: 综合保障率 = fund_pay_sumamt / medfee_sumamt; 政策范围内保障率 = fund_pay_sumamt / "
              "inscp_scp_amt; 个人负担率 = psn_part_amt / medfee_sumamt.",
              "Amounts and rates are over the claims whose every amount is known; claims with an empty "
              "amount (a rule the seeds do not quantify) are counted in claims_with_empty_amounts.",
              *report.notes]
    summary = [group_row(g) for g in [*report.by_category, report.recipients, report.total]]
    out = [
        Sheet("by category 按身份", GROUP_COLUMNS, summary, formats, method),
        Sheet("by month 按月", GROUP_COLUMNS, [group_row(g) for g in report.by_month], formats),
        Sheet("category x month", GROUP_COLUMNS, [group_row(g) for g in report.by_category_month], formats),
        Sheet("targets 目标", ["target", "name", "op", "value", "year", "actual", "met", "source", "ref"],
              [[t.id, t.name, t.op, t.value, t.year, t.actual, "" if t.met is None else ("yes" if t.met else "no"),
                t.source, t.ref] for t in report.targets],
              {"value": RATE_FORMAT, "actual": RATE_FORMAT},
              ["actual: over the claims of identity holders (医疗救助对象); empty when claims cannot measure it."]),
        Sheet("warnings 预警", ["rule", "name", "persons", "notify", "ref"],
              [[w["rule"], w["name"], w["persons"], w["notify"], w["ref"]] for w in report.warnings]),
    ]
    if report.contribution:
        out.append(Sheet("contribution 筹资", ["item", "from", "amount", "ref"],
                         [[c["item"], c["from"], c["amount"], c["ref"]] for c in report.contribution],
                         {"amount": AMOUNT_FORMAT}))
    return out


def write_report_xlsx(path: str | Path, report: Report) -> None:
    write_workbook(path, sheets(report))
