"""``python -m scoring``: serve the model with uvicorn (one process, uvloop + httptools + limits).

The settings and the model are loaded before the port is bound, so a missing model or a
scikit-learn mismatch ends the process at once with exit code 2 and a one-line reason.
One process per container: scale with replicas (docs/scoring.md, "Choice of server").
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from scoring.contract import DEFAULT_PORT
from scoring.settings import Settings, SettingsError

EXIT_CONFIG = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scoring",
        description="Serve the scoring API. Configuration comes from environment variables "
        "(AZUREML_MODEL_DIR, SCORING_*; see docs/scoring.md).",
    )
    parser.add_argument("--host", default=os.environ.get("SCORING_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SCORING_PORT", str(DEFAULT_PORT))))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from scoring import telemetry

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        telemetry.configure_logging(logging.INFO)
        telemetry.log.critical("invalid settings: %s", exc)
        return EXIT_CONFIG
    telemetry.configure_logging(settings.log_level_number)

    from scoring.model_loader import ModelLoadError, load_model

    try:
        model = load_model(
            settings.model_dir,
            name=settings.model_name,
            version=settings.model_version,
            fast_path=settings.fast_path,
        )
    except ModelLoadError as exc:
        telemetry.log.critical("model load failed: %s", exc)
        return EXIT_CONFIG

    import uvicorn

    from scoring.app import create_app, direct_scorer
    from scoring.protocol import uvicorn_options

    app = create_app(settings, model=model)
    options = uvicorn_options(settings, direct_scorer(app))
    uvicorn.run(app, host=args.host, port=args.port, **options)
    return 0


if __name__ == "__main__":
    sys.exit(main())
