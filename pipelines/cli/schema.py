"""``mlops schema infer DATA.csv``: a draft use case (schema included) from a data file, to review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
import yaml

from pipelines.cli.common import console, reported

app = typer.Typer(no_args_is_help=True, help="The use case's data schema (config/usecase.yaml).")


@app.command("infer")
def infer(
    data: Annotated[Path, typer.Argument(help="A CSV with a header row; every column numeric.")],
    target: Annotated[str | None, typer.Option(help="The column to predict (default: the last).")] = None,
    model_name: Annotated[str, typer.Option(help="The model's registered name.")] = "my-model",
) -> None:
    """Print a draft use case for DATA: task, target, features (type, range widened by 10 %, allowed
    values of whole-number columns with few values, nullable). Review it, then save it as
    config/usecase.yaml (docs/bring-your-own.md)."""
    from pydantic import ValidationError

    from model.infer import infer_usecase
    from model.params import Params, ParamsError
    from pipelines.errors import UsageError

    with reported():
        try:
            draft = infer_usecase(data, target, model_name)
            Params.model_validate(draft)
        except (ParamsError, ValidationError) as error:
            raise UsageError(str(error).splitlines()[0]) from None
    text = yaml.safe_dump(draft, sort_keys=False, default_flow_style=None, width=110)
    console.print(
        f"# Drafted by `mlops schema infer {data}`: review the ranges and the task.\n{text}",
        markup=False,
        highlight=False,
        soft_wrap=True,
        end="",
    )
