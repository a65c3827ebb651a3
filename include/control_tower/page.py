"""The Control Tower page as HTML: no script, no asset from elsewhere (the UI may run offline), the
charts drawn server-side as SVG. Links are relative to the page (``/control-tower/``) so they work
behind a path prefix; links into Airflow's own UI open in the top window (the page is shown in an
iframe of the UI's navigation)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from include.control_tower.data import DAG_ID, DateStatus, Overview

TEMPLATES = Path(__file__).with_name("templates")
DOCS = Path(__file__).resolve().parents[2] / "docs"
_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined)

STATE_COLOURS = {
    "ok": "#2e7d32",
    "failed": "#c62828",
    "running": "#1565c0",
    "attention": "#ef6c00",
    "no_run": "#6a1b9a",
    "idle": "#9e9e9e",
}
COMPLETENESS_COLOURS = {"complete": "#4682b4", "provisional": "#9ec3e6", "partial": "#ef6c00", "no_input": "#c62828"}


def runbook_href(section: str) -> str:
    """A runbook section (``file.md#anchor``): under ``RETAIL_RUNBOOK_BASE`` when that is a URL (a
    wiki, the repository's web view), else the copy this plugin serves from ``docs/runbooks``."""
    from include.config import RUNBOOK_BASE

    if re.match(r"^https?://", RUNBOOK_BASE):
        return f"{RUNBOOK_BASE.rstrip('/')}/{section}"
    return f"docs/runbooks/{section}"


def _money(value: float | None) -> str:
    return "" if value is None else f"{value:,.2f}"


def revenue_chart(dates: list[DateStatus], width: int = 900, height: int = 220) -> Markup:
    """Net revenue per day as bars (coloured by completeness: an incomplete date stands out), orders
    as a line, oldest date on the left."""
    days = sorted(dates, key=lambda d: d.day)
    left, right, top, bottom = 70, 60, 20, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(days), 1)
    top_revenue = max((d.net_revenue or 0 for d in days), default=0) or 1
    top_orders = max((d.orders or 0 for d in days), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="net revenue and orders per day" '
        f'width="{width}" height="{height}" class="chart" id="revenue-chart">',
        f'<text x="{left}" y="12" class="axis">net revenue (bars, left) and orders (line, right)</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="axis">{escape(_money(top_revenue))}</text>',
        f'<text x="{left + plot_w + 6}" y="{top + 4}" class="axis">{top_orders:,}</text>',
    ]
    points = []
    for i, d in enumerate(days):
        x = left + i * step
        label = f"{d.day}: " + (
            f"net revenue {_money(d.net_revenue)}, {d.orders:,} orders" if d.net_revenue is not None else "no GOLD row"
        )
        status = d.completeness or "none"
        label += f", input {status}" + (f" (missing {' '.join(d.missing_feeds)})" if d.missing_feeds else "")
        if d.net_revenue is not None:
            h = plot_h * d.net_revenue / top_revenue
            colour = COMPLETENESS_COLOURS.get(status, "#bdbdbd")
            parts.append(
                f'<rect x="{x + step * 0.15:.1f}" y="{top + plot_h - h:.1f}" width="{step * 0.7:.1f}" '
                f'height="{h:.1f}" fill="{colour}" data-date="{d.day}" data-completeness="{status}">'
                f"<title>{escape(label)}</title></rect>"
            )
        if d.completeness in ("partial", "no_input", "provisional") or (d.net_revenue is None and d.run is not None):
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" class="mark" '
                f'data-incomplete="{d.day}">!<title>{escape(label)}</title></text>'
            )
        if d.orders is not None:
            points.append(f"{x + step / 2:.1f},{top + plot_h - plot_h * d.orders / top_orders:.1f}")
        if len(days) <= 31 and (i % max(len(days) // 10, 1) == 0 or i == len(days) - 1):
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{top + plot_h + 30}" text-anchor="middle" class="axis">'
                f"{d.day:%m-%d}</text>"
            )
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#333" stroke-width="1.5"/>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text from data above went through escape()


def dq_chart(dates: list[DateStatus], width: int = 900, height: int = 110) -> Markup:
    """Failed checks per day: critical (red) stacked under warnings (amber)."""
    days = sorted(dates, key=lambda d: d.day)
    left, right, top, bottom = 70, 60, 16, 18
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(days), 1)
    most = max((len(d.dq["critical"]) + len(d.dq["warning"]) for d in days), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="failed checks per day" '
        f'width="{width}" height="{height}" class="chart" id="dq-chart">',
        f'<text x="{left}" y="11" class="axis">failed checks per day (critical red, warning amber)</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 8}" text-anchor="end" class="axis">{most}</text>',
    ]
    for i, d in enumerate(days):
        x = left + i * step + step * 0.15
        base = top + plot_h
        for severity, colour in (("critical", "#c62828"), ("warning", "#f9a825")):
            n = len(d.dq[severity])
            if n:
                h = plot_h * n / most
                parts.append(
                    f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" fill="{colour}" '
                    f'data-date="{d.day}" data-severity="{severity}"><title>{d.day}: {n} {severity}</title></rect>'
                )
                base -= h
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text from data above went through escape()


def render(overview: Overview, *, days: int, now: datetime) -> str:
    newer_end = overview.last + timedelta(days=days)
    return _env.get_template("page.html.j2").render(
        o=overview,
        days=days,
        now=now,
        dag_id=DAG_ID,
        dag_url=f"../dags/{DAG_ID}",
        older=f"?end={overview.first - timedelta(days=1)}&days={days}",
        newer=f"?end={newer_end}&days={days}" if newer_end < date.today() else f"?days={days}",
        colours=STATE_COLOURS,
        completeness_colours=COMPLETENESS_COLOURS,
        revenue_chart=revenue_chart(overview.dates),
        dq_chart=dq_chart(overview.dates),
        runbook_href=runbook_href,
        money=_money,
        lost_alerts=sum(len(d.alerts_lost) for d in overview.dates),
        sent_alerts=sum(len(d.alerts_sent) for d in overview.dates),
    )


# --- the runbooks, served beside the page ---------------------------------------------------------


def _slug(heading: str) -> str:
    """GitHub's heading anchor (the one the alerts and this page link to)."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def render_doc(relative: str) -> str | None:
    """``docs/<relative>`` (a Markdown file) as an HTML page with GitHub's heading anchors; None when
    there is no such file under docs/."""
    from markdown_it import MarkdownIt

    path = (DOCS / relative).resolve()
    if path.suffix != ".md" or DOCS.resolve() not in path.parents or not path.is_file():
        return None
    md = MarkdownIt("commonmark", {"html": False}).enable("table")  # raw HTML in a doc is shown as text
    tokens = md.parse(path.read_text(encoding="utf-8"))
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            token.attrSet("id", _slug(tokens[i + 1].content))
    body = md.renderer.render(tokens, md.options, {})
    home = "../" * (relative.count("/") + 1)  # served at <page>/docs/<relative>
    safe = Markup(body)  # noqa: S704 - markdown-it escapes text; raw HTML is off
    return _env.get_template("doc.html.j2").render(title=path.stem, body=safe, home=home)
