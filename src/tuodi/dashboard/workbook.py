"""The protection report as an XLSX workbook: one sheet per table, amounts in yuan, rates as %."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tuodi.dashboard.tables import Group, Report, category_label
from tuodi.dashboard.xlsx import AMOUNT_FORMAT, RATE_FORMAT, Sheet, write_workbook
from tuodi.programs.fund import SOURCE_TYPES, share_text

#: 中文 headers of the columns every report has (the funds' come from the payer chain)
HEADERS_ZH = {"persons": "人数", "claims": "结算笔数", "claims_with_empty_amounts": "金额未定笔数",
              "medfee_sumamt": "医疗费总额", "inscp_scp_amt": "政策范围内费用",
              "fund_pay_sumamt": "基金支付合计", "psn_part_amt": "个人负担", "protection_rate": "综合保障率",
              "in_scope_protection_rate": "政策范围内保障率", "burden_rate": "个人负担率",
              "persons_warned": "预警人数"}
SOURCE_NAMES = {"fiscal": "财政资金", "social_assistance": "社会救助基金", "charity": "慈善资金",
                "donation": "社会捐助资金"}
#: the further payers' accounts (CONTRACT.md fund file, with the raised sum per source type and names)
ACCOUNT_COLUMNS = ["fund", "fund_name", "year", "raised", *(f"raised_{t}" for t in SOURCE_TYPES), "fiscal_share",
                   "fiscal_share_limit", "paid", "persons", "claims", "balance", "breach", "ref"]
ACCOUNTS_REF = ("衢政办发〔2023〕1号 三(四): 由社会救助基金、慈善资金、社会捐助资金、财政资金等多渠道建立; 财政资金部分原则上"
                "不超过40%; 定期向社会公布专项基金运行情况.")


def group_columns(report: Report) -> list[str]:
    return ["category", "category_name", "month", "persons", "claims", "claims_with_empty_amounts",
            *report.money_columns, "protection_rate", "in_scope_protection_rate", "burden_rate", "persons_warned"]


def headers_zh(report: Report) -> dict[str, str]:
    return {**HEADERS_ZH, **{f.column: f.name for f in report.funds}}


def yuan_dec(fen: int) -> Decimal:
    return Decimal(fen) / 100


def group_row(g: Group) -> list:
    return [g.category, category_label(g.category), g.month, len(g.persons), g.claims, g.incomplete,
            *[yuan_dec(g.money[m]) for m in g.columns], g.protection_rate, g.in_scope_protection_rate,
            g.burden_rate, len(g.warned)]


def chain_note(report: Report) -> str:
    """The funds' columns in the order they pay, and the further payers oth_pay adds up."""
    further = next((f for f in report.funds if f.payers), None)
    return ("Funds in the order they pay: " + ", ".join(f"{f.column} {f.name}" for f in report.funds)
            + (f"; oth_pay is the further payers' sum ({'、'.join(further.payers)})" if further else "") + ".")


def method_notes(report: Report) -> list[str]:
    return ["Rates: 综合保障率 = fund_pay_sumamt / medfee_sumamt; 政策范围内保障率 = fund_pay_sumamt / "
            "inscp_scp_amt; 个人负担率 = psn_part_amt / medfee_sumamt.",
            "Amounts and rates are over the claims whose every amount is known; claims with an empty "
            "amount (a rule the seeds do not quantify) are counted in claims_with_empty_amounts.",
            chain_note(report)]


def _share(v: Decimal | None) -> Decimal | None:
    """A fiscal share as the fund file writes it: four decimals, half-up."""
    return None if v is None else Decimal(share_text(v))


def account_rows(report: Report) -> list[list]:
    rows = []
    for a in report.accounts or ():
        name, ref = report.payer_names.get(a.fund, (a.fund, ""))
        by_type = dict(a.raised_by_type)
        rows.append([a.fund, name, a.year, yuan_dec(a.raised), *(yuan_dec(by_type.get(t, 0)) for t in SOURCE_TYPES),
                     _share(a.fiscal_share), _share(a.fiscal_share_limit), yuan_dec(a.paid), a.persons, a.claims,
                     yuan_dec(a.balance), ";".join(a.breach), ref])
    return rows


def sheets(report: Report) -> list[Sheet]:
    money = report.money_columns
    columns = group_columns(report)
    formats = {**{m: AMOUNT_FORMAT for m in money},
               **{r: RATE_FORMAT for r in ("protection_rate", "in_scope_protection_rate", "burden_rate")}}
    method = [*method_notes(report), *report.notes]
    summary = [group_row(g) for g in [*report.by_category, report.recipients, report.total]]
    out = [
        Sheet("by category 按身份", columns, summary, formats, method),
        Sheet("by month 按月", columns, [group_row(g) for g in report.by_month], formats),
        Sheet("category x month", columns, [group_row(g) for g in report.by_category_month], formats),
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
    if report.accounts is not None:
        amounts = ["raised", *(f"raised_{t}" for t in SOURCE_TYPES), "paid", "balance"]
        out.append(Sheet("further payers 梯次减负", ACCOUNT_COLUMNS, account_rows(report),
                         {**{c: AMOUNT_FORMAT for c in amounts}, "fiscal_share": RATE_FORMAT,
                          "fiscal_share_limit": RATE_FORMAT},
                         [ACCOUNTS_REF,
                          "raised: the sources file, by source type; paid, persons, claims: the further payer's "
                          "payments over the year's claims (the detail rows), persons and claims it paid more "
                          "than 0; balance = raised − paid; breach: fiscal_share above its limit, overspent "
                          "(paid > raised)."]))
    return out


def write_report_xlsx(path: str | Path, report: Report) -> None:
    write_workbook(path, sheets(report))
