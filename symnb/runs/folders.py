"""The run-folder protocol: every executor writes ``<runs_dir>/<sweep>/<id>/`` through `write_run`, and nothing else.

Why a sweep folder is trustworthy after a crash, a kill or two runners working on it at once:

* a configuration is written in a private ``.partial-<id>-<random>`` directory next to its final place, with an
  ``.owner`` file (host, pid) so that a later run can tell an abandoned partial directory from a live one;
* it is moved into place with renames only, after its JSON files were written atomically
  (`symnb.core.io.atomic_write_json`), so ``<id>/`` is either absent or complete;
* a configuration whose ``<id>/result.json`` exists is done: it is skipped, and if another runner finished it
  while this one worked, this one's copy is discarded ("another runner finished" guard), never overwriting it;
* ``.partial-*`` / ``.trash-*`` directories whose owning process is gone are removed by `clean_stale`;
* ``sweep.json`` records how the configurations were resolved (the notebook's defaults); `check_resolution`
  refuses to add runs to a folder that holds runs of a different resolution (their ids mean other experiments).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..core.io import atomic_write_json
from .spec import SpecError

__all__ = ["ConfigOutcome", "RESULT_FILE", "ERROR_FILE", "PARAMS_FILE", "NOTEBOOK_FILE", "LOG_FILE", "SWEEP_FILE",
           "RESOLUTION", "write_run", "is_done", "clean_stale", "check_resolution", "write_sweep_record"]

RESULT_FILE = "result.json"
ERROR_FILE = "error.json"
PARAMS_FILE = "params.json"
NOTEBOOK_FILE = "notebook.ipynb"
LOG_FILE = "papermill.log"
SWEEP_FILE = "sweep.json"
# How configuration ids are computed: 2 = hash of the parameters resolved against the notebook's defaults.
RESOLUTION = 2
_PARTIAL = ".partial-"
_TRASH = ".trash-"
_OWNER = ".owner"


@dataclass(frozen=True)
class ConfigOutcome:
    """What happened to one configuration: ``status`` is ``done``, ``skipped`` (result existed) or ``failed``."""

    id: str
    status: str
    run_dir: str
    error: str | None = None
    seconds: float = 0.0


def is_done(sweep_dir: str | Path, config_id: str) -> bool:
    """Whether ``<sweep_dir>/<config_id>/result.json`` exists (the configuration finished)."""
    return (Path(sweep_dir) / config_id / RESULT_FILE).is_file()


def write_run(sweep_dir: str | Path, config_id: str, record: Mapping[str, object],
              fill: Callable[[Path], tuple[str | None, float]]) -> ConfigOutcome:
    """Create one configuration's folder by the protocol above.

    Args:
        sweep_dir: ``<runs_dir>/<sweep>``.
        config_id: the configuration's id (the folder's name).
        record: what ``params.json`` holds (id, sweep, resolved parameters, executor ...).
        fill: writes the run's files into the partial directory it is given (``result.json`` on success) and
            returns ``(error or None, seconds)``; on an error any ``result.json`` is removed and ``error.json``
            written, so only a finished, valid result marks a configuration done.

    Returns:
        The `ConfigOutcome` (``skipped`` if the result existed before or appeared meanwhile).
    """
    sweep_dir = Path(sweep_dir)
    final = sweep_dir / config_id
    if is_done(sweep_dir, config_id):
        return ConfigOutcome(config_id, "skipped", str(final))
    tmp = sweep_dir / f"{_PARTIAL}{config_id}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    (tmp / _OWNER).write_text(json.dumps({"host": socket.gethostname(), "pid": os.getpid()}))
    atomic_write_json(tmp / PARAMS_FILE, dict(record))
    error, seconds = fill(tmp)
    if error is not None:
        (tmp / RESULT_FILE).unlink(missing_ok=True)
        atomic_write_json(tmp / ERROR_FILE, {"id": config_id, "error": error, "seconds": seconds,
                                             "parameters": dict(record.get("parameters", {}))})
    (tmp / _OWNER).unlink()
    if is_done(sweep_dir, config_id):  # another runner finished it meanwhile: keep theirs
        shutil.rmtree(tmp, ignore_errors=True)
        return ConfigOutcome(config_id, "skipped", str(final))
    _finalize(tmp, final)
    return ConfigOutcome(config_id, "failed" if error else "done", str(final), error, seconds)


def _finalize(tmp: Path, final: Path) -> None:
    """Move ``tmp`` to ``final`` (replacing an earlier failed attempt) with renames only."""
    if final.exists():
        trash = final.with_name(f"{_TRASH}{final.name}-{uuid.uuid4().hex[:8]}")
        os.rename(final, trash)
        os.rename(tmp, final)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.rename(tmp, final)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale(sweep_dir: str | Path) -> list[str]:
    """Remove ``.partial-*`` / ``.trash-*`` dirs whose owning process (on this host) is gone.

    Returns:
        The names removed.
    """
    host = socket.gethostname()
    removed = []
    for entry in Path(sweep_dir).glob(".*-*"):
        if not entry.is_dir() or not entry.name.startswith((_PARTIAL, _TRASH)):
            continue
        try:
            owner = json.loads((entry / _OWNER).read_text())
        except (OSError, ValueError):
            owner = None  # killed before the owner file was written
        if owner is None or (owner.get("host") == host and not _pid_alive(int(owner.get("pid", -1)))):
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed


def check_resolution(sweep_dir: str | Path, notebook: str, defaults: Mapping[str, object]) -> None:
    """Refuse a sweep folder whose runs were resolved differently (before anything is written to it).

    Args:
        sweep_dir: ``<runs_dir>/<sweep>`` (may not exist yet: then nothing to check).
        notebook: the notebook's path; defaults: its resolved defaults (the output parameter excluded).

    Raises:
        SpecError: (key ``runs_dir``) if the folder holds runs without a resolution record, of another
            resolution scheme, or resolved against other notebook defaults -- naming the first difference.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        return
    runs = [p for p in sweep_dir.iterdir() if p.is_dir() and not p.name.startswith(".")]
    advice = "use another --runs-dir (or sweep name), or remove the folder"
    try:
        old = json.loads((sweep_dir / SWEEP_FILE).read_text())
    except (OSError, ValueError):
        if runs:
            raise SpecError("runs_dir", f"{str(sweep_dir)!r} holds {len(runs)} run(s) without a readable "
                                        f"{SWEEP_FILE}: their ids may mean other experiments; {advice}") from None
        return
    if old.get("resolution") != RESOLUTION:
        raise SpecError("runs_dir", f"{str(sweep_dir)!r} holds runs with ids of resolution "
                                    f"{old.get('resolution')!r} (this version uses {RESOLUTION}: ids hash the "
                                    f"parameters resolved against the notebook's defaults); {advice}")
    old_defaults = old.get("defaults", {})
    new_defaults = json.loads(json.dumps(dict(defaults)))  # compare as stored (tuples become lists)
    for key in sorted(set(old_defaults) | set(new_defaults)):
        if old_defaults.get(key, "<absent>") != new_defaults.get(key, "<absent>"):
            raise SpecError("runs_dir", f"{str(sweep_dir)!r} holds runs resolved against other notebook defaults "
                                        f"({key}: {old_defaults.get(key, '<absent>')!r} there, "
                                        f"{new_defaults.get(key, '<absent>')!r} now in {Path(notebook).name}); "
                                        f"{advice}")


def write_sweep_record(sweep_dir: str | Path, record: Mapping[str, object], defaults: Mapping[str, object]) -> None:
    """Write ``sweep.json`` (the spec, the ids, the resolution and the defaults `check_resolution` compares)."""
    atomic_write_json(Path(sweep_dir) / SWEEP_FILE, {**record, "resolution": RESOLUTION, "defaults": dict(defaults)})
