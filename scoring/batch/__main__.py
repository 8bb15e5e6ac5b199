"""``python -m scoring.batch``: score files with a model folder (what ``mlops score-batch`` runs)."""

from scoring.batch.run import main

if __name__ == "__main__":
    raise SystemExit(main())
