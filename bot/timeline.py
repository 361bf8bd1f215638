"""A case's dates as a picture: one row per strand, the statutory clocks across them all, and today.

Drawn with matplotlib's object API (a `Figure` of its own, no pyplot), so nothing needs a display
and no global backend is switched for the rest of the process. The same drawing is saved as a PNG
(for Slack and the chronology) and an SVG (to print or zoom).

The picture can be posted in a Slack thread, so it shows the reference, organisation names and
dates only: never the complainant's name, nor what a strand is about.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from matplotlib import rc_context
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from flows.calendar import acknowledgement_due, london_date, response_due, six_month_point
from flows.model import Case

CASE_ROW = "Case"
LineStyle = Literal["-", "--", "-.", ":"]
# marker, colour, filled, legend label: one entry per kind of mark
STYLES: dict[str, tuple[str, str, bool, str]] = {
    "received": ("o", "#1f4e79", True, "complaint received"),
    "acknowledged": ("s", "#1f4e79", False, "acknowledged"),
    "responded": ("*", "#2e7d32", True, "response sent"),
    "closed": ("X", "#555555", True, "closed"),
    "target": ("D", "#c55a11", True, "target date"),
    "previous": ("D", "#c55a11", False, "earlier target"),
    "proposed": ("D", "#7f6000", False, "new date proposed"),
    "contribution": ("o", "#2e7d32", True, "contribution received"),
    "milestone": ("|", "#555555", True, "update due (milestone)"),
}
# colour, line style: the clocks drawn across every row
CLOCKS: dict[str, tuple[str, LineStyle]] = {
    "acknowledgement due": ("#1f4e79", ":"),
    "response period ends": ("#7030a0", "--"),
    "six-month point": ("#c00000", "--"),
    "agreed longer period": ("#c00000", "--"),
    "impasse: resolve by": ("#7f6000", "-."),
    "today": ("#d62728", "-"),
}


@dataclass(frozen=True)
class Mark:
    on: date
    kind: str  # a key of STYLES


@dataclass(frozen=True)
class Row:
    label: str
    marks: tuple[Mark, ...]
    span: tuple[date, date] | None = None  # from the strand's start to its target or answer


def draw_timeline(
    case: Case,
    today: date,
    path_png: Path,
    path_svg: Path,
    *,
    history: Iterable[Mapping[str, Any]] = (),
) -> None:
    """Draw `case`'s dates to `path_png` and `path_svg`. `history` (the case's plain events, as the
    store keeps them) adds each strand's start and its earlier targets; without it they are left out."""
    rows = [_case_row(case), *_strand_rows(case, list(history))]
    clocks = _clocks(case, today)
    figure = _figure(case.ref, today, rows, clocks)
    figure.savefig(path_png, format="png", dpi=110)
    with rc_context({"svg.fonttype": "none"}):  # words stay text: searchable, and checkable in tests
        figure.savefig(path_svg, format="svg", metadata={"Date": None})


def _case_row(case: Case) -> Row:
    moments: list[tuple[datetime | None, str]] = [
        (case.received_at, "received"),
        (case.acknowledged_at, "acknowledged"),
        (case.final_response_at or case.partial_response_at, "responded"),
        (case.closed_at, "closed"),
    ]
    return Row(CASE_ROW, tuple(Mark(london_date(at), kind) for at, kind in moments if at is not None))


def _strand_rows(case: Case, history: list[Mapping[str, Any]]) -> list[Row]:
    started = {e.get("strand_id"): _day(e["at"]) for e in history if e.get("type") == "StrandAdded"}
    earlier: dict[str, list[date]] = {}
    for e in history:
        if e.get("type") == "TargetDateChanged":
            earlier.setdefault(str(e.get("strand_id")), []).append(date.fromisoformat(e["previous"]))
    rows = []
    for strand in sorted(case.strands.values(), key=lambda s: s.id):
        org = case.orgs[strand.org_id].name if strand.org_id in case.orgs else strand.org_id
        marks = [Mark(day, "previous") for day in earlier.get(strand.id, [])]
        marks += [Mark(day, "milestone") for day in strand.update_times]
        marks.append(Mark(strand.target, "target"))
        if strand.proposed is not None:
            marks.append(Mark(strand.proposed.target, "proposed"))
        end = strand.target
        if strand.contribution is not None:
            end = london_date(strand.contribution.at)
            marks.append(Mark(end, "contribution"))
        start = started.get(strand.id)
        span = (start, max(end, start)) if start is not None else None
        rows.append(Row(f"{strand.id}  {_short(org)}", tuple(marks), span))
    return rows


