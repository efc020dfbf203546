"""The ``salmu-harness`` command line: one module per subcommand, imported only when used.

Any ``harness.errors.HarnessError`` ends in its one-line message (and hint) on stderr and
a non-zero exit code, never in a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from harness.errors import HarnessError
from harness.versions import __version__

#: subcommand -> module under harness.cli that defines ``command``
SUBCOMMANDS = {
    "run": "run_cmd",
    "evaluate": "evaluate_cmd",
    "validate": "validate_cmd",
    "show": "show_cmd",
    "leaderboard": "leaderboard_cmd",
    "compare": "compare_cmd",
    "combine-towers": "combine_towers_cmd",
    "plot": "plot_cmd",
    "verify": "verify_cmd",
    "import-official": "import_official_cmd",
    "sweep": "sweep_cmd",
    "sweep-report": "sweep_report_cmd",
    "reproduce": "reproduce_cmd",
    "plugins": "plugins_cmd",
    "methods": "methods_cmd",
    "metrics": "metrics_cmd",
    "benchmarks": "benchmarks_cmd",
    "protocols": "protocols_cmd",
    "mini": "mini_cmd",
    "cache": "cache_cmd",
    "genknow": "genknow_cmd",
    "doctor": "doctor_cmd",
    "check-method": "check_method_cmd",
    "new-plugin": "new_plugin_cmd",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use, keeping start-up fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in SUBCOMMANDS:
            return None
        module = importlib.import_module(f"harness.cli.{SUBCOMMANDS[name]}")
        return module.command

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        name = args[0] if args else None
        if name is not None and name not in SUBCOMMANDS and not name.startswith("-"):
            from harness.errors import UnknownNameError

            raise click.UsageError(str(UnknownNameError("command", name, SUBCOMMANDS)), ctx)
        return super().resolve_command(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HarnessError as exc:
            click.secho(f"error: {exc.message}", fg="red", err=True)
            if exc.hint:
                click.echo(f"  hint: {exc.hint}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted: no result was written", err=True)
            sys.exit(130)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="salmu-harness")
def main() -> None:
    """Evaluate machine-unlearning methods on SALMUBench (CLIP, sensitive associations)."""
