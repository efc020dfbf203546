"""Every output format: leaderboards (terminal table, Markdown, CSV, JSON, and one
self-contained HTML page with sortable columns and the plots inlined as SVG), paired
comparisons and validation reports.

Every format of a leaderboard carries the same numbers. The text formats show ``mean ±std
(normalised score)`` per metric; CSV and JSON have one field per number.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from string import Template
from typing import Any

from tabulate import tabulate

from harness.reports.leaderboard import Cell, Leaderboard, Row, parameters_label
from harness.reports.sequences import sequence_text

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
        *(["sequence"] if board.has_sequences else []),
        "diagnosis",
    ]


def text_rows(board: Leaderboard, parameters: bool = True) -> list[list[str]]:
    """The Clean and Compromised rows, then one row per method setting."""
    rows = [_reference_row(board, role, parameters) for role in ("clean", "compromised")]
    sequences = board.has_sequences
    for row in board.rows:
        rows.append(
            [
                row.display,
                *([parameters_label(row.parameters)] if parameters else []),
                _budget(row),
                str(len(row.seeds)),
                *[_cell_text(row.cells.get(m.key)) for m in board.metrics],
                *([sequence_text(row.sequence)] if sequences else []),
                diagnosis_text(row),
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
    """One self-contained page: sortable columns, the plots inlined as SVG."""
    from harness.reports.plots import svg_text

    titles = headers(board)
    metric_columns = range(4, 4 + len(board.metrics))
    head = "".join(
        f'<th data-col="{i}" title="click to sort">'
        + (
            "<br>".join(html.escape(part) for part in h.split(" "))
            if i in metric_columns
            else html.escape(h)
        )
        + "</th>"
        for i, h in enumerate(titles)
    )
    body = []
    for kind, cells in _html_rows(board):
        tds = []
        for column, (text, sort) in enumerate(cells):
            if column == 1:
                content, css = _parameters_html(text), "parameters"
            elif column in metric_columns:
                content, css = _metric_cell_html(text), "metric"
            elif column == len(cells) - 1:
                content, css = "<br>".join(html.escape(t) for t in text.split(", ")), "diagnosis"
            else:
                content, css = html.escape(text), ""
            tds.append(
                f'<td class="{css}" data-sort="{html.escape(str(sort))}">{content}</td>'
                if css
                else f'<td data-sort="{html.escape(str(sort))}">{content}</td>'
            )
        body.append(f'<tr class="{kind}">{"".join(tds)}</tr>')
    plots = "".join(
        f'<figure id="plot-{name}">{svg}</figure>' for name, svg in svg_text(board).items()
    )
    excluded = "".join(
        f"<li><code>{html.escape(e.path)}</code>: {html.escape(e.reason)}</li>"
        for e in board.excluded
    )
    notes = "".join(f"<li>{html.escape(text)}</li>" for text in board.notes)
    template = Template(
        resources.files("harness.reports").joinpath("leaderboard.html.tmpl").read_text("utf-8")
    )
    return template.substitute(
        title=html.escape(
            f"Leaderboard: {board.benchmark['name']} {board.benchmark['revision']}, "
            f"protocol {board.benchmark['protocol']}"
        ),
        head=head,
        body="\n".join(body),
        plots=plots,
        excluded=(f"<h2>Not in every result</h2><ul>{notes}</ul>" if notes else "")
        + (f"<h2>Left out</h2><ul>{excluded}</ul>" if excluded else ""),
    )


def _parameters_html(label: str) -> str:
    """Parameters collapsed to their count; the full list, one per line, on a click."""
    if not label:
        return ""
    items = label.split(", ")
    listed = "<br>".join(html.escape(item) for item in items)
    return f"<details><summary>{len(items)} params</summary>{listed}</details>"


def _metric_cell_html(text: str) -> str:
    """``mean``, ``±std`` and ``(normalised score)`` on three lines: narrow metric columns."""
    value, sep, score = text.partition(" (")
    mean, _, spread = value.partition(" ")
    lines = [html.escape(mean)]
    if spread:
        lines.append(f'<span class="spread">{html.escape(spread)}</span>')
    if sep:
        lines.append(f'<span class="score">({html.escape(score)}</span>')
    return "<br>".join(lines)


def _html_rows(board: Leaderboard) -> list[tuple[str, list[tuple[str, object]]]]:
    rows: list[tuple[str, list[tuple[str, object]]]] = []
    for role, text in zip(("clean", "compromised"), text_rows(board)[:2], strict=True):
        blanks: list[object] = ["", "", "", ""]
        references = [sort_key(board.references[role].get(m.key)) for m in board.metrics]
        sequence: list[object] = [""] if board.has_sequences else []
        rows.append(
            ("reference", list(zip(text, [*blanks, *references, *sequence, ""], strict=True)))
        )
    for row, text in zip(board.rows, text_rows(board)[2:], strict=True):
        sorts: list[object] = [
            row.display,
            parameters_label(row.parameters),
            row.budget or "",
            len(row.seeds),
        ]
        sorts += [
            sort_key(row.cells[m.key].mean if m.key in row.cells else None) for m in board.metrics
        ]
        if board.has_sequences:
            sorts.append(sequence_text(row.sequence))
        sorts.append(diagnosis_text(row))
        rows.append(("method", list(zip(text, sorts, strict=True))))
    return rows


RENDERERS: dict[str, Callable[[Leaderboard], str]] = {
    "table": render_table,
    "md": render_markdown,
    "csv": render_csv,
    "json": render_json,
    "html": render_html,
}
#: what each report can be written as (the commands' ``--format`` choices)
LEADERBOARD_FORMATS = tuple(RENDERERS)
COMPARISON_FORMATS = ("table", "md", "json")
SWEEP_REPORT_FORMATS = ("table", "md", "json")
VALIDATION_FORMATS = ("text", "json", "github")


def _reference_row(board: Leaderboard, role: str, parameters: bool = True) -> list[str]:
    values = [board.references[role].get(m.key) for m in board.metrics]
    blanks = ["", "", ""] if parameters else ["", ""]
    sequence = [""] if board.has_sequences else []
    return [role.capitalize(), *blanks, *[_number(v) for v in values], *sequence, ""]


def _cell_text(cell: Cell | None) -> str:
    if cell is None:
        return "—"
    text = f"{cell.mean:.3f}"
    if cell.n > 1:
        text += f" ±{cell.std:.3f}"
    if cell.score is not None:
        text += f" ({cell.score:.0%})"
    return text


def diagnosis_text(row: Row) -> str:
    """A row's diagnosis counts, as cells show them."""
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


