"""The targets of `relay bench`, judged from the figures the scenarios return.

One table for the report's summary: each row names its target, the figure the run measured
and whether it was met. A scenario that was skipped or failed, or returned no such figure,
gives its row the reason instead and no verdict: a missing figure is never counted as met.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# (target, scenario, judge): judge(figures, quick) -> (figure text, met)
Judge = Callable[[dict[str, Any], bool], tuple[str, bool]]


def _n(value: float) -> str:
    return f"{value:,.0f}"


def _intake_ratio(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
    return f"{r['ratio']:.2f}× (lowest: {r['ratio_at']})", r["ratio"] >= 0.8


def _intake_p99(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
    return f"{r['p99_ms']:.0f} ms (highest: {r['p99_at']})", r["p99_ms"] < 50


def _policy(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
    text = f"{r['ratio']:.2f}× ({_n(r['decide_per_s'])}/s against {_n(r['parse_per_s'])}/s)"
    return text, r["ratio"] >= 1.5


def _dispatch_ratio(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
    text = (f"{r['ratio']:.2f}× ({_n(r['relay_messages_per_s'])} msg/s against "
            f"{_n(r['baseline_jobs_per_s'])} jobs/s)")  # fmt: skip
    return text, r["ratio"] >= 10


def _dispatch_rate(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
    text = f"{_n(r['relay_messages_per_s'])} msg/s ({_n(r['settings']['messages'])} messages)"
    return text, r["relay_messages_per_s"] >= 3000


def _kannel(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
    text = (f"{r['ratio']:.2f}× ({_n(r['relay_msg_s'])} msg/s against "
            f"{_n(r['urllib3_direct_msg_s'])} msg/s)")  # fmt: skip
    return text, r["ratio"] >= 0.9


def _e2e(kind: str) -> Judge:
    def judge(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
        jasmin = r.get("jasmin") or {}
        if f"ratio_{kind}" not in r:
            raise LookupError(f"Jasmin {jasmin.get('status')}: {jasmin.get('reason')}")
        relay, theirs = r["relay"][f"{kind}_per_s"], jasmin[f"{kind}_per_s"]
        text = f"{r[f'ratio_{kind}']:.2f}× ({_n(relay)}/s against Jasmin's {_n(theirs)}/s)"
        return text, r[f"ratio_{kind}"] >= 1.0

    return judge


def _book(r: dict[str, Any], quick: bool) -> str:
    contacts = r["settings"]["contacts"]
    return "" if contacts >= 100_000 else f"; a {_n(contacts)}-contact book, not 100,000"


def _campaign_rate(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
    text = f"{_n(r['recipients_per_s'])} recipients/s{_book(r, quick)}"
    return text, r["recipients_per_s"] >= 10_000


def _campaign_rss(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
    return f"{r['peak_rss_mb']:.0f} MB{_book(r, quick)}", r["peak_rss_mb"] <= 250


def _cabinet(r: dict[str, Any], quick: bool) -> tuple[str, bool]:
    page, ms = max(r["median_ms"].items(), key=lambda kv: kv[1])
    book = r["settings"]["messages"]
    note = "" if book >= 1_000_000 else f"; {_n(book)} messages, not 1,000,000"
    return f"{ms:.0f} ms (slowest: {page}{note})", ms < 300


TARGETS: list[tuple[str, str, Judge]] = [
    ("intake: events and webhooks ≥ 0.8× GET /healthz", "intake", _intake_ratio),
    ("intake: p99 < 50 ms", "intake", _intake_p99),
    ("dispatch: ≥ 10× a bare RQ job per message", "dispatch", _dispatch_ratio),
    ("dispatch: ≥ 3,000 msg/s", "dispatch", _dispatch_rate),
    ("relay → Kannel: ≥ 0.9× urllib3 driving Kannel", "kannel", _kannel),
    ("policy: decide() ≥ 1.5× phonenumbers.parse", "policy", _policy),
    ("campaign 100k: ≥ 10,000 recipients/s", "campaign", _campaign_rate),
    ("campaign 100k: peak RSS ≤ 250 MB", "campaign", _campaign_rss),
    ("e2e over SMPP: delivered ≥ 1.0× Jasmin", "e2e_smpp", _e2e("delivered")),
    ("e2e over SMPP: accepted ≥ 1.0× Jasmin", "e2e_smpp", _e2e("accepted")),
    ("cabinet: heaviest page median < 300 ms", "cabinet", _cabinet),
]


def evaluate(scenarios: dict[str, dict[str, Any]], quick: bool) -> list[dict[str, Any]]:
    """A row per target of every scenario that was run: target, figure, met (None: no figure)."""
    rows: list[dict[str, Any]] = []
    for target, name, judge in TARGETS:
        if name not in scenarios:
            continue
        result = scenarios[name]
        if result.get("status", "ok") != "ok":
            figure, met = f"{result.get('status')}: {result.get('reason', '')}".strip(), None
        else:
            try:
                figure, verdict = judge(result, quick)
                met = bool(verdict)
            except (LookupError, TypeError, ValueError, ZeroDivisionError) as exc:
                figure, met = f"no figure ({exc})", None
        rows.append({"target": target, "scenario": name, "figure": figure, "met": met})
    return rows


def verdict(met: bool | None) -> str:
    return "no figure" if met is None else ("met" if met else "not met")


def markdown_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| target | figure | verdict |", "| --- | --- | --- |"]
    for row in rows:
        shown = verdict(row["met"])
        figure = str(row["figure"]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {row['target']} | {figure} | {shown if row['met'] else f'**{shown}**'} |")
    return lines
