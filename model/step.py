"""How a pipeline step's entry point reports expected failures: one line, exit 1, no traceback."""

import sys
from collections.abc import Callable

from model.checks import DataCheckError
from model.data import DataError
from model.params import ParamsError

EXPECTED = (DataError, DataCheckError, ParamsError, FileNotFoundError)


def run_step(main: Callable[[], int]) -> int:
    """Call a step's ``main``; expected failures become one ``error:`` line and exit code 1."""
    try:
        return main()
    except EXPECTED as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
