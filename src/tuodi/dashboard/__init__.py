"""The protection report (保障情况报告): tables per identity category and month, an XLSX workbook
and a self-contained HTML page with inline SVG charts (no CDN, opens offline)."""
