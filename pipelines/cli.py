"""The `mlops` command."""

import typer

app = typer.Typer(no_args_is_help=True, help="MLOps lifecycle for the diabetes model.")


@app.callback()
def main() -> None:
    """Train, gate, register, deploy and smoke-test the model."""
