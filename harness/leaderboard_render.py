"""Leaderboard output formats: terminal table, Markdown, CSV, JSON and one self-contained HTML.

Every format carries the same numbers. The text formats show ``mean ±std (normalised score)``
per metric; CSV and JSON have one field per number; the HTML page has sortable columns and the
plots inlined as SVG, with no external resource.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable
from importlib import resources
from string import Template

from tabulate import tabulate

from harness.leaderboard import Cell, Leaderboard, Row, parameters_label

ARROWS = {"lower": "↓", "higher": "↑"}


def headers(board: Leaderboard, parameters: bool = True) -> list[str]:
    """Column titles: row description, one per metric (with the better direction), diagnosis."""
    metric_titles = [f"{m.key} {m.name} {ARROWS[m.direction]}" for m in board.metrics]
    return [
        "method",
        *(["parameters"] if parameters else []),
        "budget",
        "seeds",
        *metric_titles,
        "diagnosis",
    ]


def text_rows(board: Leaderboard, parameters: bool = True) -> list[list[str]]:
    """The Clean and Compromised rows, then one row per method setting."""
    rows = [_reference_row(board, role, parameters) for role in ("clean", "compromised")]
    for row in board.rows:
        rows.append(
            [
                row.display,
                *([parameters_label(row.parameters)] if parameters else []),
                _budget(row),
                str(len(row.seeds)),
                *[_cell_text(row.cells.get(m.key)) for m in board.metrics],
                _diagnosis(row),
            ]
        )
    return rows


def render_table(board: Leaderboard) -> str:
    """For a terminal: parameters only where they tell a method's rows apart (see md/csv)."""
    table = tabulate(
        text_rows(board, False), headers(board, False), tablefmt="simple", disable_numparse=True
    )
    return _with_notes(board, table)


def render_markdown(board: Leaderboard) -> str:
    table = tabulate(text_rows(board), headers(board), tablefmt="github", disable_numparse=True)
    return _with_notes(board, table)


def render_csv(board: Leaderboard) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    columns = ["row", "method", "parameters", "budget", "seeds", "n"]
    for m in board.metrics:
        columns += [
            f"{m.key}_mean",
            f"{m.key}_std",
            f"{m.key}_normalized",
            f"{m.key}_ci_low",
            f"{m.key}_ci_high",
        ]
    writer.writerow([*columns, "diagnosis"])
    for role in ("clean", "compromised"):
        values = []
        for m in board.metrics:
            values += [_csv_number(board.references[role].get(m.key)), "", "", "", ""]
        writer.writerow([role.capitalize(), "", "", "", "", "", *values, ""])
    for row in board.rows:
        values = []
        for m in board.metrics:
            cell = row.cells.get(m.key)
            values += (
                [
                    _csv_number(cell.mean),
                    _csv_number(cell.std),
                    _csv_number(cell.score),
                    _csv_number(cell.ci[0] if cell.ci else None),
                    _csv_number(cell.ci[1] if cell.ci else None),
                ]
                if cell
                else [""] * 5
            )
        writer.writerow(
            [
                row.display,
                row.method or "",
                json.dumps(row.parameters, sort_keys=True),
                "" if row.budget is None else f"{row.budget:g}",
                " ".join(str(s) for s in row.seeds),
                len(row.seeds),
                *values,
                ";".join(f"{mode}={count}" for mode, count in row.diagnosis.items()),
            ]
        )
    return buffer.getvalue()


def render_json(board: Leaderboard) -> str:
    return json.dumps(board.to_json(), indent=2)


def render_html(board: Leaderboard) -> str:
    from harness.plots import svg_text

    head = "".join(
        f'<th data-col="{i}" title="click to sort">{html.escape(h)}</th>'
        for i, h in enumerate(headers(board))
    )
    body = []
    for kind, cells in _html_rows(board):
        tds = "".join(
            f'<td data-sort="{html.escape(str(sort))}">{html.escape(text)}</td>'
            for text, sort in cells
        )
        body.append(f'<tr class="{kind}">{tds}</tr>')
    plots = "".join(
        f'<figure id="plot-{name}">{svg}</figure>' for name, svg in svg_text(board).items()
    )
    excluded = "".join(
        f"<li><code>{html.escape(e.path)}</code>: {html.escape(e.reason)}</li>"
        for e in board.excluded
    )
    template = Template(
        resources.files("harness.templates").joinpath("leaderboard.html.tmpl").read_text("utf-8")
    )
    return template.substitute(
        title=html.escape(
            f"SALMUBench leaderboard: {board.benchmark['name']} {board.benchmark['revision']}, "
            f"protocol {board.benchmark['protocol']}"
        ),
        head=head,
        body="\n".join(body),
        plots=plots,
        excluded=f"<h2>Left out</h2><ul>{excluded}</ul>" if excluded else "",
    )


RENDERERS: dict[str, Callable[[Leaderboard], str]] = {
    "table": render_table,
    "md": render_markdown,
    "csv": render_csv,
    "json": render_json,
    "html": render_html,
}


def _html_rows(board: Leaderboard) -> list[tuple[str, list[tuple[str, object]]]]:
    rows: list[tuple[str, list[tuple[str, object]]]] = []
    for role, text in zip(("clean", "compromised"), text_rows(board)[:2], strict=True):
        sorts = [
            "",
            "",
            "",
            "",
            *[_sort_key(board.references[role].get(m.key)) for m in board.metrics],
            "",
        ]
        rows.append(("reference", list(zip(text, sorts, strict=True))))
    for row, text in zip(board.rows, text_rows(board)[2:], strict=True):
        sorts: list[object] = [
            row.display,
            parameters_label(row.parameters),
            row.budget or "",
            len(row.seeds),
        ]
        sorts += [
            _sort_key(row.cells[m.key].mean if m.key in row.cells else None) for m in board.metrics
        ]
        sorts.append(_diagnosis(row))
        rows.append(("method", list(zip(text, sorts, strict=True))))
    return rows


def _reference_row(board: Leaderboard, role: str, parameters: bool = True) -> list[str]:
    values = [board.references[role].get(m.key) for m in board.metrics]
    blanks = ["", "", ""] if parameters else ["", ""]
    return [role.capitalize(), *blanks, *[_number(v) for v in values], ""]


def _cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    text = f"{cell.mean:.3f}"
    if cell.n > 1:
        text += f" ±{cell.std:.3f}"
    if cell.score is not None:
        text += f" ({cell.score:.0%})"
    return text


def _diagnosis(row: Row) -> str:
    n = len(row.seeds)
    if not row.diagnosis:
        return "no failure mode"
    return ", ".join(
        f"{mode.replace('_', ' ')} {count}/{n}" for mode, count in row.diagnosis.items()
    )


def _budget(row: Row) -> str:
    return "" if row.budget is None else f"{row.budget:g}x"


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def _csv_number(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def _sort_key(value: float | None) -> object:
    return "" if value is None else value


def _with_notes(board: Leaderboard, table: str) -> str:
    note = (
        f"{board.benchmark['name']} {board.benchmark['revision']}, protocol "
        f"{board.benchmark['protocol']}: mean ±std over seeds "
        "(normalised score: gap closed for efficacy, retained for utility)"
    )
    return f"{table}\n\n{note}"
