"""``mlops image build``: the scoring image with a model baked in, pushed to an environment's registry."""

from __future__ import annotations

from typing import Annotated

import typer

from pipelines.cli.common import ModelOption, console, errors, reported

app = typer.Typer(no_args_is_help=True, help="The scoring image (the model baked in).")


@app.command("build")
def build(
    env: Annotated[str, typer.Option("--env", "-e", help="Whose registry: qa (or prod).")],
    model: ModelOption,
) -> None:
    """Build and push the scoring image of NAME:VERSION to the environment's registry; print its reference."""
    from pipelines.azure import release
    from pipelines.azure.refs import ModelRef

    with reported():
        built = release.build_image(
            env, ModelRef.parse(model), progress=lambda line: errors.print(line, markup=False)
        )
    console.print(str(built), markup=False)  # stdout: the reference only, for scripts
