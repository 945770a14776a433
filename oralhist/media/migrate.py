"""Copying every stored file from one ``Storage`` to another (``oralhist media migrate``):
from local files to an object store, or back.

Resumable: a file the target already holds at the same size is skipped, so an interrupted run
is simply run again. Checked: the target computes each file's sha256 as it receives it (its
key), so a copy whose bytes differ from its name (a damaged source file) is refused, deleted
from the target and reported, never stored under the good file's name. Memory stays flat: each
file is streamed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .storage import Storage


@dataclass
class MigrateStats:
    copied: int = 0
    skipped: int = 0
    bytes_copied: int = 0
    damaged: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        text = (
            f"{self.copied} files copied ({self.bytes_copied:,} bytes), {self.skipped} already"
            " there"
        )
        if self.damaged:
            shown = ", ".join(self.damaged[:5]) + (" ..." if len(self.damaged) > 5 else "")
            text += (
                f"; {len(self.damaged)} not copied because their bytes no longer match their"
                f" sha256 (run `oralhist fixity`): {shown}"
            )
        return text + "."


def migrate(
    source: Storage, target: Storage, *, progress: Callable[[str], None] | None = None
) -> MigrateStats:
    """Copy what ``target`` lacks of ``source``'s files, checking each by its sha256."""
    stats = MigrateStats()
    for key in source.iter_keys():
        size = source.size(key)
        if target.exists(key) and target.size(key) == size:
            stats.skipped += 1
        else:
            with source.open(key) as stream:
                stored = target.save_stream(stream)
            if stored.key != key:
                if stored.created:
                    target.delete(stored.key)
                stats.damaged.append(key)
            else:
                stats.copied += 1
                stats.bytes_copied += stored.size
        if progress is not None:
            progress(key)
    return stats
