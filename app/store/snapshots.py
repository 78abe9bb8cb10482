"""Read-only snapshots of a store on disk: what one generation of query workers opens.

The query workers are separate processes (app/sparql/workers.py), and RocksDB lets only one
process write a store. pyoxigraph's ``Store.read_only`` over the store the service writes is
"undefined behaviour" while that process writes — and it always may: a write, or the background
compaction RocksDB runs after a bulk load, deletes files a reader is opening. So each generation
of workers opens a snapshot instead: a RocksDB checkpoint (``Store.backup``) in
``<store>/kg-snapshots/<pid>-<n>/`` (RocksDB ignores a subdirectory). On the same file system a
checkpoint is hard links to the store's immutable files: about a millisecond, and no space until
the store compacts those files away. No one writes a snapshot, so its readers see one version,
whole, whatever the service does to the store meanwhile; the snapshot is removed when its
generation's last worker is gone.

Only the process that holds the store's lock (RocksDB's ``LOCK``: the one serving or building it)
takes snapshots, so any other snapshot found when the store is opened is a leftover of a process
that was killed; :func:`clear_snapshots` removes them.
"""

import itertools
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

logger = logging.getLogger(__name__)

DIRECTORY = "kg-snapshots"
_numbers = itertools.count(1)


@dataclass(frozen=True)
class Snapshot:
    path: Path

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def take_snapshot(store: ox.Store, store_dir: str | Path) -> Snapshot:
    """A checkpoint of ``store`` (opened read-write from ``store_dir``) that its readers can open."""
    parent = Path(store_dir) / DIRECTORY
    parent.mkdir(exist_ok=True)
    path = parent / f"{os.getpid()}-{next(_numbers)}"  # leftovers were cleared when the store was opened
    store.backup(str(path))
    return Snapshot(path)


def clear_snapshots(store_dir: str | Path) -> None:
    """Remove the snapshots a killed process left in ``store_dir`` (call it holding the store's lock)."""
    parent = Path(store_dir) / DIRECTORY
    if not parent.is_dir():
        return
    for leftover in parent.iterdir():
        logger.info("removing the query workers' snapshot %s left by an earlier process", leftover)
        shutil.rmtree(leftover, ignore_errors=True)