def _clocks(case: Case, today: date) -> list[tuple[str, date]]:
    """The statutory and agreed dates every organisation works to, and today."""
    found: list[tuple[str, date]] = []
    if case.received_at is not None:
        received = case.received_on
        found.append(("acknowledgement due", acknowledgement_due(case.received_at)))
        due = response_due(received, case.longer_period_until, case.longer_period_agreed_on)
        found.append(("six-month point" if due == six_month_point(received) else "agreed longer period", due))
    if case.response_period is not None:
        found.append(("response period ends", case.response_period.due))
    if case.impasse is not None and case.impasse.resolved_at is None:
        found.append(("impasse: resolve by", case.impasse.resolve_by))
    found.append(("today", today))
    return found


def _figure(ref: str, today: date, rows: list[Row], clocks: list[tuple[str, date]]) -> Figure:
    figure = Figure(figsize=(11, 2.4 + 0.55 * len(rows)), layout="constrained")
    axes = figure.add_subplot()
    every_day = [m.on for r in rows for m in r.marks] + [d for _, d in clocks]
    every_day += [d for r in rows if r.span for d in r.span]
    first, last = min(every_day) - timedelta(days=3), max(every_day) + timedelta(days=7)
    axes.set_xlim(_x(first), _x(last))
    for y, row in enumerate(rows):
        if row.span is not None:
            start, end = (_x(d) for d in row.span)
            axes.barh(y, end - start, left=start, height=0.3, color="#dbe5f1", zorder=1)
        for mark in row.marks:
            marker, colour, filled, _ = STYLES[mark.kind]
            axes.plot(
                [_x(mark.on)], [y], marker=marker, markersize=9, linestyle="none", zorder=3,
                color=colour, markerfacecolor=colour if filled else "none", markeredgewidth=1.5,
            )  # fmt: skip
            if mark.kind == "target":
                axes.annotate(f"{mark.on:%d %b}", (_x(mark.on), y), xytext=(0, 9),
                              textcoords="offset points", ha="center", fontsize=8, color=colour)  # fmt: skip
    for label, day in clocks:
        colour, style = CLOCKS[label]
        axes.axvline(_x(day), color=colour, linestyle=style, linewidth=1.4, zorder=2)
    axes.set_yticks(range(len(rows)), [r.label for r in rows], fontsize=9)
    axes.set_ylim(len(rows) - 0.5, -0.7)
    locator = AutoDateLocator()  # type: ignore[no-untyped-call]
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))  # type: ignore[no-untyped-call]
    axes.grid(axis="x", color="#eeeeee")
    axes.set_title(f"{ref}: dates as at {today:%d %B %Y}", fontsize=11, loc="left")
    figure.legend(
        handles=_legend(rows, clocks), loc="outside lower center", ncols=4, fontsize=8, frameon=False
    )
    return figure


def _legend(rows: list[Row], clocks: list[tuple[str, date]]) -> list[Line2D]:
    used = [k for k in STYLES if any(m.kind == k for r in rows for m in r.marks)]
    handles = [
        Line2D([], [], marker=STYLES[k][0], color=STYLES[k][1], linestyle="none", label=STYLES[k][3],
               markerfacecolor=STYLES[k][1] if STYLES[k][2] else "none")
        for k in used
    ]  # fmt: skip
    handles += [
        Line2D([], [], color=CLOCKS[label][0], linestyle=CLOCKS[label][1], label=f"{label} {day:%d %b %Y}")
        for label, day in clocks
    ]
    return handles


def _x(day: date) -> float:
    """Where a day sits on the axis: matplotlib's own date number, so its date ticks agree."""
    return float(date2num(day))  # type: ignore[no-untyped-call]


def _day(value: str) -> date:
    return london_date(datetime.fromisoformat(value))


def _short(name: str, limit: int = 38) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "\u2026"