def sort_key(value: float | None) -> object:
    """How a number sorts in the HTML table (missing values first)."""
    return "" if value is None else value


def _with_notes(board: Leaderboard, table: str) -> str:
    note = (
        f"{board.benchmark['name']} {board.benchmark['revision']}, protocol "
        f"{board.benchmark['protocol']}: mean ±std over seeds "
        "(normalised score: gap closed for efficacy, retained for utility)"
    )
    notes = "".join(f"\nnot in every result: {text}" for text in board.notes)
    return f"{table}\n\n{note}{notes}"


def render_comparison(
    comparison: Any,
    labels: tuple[str, str],
    output_format: str = "table",
) -> str:
    """A paired comparison (``harness.reports.comparison.Comparison``) of B with A:
    ``table`` or ``md`` with its labels, ``json`` for scripts."""
    if output_format == "json":
        return json.dumps({"a": labels[0], "b": labels[1], **comparison.to_json()}, indent=2)
    rows = [
        [
            f"{m.key} {m.name}",
            "lower" if m.direction == "lower" else "higher",
            f"{m.a:.4f}",
            f"{m.b:.4f}",
            f"{m.difference:+.4f}",
            f"[{m.ci[0]:+.4f}, {m.ci[1]:+.4f}]",
            "yes" if m.significant else "no",
            m.better,
            f"{m.units} {'identities' if m.unit == 'identity' else 'rows'}",
        ]
        for m in comparison.metrics
    ]
    titles = ["metric", "better", "A", "B", "B - A per unit", f"{comparison.level:.0%} CI"]
    titles += ["significant", "winner", "paired over"]
    table_format = "github" if output_format == "md" else "simple"
    lines = [f"A: {labels[0]}\nB: {labels[1]}\n"]
    lines.append(tabulate(rows, titles, tablefmt=table_format, disable_numparse=True))
    lines += [f"{key}: not compared ({reason})" for key, reason in comparison.skipped.items()]
    lines.append(
        "\nA and B are the results' values; B - A per unit is the mean over paired units (each "
        "identity or row weighs the same), with a paired percentile bootstrap interval "
        f"({comparison.resamples} resamples, seed {comparison.seed})."
    )
    return "\n".join(lines)


def result_label(document: Mapping[str, Any]) -> str:
    """A result in words: its method and parameters and seed, or the checkpoint evaluated."""
    method = document["method"]
    if method is None:
        label = f"evaluate {document['models']['evaluated']['id']}"
    else:
        parameters = ", ".join(f"{k}={v}" for k, v in sorted(method["parameters"].items()))
        label = f"{method['name']} ({parameters}), seed {document['seeds']['run']}"
    schedule = document.get("schedule")
    if schedule and "round" in schedule:
        return f"{label}, schedule {schedule['name']} round {schedule['round']}/{schedule['of']}"
    return f"{label}, schedule {schedule['name']} (after its last round)" if schedule else label


def render_validation(
    report: Mapping[str, Sequence[Any]],
    output_format: str,
    references: tuple[int, int] | None = None,
) -> tuple[str, str]:
    """(stdout, stderr) of a validation report: file -> its problems; ``references`` are the
    strict check's (matched, not in cache) counts. Formats: ``text``, ``json``, ``github``
    (GitHub Actions error annotations)."""
    invalid = [name for name, problems in report.items() if problems]
    if output_format == "json":
        summary: dict[str, Any] = {"valid": not invalid}
        if references is not None:
            summary["references"] = {"checked": references[0], "not_in_cache": references[1]}
        summary["files"] = [
            {"file": n, "valid": not p, "problems": [x.to_json() for x in p]}
            for n, p in report.items()
        ]
        return json.dumps(summary, indent=2), ""
    problems = [problem for found in report.values() for problem in found]
    out, err = [], []
    if output_format == "github":
        out += [_annotation(problem) for problem in problems]
    else:
        err += [str(problem) for problem in problems]
    out.append(f"{len(report) - len(invalid)} valid, {len(invalid)} invalid")
    if references is not None:
        out.append(
            f"references: {references[0]} matched against the cache, {references[1]} not in "
            "the cache (not checked)"
        )
    return "\n".join(out), "\n".join(err)


def _annotation(problem: Any) -> str:
    message = f"{problem.path}: {problem.message}".replace("%", "%25")
    message = message.replace("\r", "%0D").replace("\n", "%0A")
    return f"::error file={problem.file},title=invalid result::{message}"
