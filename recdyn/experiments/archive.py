"""A directory that holds results of another spec: refused, archived or adopted.

``--force`` moves every earlier result to ``archive/<time>-<hash>/`` (nothing is ever
deleted). ``--extend`` adopts another spec's results instead: a task's id is the hash of
everything that determines its numbers, so a finished task whose id is in the new plan
(e.g. trials 0-1 when a spec grows from 2 to 10 trials, or the old recommenders when one
is added) is kept, and the files of tasks that are not in the plan are archived.
Otherwise a changed spec raises :class:`SpecChangedError`, saying what changed.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from recdyn.errors import RecdynError
from recdyn.experiments.manifest import MANIFEST, accepted_hashes, now
from recdyn.experiments.plan import Plan
from recdyn.experiments.result_files import TaskFiles


class SpecChangedError(RecdynError):
    """The output directory holds results of a different spec."""


def reconcile(
    root: Path, old: dict[str, Any], plan: Plan, force: bool, extend: bool
) -> dict[str, Any] | None:
    """The manifest to continue from in ``root``, whose manifest is ``old``: ``old``
    itself for the same spec, ``None`` after ``force`` (start over), the adopted manifest
    with ``extend``; otherwise :class:`SpecChangedError`."""
    if force:
        archive(root, old)
        return None
    if old.get("spec_hash") == plan.spec_hash:
        return old
    kept = finished_in(root, old, plan)
    if not extend:
        hint = (
            f"; --extend to keep the {len(kept)} finished tasks that this spec "
            "leaves unchanged and run only the others"
            if kept
            else ""
        )
        raise SpecChangedError(
            f"{root} holds results of a different spec (hash "
            f"{str(old.get('spec_hash'))[:12]}, this spec {plan.spec_hash[:12]}); "
            f"changed: {diff(old.get('spec', {}), plan.spec.canonical())}. Use "
            "--force to move the old results to archive/ and start over"
            f"{hint}, or --out DIR for a new directory"
        )
    return adopt(root, old, plan, kept)


def archive(root: Path, old: dict[str, Any]) -> Path:
    """Move every result in ``root`` to a new ``archive/`` folder; return it."""
    dest = _archive_dir(root, old)
    for name in (MANIFEST, "tasks", "interactions", "tuning"):
        if (root / name).exists():
            shutil.move(str(root / name), str(dest / name))
    return dest


def _archive_dir(root: Path, old: dict[str, Any]) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    dest = root / "archive" / f"{stamp}-{str(old.get('spec_hash'))[:12]}"
    dest.mkdir(parents=True, exist_ok=False)
    return dest


def finished_in(root: Path, old: dict[str, Any], plan: Plan) -> set[str]:
    """Tasks of ``plan`` that have a verified result file of the ``old`` spec."""
    files = TaskFiles(root / "tasks")
    return files.finished((t.task_id for t in plan.tasks), accepted_hashes(old))


def adopt(root: Path, old: dict[str, Any], plan: Plan, kept: set[str]) -> dict[str, Any]:
    """The manifest of ``plan`` taking over ``old``'s finished tasks ``kept``; every other
    task or interaction file (and a copy of the old manifest) moves to ``archive/``."""
    dest = _archive_dir(root, old)
    shutil.copy2(root / MANIFEST, dest / MANIFEST)
    for sub in ("tasks", "interactions"):
        for path in (root / sub).glob("*.parquet") if (root / sub).exists() else ():
            if path.stem not in kept:
                (dest / sub).mkdir(exist_ok=True)
                shutil.move(str(path), str(dest / sub / path.name))
    extended = [*old.get("extended", [])]
    extended.append({"at": now(), "from": old["spec_hash"], "kept": len(kept)})
    return {
        **old,
        "spec_hash": plan.spec_hash,
        "spec": plan.spec.canonical(),
        "extends": sorted(accepted_hashes(old)),
        "extended": extended,
        "tasks": {tid: e for tid, e in old.get("tasks", {}).items() if tid in kept},
    }


def diff(old: Any, new: Any, path: str = "", out: list[str] | None = None) -> str:
    """A short description of where two canonical specs differ."""
    out = [] if out is None else out
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new), key=str):
            diff(old.get(key), new.get(key), f"{path}.{key}" if path else str(key), out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new)):
            diff(a, b, f"{path}[{i}]", out)
    elif old != new:
        out.append(f"{path or 'spec'} {json.dumps(old)} -> {json.dumps(new)}")
    if path == "":
        return "; ".join(out[:5]) + (f" (+{len(out) - 5} more)" if len(out) > 5 else "")
    return ""


__all__ = ["SpecChangedError", "adopt", "archive", "diff", "finished_in", "reconcile"]
