"""The training venv's cache: built once across processes, never half-built, loud when uv fails.

uv is replaced by a script that logs its calls, so these tests need neither the index nor a minute.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from tests.environments import train_env

SPEC = train_env.TrainEnvSpec(python="3.11", requirements=("mlflow==3.15.0",))
FAKE_UV = """#!/bin/sh
echo "$1" >> "{log}"
case "$1" in
  venv) mkdir -p "$2/bin" && touch "$2/bin/python" ;;
  pip) sleep 0.3
       [ -z "{fail}" ] || {{ echo "error: Failed to fetch: https://pypi.org/simple/mlflow/" >&2; exit 2; }} ;;
esac
"""


def _fake_uv(tmp_path: Path, *, fail: bool = False) -> tuple[Path, Path]:
    log = tmp_path / "uv.log"
    uv = tmp_path / "uv"
    uv.write_text(FAKE_UV.format(log=log, fail="yes" if fail else ""))
    uv.chmod(0o755)
    return uv, log


def _ensure(cache: Path, uv: Path) -> str:
    return str(train_env.ensure_venv(SPEC, cache, uv))


def test_parallel_callers_build_once_and_later_ones_reuse_it(tmp_path: Path):
    uv, log = _fake_uv(tmp_path)
    cache = tmp_path / "cache"
    with multiprocessing.get_context("spawn").Pool(3) as pool:
        venvs = pool.starmap(_ensure, [(cache, uv)] * 3)
    assert set(venvs) == {str(cache / SPEC.key / "venv")}
    assert log.read_text().split() == ["venv", "pip"]
    _ensure(cache, uv)
    assert log.read_text().split() == ["venv", "pip"]


def test_a_killed_build_and_the_venvs_of_other_pins_are_removed(tmp_path: Path):
    uv, _ = _fake_uv(tmp_path)
    cache = tmp_path / "cache"
    killed = cache / f"{SPEC.key}.x1y2.partial"
    old_pins = cache / "0123456789abcdef"
    for folder in (killed / "venv", old_pins / "venv", cache / SPEC.key):  # the last: no bin/python
        folder.mkdir(parents=True)
    venv = train_env.ensure_venv(SPEC, cache, uv)
    assert train_env.venv_python(venv).is_file()
    assert sorted(p.name for p in cache.iterdir()) == [SPEC.key, f"{SPEC.key}.lock"]


def test_a_failed_install_leaves_nothing_and_says_the_index_is_needed(tmp_path: Path):
    uv, _ = _fake_uv(tmp_path, fail=True)
    cache = tmp_path / "cache"
    with pytest.raises(train_env.TrainEnvError, match=r"package index.*\n.*Failed to fetch"):
        train_env.ensure_venv(SPEC, cache, uv)
    assert sorted(p.name for p in cache.iterdir()) == [f"{SPEC.key}.lock"]
