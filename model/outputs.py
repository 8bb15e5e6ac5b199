"""File names inside the steps' output folders (light: the orchestrator reads them without scikit-learn)."""

DATA_CHECK_FILE = "data_check.json"
TEST_FILE = "test.csv"
REPORT_FILE = "report.json"
RESULT_FILE = "registered.json"

# The model folder (the train step's output; docs/architecture.md, "Model artifact contract"). The
# scoring service reads the same two files; it may not import model/, and tests/test_shared_facts.py
# pins its copies (scoring/contract.py, scoring/Dockerfile) to these.
ESTIMATOR_FILE = "estimator.joblib"
METADATA_FILE = "metadata.json"
