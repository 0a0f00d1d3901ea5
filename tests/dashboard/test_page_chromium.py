"""The report page in a real headless Chromium (Playwright, Debian's /usr/bin/chromium): it loads
from the file alone, draws its charts, and shows the figures the settled claims give."""
from __future__ import annotations

import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from dashboard.test_report import CLAIMS, IDENTITIES, MONEY, PERSONS, STATS

CHROMIUM = os.environ.get("TUODI_TEST_CHROMIUM") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]

pytestmark = pytest.mark.skipif(
    not os.environ.get("TUODI_TEST_CHROMIUM") and not Path("/usr/bin/chromium").exists(),
    reason="no Chromium: set TUODI_TEST_CHROMIUM or install it (apt-get install -y chromium); .ci/run does both")


def test_report_page_renders_offline_with_charts_and_the_right_figures(tuodi):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (test extra) is not installed")
    r = tuodi("report", "harbin", PERSONS, IDENTITIES, CLAIMS, STATS, out=None, args=["--html", "{dir}/report.html"])
    assert r.exit_code == 0, r.stderr
    s = tuodi("settle", "harbin", PERSONS, IDENTITIES, CLAIMS, STATS)
    complete = [row for row in s.rows if all(row[m] != "" for m in MONEY)]
    sums = defaultdict(Decimal)
    for row in complete:
        for m in MONEY:
            sums[m] += Decimal(row[m])
    protection = f"{sums['fund_pay_sumamt'] / sums['medfee_sumamt'] * 100:.2f}%"
    funds = f"{sums['fund_pay_sumamt']:,.2f}"

    outside, errors = [], []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.route("**/*", lambda route: route.continue_() if route.request.url.startswith("file:")
                       else (outside.append(route.request.url), route.abort()))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((r.folder / "report.html").as_uri())
            page.wait_for_load_state("load")
            assert "医疗保障情况报告" in page.title()
            assert page.locator("#kpi-protection .v").inner_text() == protection
            assert page.locator("#kpi-funds .v").inner_text() == funds
            total_row = page.locator('#by-category tr[data-category="(all)"]')
            assert total_row.locator('td[data-col="fund_pay_sumamt"]').inner_text() == funds
            charts = page.locator("svg.chart")
            assert charts.count() == 2
            for i in range(2):
                box = charts.nth(i).bounding_box()
                assert box and box["width"] > 300 and box["height"] > 150
            # the spend chart: one bar per category row + recipients + total, six segments each
            # (basic insurance, the payer chain's columns hifmi, maf, tilt and oth_pay, the personal
            # part), each bar filling the same drawn width (the segments are shares of the bill)
            bars = page.locator('#chart-spend rect[data-series]')
            categories = page.locator('#by-category tbody tr').count()
            assert bars.count() == 6 * categories
            widths = defaultdict(float)
            for j in range(bars.count()):
                box = bars.nth(j).bounding_box()
                if box:
                    widths[round(box["y"])] += box["width"]
            full = [w for w in widths.values()]
            assert len(full) == categories and max(full) - min(full) < 1.0 and min(full) > 400
            # the rates chart: a point per month per line, and the two dashed 2025 target lines
            months = page.locator("#by-month tbody tr").count()
            assert page.locator("#chart-rates circle").count() == 3 * months
            assert sorted(page.locator("#chart-rates line.target").evaluate_all(
                "ls => ls.map(l => l.dataset.value)")) == ["0.15", "0.85"]
        finally:
            browser.close()
    assert outside == [] and errors == []
