"""The ``mlops`` command: the Typer root. It composes the command modules and holds no command.

Add a command to the module of its group (or a new module with its own ``app``), then one line here.
"""

import typer

from pipelines.cli import (
    deploy,
    endpoint,
    image,
    infra,
    monitor,
    preflight,
    run,
    score_batch,
    stacks,
    traffic,
)

app = typer.Typer(
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="MLOps lifecycle for the diabetes model: train, gate, register, deploy, smoke-test.",
)


@app.callback()
def main() -> None:
    """Train, gate, register, deploy and smoke-test the diabetes model, locally or on Azure."""


app.add_typer(run.app)  # run, train
app.add_typer(deploy.app)  # deploy, smoke-test, promote, rollback
app.add_typer(preflight.app)  # preflight
app.add_typer(score_batch.app)  # score-batch
app.add_typer(monitor.app)  # monitor
app.add_typer(traffic.app)  # traffic
app.add_typer(endpoint.app, name="endpoint")
app.add_typer(image.app, name="image")
app.add_typer(infra.app, name="infra")
app.add_typer(stacks.app, name="stacks")
