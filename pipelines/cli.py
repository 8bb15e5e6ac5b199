"""The `mlops` command: one entry point for every environment."""

import typer

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="MLOps lifecycle for the diabetes model: train, gate, register, deploy, smoke-test.",
)

# --- command groups (each lives in its own module; add one line per group) ---
from pipelines import stacks_cli  # noqa: E402

app.add_typer(stacks_cli.app, name="stacks")
