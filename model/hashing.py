"""Content hashes (stdlib only: the orchestrator uses them without pandas)."""

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    """Content hash of a file, as ``sha256:<hex>`` (the form of the model's lineage ``data_hash``)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"
