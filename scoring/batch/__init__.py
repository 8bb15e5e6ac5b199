"""Batch scoring: a table (CSV or Parquet, a file or a folder of files) scored by a model folder.

The online service's rules and predictions, applied to files: :mod:`scoring.rules` decides which
rows are scored, :func:`scoring.model_loader.load_model` and :func:`scoring.model_loader.predict`
compute the predictions (the NumPy fast path included). Rows stream through in Arrow batches, so
memory stays flat whatever the file size.

- :mod:`.tables`: input files, Arrow batch readers, the output and rejects writers (temporary
  name, renamed when complete);
- :mod:`.frame`: one batch's feature matrix, its rejected rows and its predictions (pure);
- :mod:`.run`: files in, output and rejects out, a summary; ``python -m scoring.batch``;
- :mod:`.azureml`: the entry script of the Azure ML parallel job (``init`` / ``run``).
"""
