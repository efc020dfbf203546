"""Write a finished reproduction's table into a documentation page (a maintainer's tool).

    python scripts/reproduction_docs.py SWEEP_FOLDER docs/baselines.md [--name paper]

``salmu-harness reproduce NAME`` writes ``reproduction.json`` into its sweep folder; this script
puts how it was made and its table between the page's ``<!-- reproduction:NAME -->`` and
``<!-- /reproduction:NAME -->`` lines, replacing what was there. A page without that block is
refused and left as it was.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.reproduce.table import render_markdown
from harness.storage import write_text_atomic


def docs_block(table: dict[str, Any], command: str) -> str:
    """The generated part of a documentation page: how the table was made, then the table."""
    times = table["trial_seconds"]
    grid = "; ".join(
        f"`{method}`: "
        + ", ".join(
            f"{k} {', '.join(f'{v:g}' if isinstance(v, float) else str(v) for v in spec['grid'])}"
            for k, spec in space.items()
            if isinstance(spec, dict)
        )
        for method, space in table["grid"].items()
    )
    selection = table["selection"]
    judged = (
        "Judged with the suite's default diagnosis rules"
        if not table["rules"]
        else "Judged with the diagnosis rules changed to "
        + ", ".join(f"`{k}={v:g}`" for k, v in table["rules"].items())
        + " (the paper's rows and ours alike)"
    )
    return (
        f"Produced by `{command}` (scale `{table['scale']}`): budget {table['budget']:g}x, "
        f"seeds {', '.join(str(s) for s in table['seeds'])}, {times['trials']} trials. "
        f"Grid: {grid}. Selection: objective `{selection['objective']}` on "
        f"{selection['validation_identities']} validation identities; numbers on the other "
        f"{selection['report_identities']} forget identities (holdout metrics on all of theirs), "
        f"the mean over the selected setting's seeds. Trial time: {times['total'] / 60:.0f} min "
        f"in all ({times['mean']:.0f} s per trial); {times['first_start_to_last_finish'] / 60:.0f}"
        f" min from the first trial's start to the last one's end. {judged}.\n\n"
        + render_markdown(table)
    )


def replace_block(page: Path, name: str, block: str) -> None:
    """Replace the page's generated block for reproduction ``name``."""
    begin, end = f"<!-- reproduction:{name} -->", f"<!-- /reproduction:{name} -->"
    text = page.read_text(encoding="utf-8")
    if begin not in text or end not in text.split(begin, 1)[-1]:
        raise SystemExit(
            f"error: {page} has no {begin} ... {end} block to write the table into\n"
            "  hint: add those two lines where the table goes"
        )
    head, rest = text.split(begin, 1)
    write_text_atomic(page, f"{head}{begin}\n{block}{end}{rest.split(end, 1)[1]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweep", type=Path, help="the sweep folder reproduce wrote into")
    parser.add_argument("page", type=Path, help="the Markdown page to write the table into")
    parser.add_argument("--name", default="paper", help="the reproduction's name (paper)")
    parser.add_argument(
        "--table", default="reproduction.json", help="the table file in the sweep folder"
    )
    args = parser.parse_args(argv)
    table = json.loads((args.sweep / args.table).read_text())
    replace_block(args.page, args.name, docs_block(table, f"salmu-harness reproduce {args.name}"))
    print(f"written: {args.page}")


if __name__ == "__main__":
    main(sys.argv[1:])
