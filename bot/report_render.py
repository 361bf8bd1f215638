"""How `jointly report` shows its figures: rich tables in a terminal, CSV for spreadsheets (JSON is
the figures as they are)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

from rich.console import Console
from rich.table import Table
from rich.text import Text

from bot.report import KO41A_LISTS


class Row(NamedTuple):
    section: str
    figure: str
    value: int | float | None
    of: int | None = None
    percent: float | None = None
    code: str = ""


SECTIONS = {
    "acknowledgements": "Acknowledgements (3 working days)",
    "responses": "Responses",
    "delay_letters": "Six-month letters",
    "contributions": "Contributions on time (lateness in working days)",
    "impasses": "Impasses",
    "open_by_age": "Open cases by age",
    "annual": "Annual report (regs 17 and 18)",
    "ko41a": "KO41a",
}


def rows(figures: Mapping[str, Any]) -> list[Row]:
    """Every figure as a labelled row, section by section (the CSV's lines, the tables' rows)."""
    found: list[Row] = []
    for key, build in _ROWS.items():
        found.extend(Row(key, *cells) for cells in build(figures[key]))
    return found


def to_csv(figures: Mapping[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "figure", "code", "value", "of", "percent"])
    for row in rows(figures):
        texts = (_inert(text) for text in (row.section, row.figure, row.code))
        writer.writerow([*texts, *(_blank(v) for v in (row.value, row.of, row.percent))])
    return out.getvalue()


def print_tables(figures: Mapping[str, Any], console: Console) -> None:
    period, who, left_out = figures["period"], figures["organisation"], figures["excluded"]
    heading = f"Complaints received {period['from']} to {period['to']}"
    console.print(Text(heading + (f": {who['name']}'s part" if who else ""), style="bold"))
    console.print(
        Text(
            f"{figures['cases']} cases; left out: {left_out['merged']} merged, "
            f"{left_out['resolved_informally']} resolved informally (reg 8); today {period['today']}"
        )
    )
    grouped: dict[str, list[Row]] = {key: [] for key in SECTIONS}
    for row in rows(figures):
        grouped[row.section].append(row)
    for key, section in grouped.items():
        title = Text(
            SECTIONS[key] + (f": {figures['ko41a']['name']}" if key == "ko41a" else ""), style="bold"
        )
        if key == "contributions":
            console.print(_contributions_table(title, figures["contributions"]))
        else:
            console.print(_table(title, section))


def _table(title: Text, section: list[Row]) -> Table:
    """Figure and count, and "of" and % where the section has them."""
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("Figure")
    columns = [
        (name, n) for name, n in (("Count", 2), ("Of", 3), ("%", 4)) if any(r[n] is not None for r in section)
    ]
    for name, _ in columns:
        table.add_column(name, justify="right")
    for row in section:
        table.add_row(Text(row.figure), *(_blank(row[n]) for _, n in columns))
    return table


def _contributions_table(title: Text, found: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False)
    table.add_column("Organisation")
    for name in ("On time", "Of", "%", "Late", "Median late", "Overdue"):
        table.add_column(name, justify="right")
    for org in found:
        cells = ("on_time", "received", "percent_on_time", "late", "median_working_days_late", "overdue")
        table.add_row(Text(org["name"]), *(_blank(org[cell]) for cell in cells))
    return table


def _acknowledgement_rows(f: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        ("Sent within 3 working days", f["on_time"], f["on_time"] + f["late"], f["percent_on_time"]),
        ("Sent late, or not sent and overdue", f["late"]),
        ("Not sent, not yet due", f["awaiting"]),
    ]


def _response_rows(f: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        ("Final responses sent", f["sent"]),
        ("Within the agreed or set response period", f["within_response_period"],
         f["with_response_period"], f["percent_within_response_period"]),
        ("Within the statutory period", f["within_statutory_period"], f["sent"],
         f["percent_within_statutory_period"]),
        ("Open, past the statutory period, no response", f["overdue_without_response"]),
    ]  # fmt: skip


def _delay_rows(f: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        (
            "Six-month letters sent when needed",
            f["sent_when_needed"],
            f["needed"],
            f["percent_sent_when_needed"],
        ),
        ("Six-month letters sent", f["sent"]),
    ]


def _contribution_rows(f: Sequence[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for org in f:
        name, code = org["name"], org["org"]
        found += [
            (f"{name}: on time", org["on_time"], org["received"], org["percent_on_time"], code),
            (f"{name}: late", org["late"], None, None, code),
            (f"{name}: median working days late", org["median_working_days_late"], None, None, code),
            (f"{name}: overdue, not in", org["overdue"], None, None, code),
        ]
    return found


def _impasse_rows(f: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        ("Reached step 1 (senior managers)", f["step_1"]),
        ("Reached step 2 (partial response)", f["step_2"]),
        ("Reached step 3 (Ombudsman signposted)", f["step_3"]),
        ("Resolved", f["resolved"], f["step_1"]),
        ("Median working days to resolve", f["median_working_days_to_resolve"]),
    ]


def _age_rows(f: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    bands = [(f"{b['band']} working days", b["count"], None, None, b["band"]) for b in f["bands"]]
    return [(f"Open on {f['as_of']}", f["total"]), *bands]


def _annual_rows(f: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    return [
        ("Received", f["received"]),
        (
            "Well-founded (upheld or partly upheld)",
            f["well_founded"],
            f["decided"],
            f["percent_well_founded"],
        ),
        ("Referred to an Ombudsman", f["referred"]),
        ("Referred to the PHSO", f["referred_phso"], None, None, "phso"),
        ("Referred to the LGSCO", f["referred_lgsco"], None, None, "lgsco"),
        *((f"Theme: {t['label']}", t["count"], None, None, t["code"]) for t in f["themes"]),
        ("Not coded", f["not_coded"]),
        ("Actions completed", f["actions_completed"]),
        *((f"Action: {a['description']}", a["count"]) for a in f["actions"]),
    ]


def _ko41a_rows(f: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = [
        ("Complaints (each counted once)", f["total"]),
        ("Not coded", f["not_coded"]),
    ]
    for key, what, _ in KO41A_LISTS:
        found += [(f"{what}: {item['label']}", item["count"], None, None, item["code"]) for item in f[key]]
    return found + [(f"Site: {s['site']}", s["count"], None, None, s["site"]) for s in f["sites"]]


def _inert(text: str) -> str:
    """Free text (a site, an action) that a spreadsheet would take for a formula is quoted."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _blank(value: Any) -> str:
    return "" if value is None else str(value)


_ROWS: dict[str, Callable[[Any], list[tuple[Any, ...]]]] = {
    "acknowledgements": _acknowledgement_rows,
    "responses": _response_rows,
    "delay_letters": _delay_rows,
    "contributions": _contribution_rows,
    "impasses": _impasse_rows,
    "open_by_age": _age_rows,
    "annual": _annual_rows,
    "ko41a": _ko41a_rows,
}
