"""File names inside the steps' output folders (light: the orchestrator reads them without scikit-learn)."""

DATA_CHECK_FILE = "data_check.json"
TEST_FILE = "test.csv"
REPORT_FILE = "report.json"
RESULT_FILE = "registered.json"
