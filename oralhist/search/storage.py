"""Index files read with ``os.pread``, without whoosh copying them whole.

Whoosh's own memory-mapped storage wraps each file of a segment in a ``BytesIO`` over the
map, which *copies* it: a reader of a 1,000-interview index holds the whole index in RAM
(issue 5 measured 1.13 GB) and takes tens of milliseconds per segment to open. Its unmapped
storage reads through a chain of Python file wrappers (half the speed). Here ``PreadFile``
reads the bytes asked for with one ``pread`` each: opening a segment is a few system calls.

Not a memory map (as until issue 18): every read copies its bytes anyway (whoosh's readers
take ``bytes``), and a map kept every page a query had touched in the process's resident
set. At 10,000 interviews a serving process showed 1,038 MB, 720 MB of it mapped index pages
(page cache shared by every worker, but what ``ps`` and a container's limit count). Read
with ``pread``, those pages stay in the page cache, shared and given back under pressure,
and the process holds only its own memory (~330 MB). The cost is a system call a read;
posting lists are read in windows of many blocks (``whoosh_internals.posting_blocks``), which
keeps it within a few per cent of the map's CPU time.
"""

from __future__ import annotations

import os
import pickle
from io import BytesIO

from whoosh.filedb.filestore import FileStorage
from whoosh.filedb.structfile import StructFile

from . import whoosh_internals as wi


class _ReadSource:
    """A whole file read with ``os.pread``: the slices and ``find`` that ``_View`` and
    ``PreadFile`` ask of it."""

    __slots__ = ("_fd", "_size")

    def __init__(self, fd: int, size: int) -> None:
        self._fd = fd
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, key: slice) -> bytes:
        start, stop, _ = key.indices(self._size)
        if stop <= start:
            return b""
        data = os.pread(self._fd, stop - start, start)
        while len(data) < stop - start:  # a short read (a signal): read on
            more = os.pread(self._fd, stop - start - len(data), start + len(data))
            if not more:
                break
            data += more
        return data

    def find(self, sub: bytes, start: int, end: int) -> int:
        pos = start
        while pos < end:
            chunk = self[pos : min(end, pos + 65536 + len(sub))]
            found = chunk.find(sub)
            if found >= 0:
                return pos + found
            pos += 65536
        return -1

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


class _View:
    """A read-only file over ``length`` bytes of a source starting at ``base``."""

    __slots__ = ("_base", "_end", "_map", "_pos", "closed")

    def __init__(self, source, base: int, length: int) -> None:
        self._map = source
        self._base = base
        self._end = base + length
        self._pos = base
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        pos = self._pos
        end = self._end if size is None or size < 0 else min(self._end, pos + size)
        self._pos = end
        return self._map[pos:end]

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        pos = self._pos
        nl = self._map.find(b"\n", pos, self._end)
        end = self._end if nl < 0 else nl + 1
        if size is not None and size >= 0:
            end = min(end, pos + size)
        self._pos = end
        return self._map[pos:end]

    def seek(self, offset: int, whence: int = 0) -> int:
        if whence == 0:
            self._pos = self._base + offset
        elif whence == 1:
            self._pos += offset
        else:
            self._pos = self._end + offset
        return self._pos - self._base

    def tell(self) -> int:
        return self._pos - self._base

    def close(self) -> None:
        self.closed = True


class PreadFile(StructFile):
    """A whoosh ``StructFile`` reading a region of a file (``_ReadSource``)."""

    def __init__(self, source, base: int, length: int, name=None, owner: bool = False) -> None:
        super().__init__(_View(source, base, length), name=name)
        self._source = source
        self._base = base
        self._length = length
        self._owner = owner

    def get(self, position, length):
        start = self._base + position
        return self._source[start : start + length]

    def subset(self, position, length, name=None):
        return PreadFile(
            self._source, self._base + position, length, name=name or wi.struct_file_name(self)
        )

    def read_pickle(self):
        view = self.file
        pos = view._pos
        for size in (512, view._end - pos):
            chunk = BytesIO(self._source[pos : min(view._end, pos + size)])
            try:
                value = pickle.load(chunk)
            except (EOFError, pickle.UnpicklingError):
                continue
            view._pos = pos + chunk.tell()
            return value
        raise EOFError(f"no pickle at {pos - view._base} in {wi.struct_file_name(self)}")

    def close(self):
        if self.is_closed:
            return
        self.is_closed = True
        if self.onclose:
            self.onclose(self)
        if self._owner:
            self._source.close()


class PreadFileStorage(FileStorage):
    # ``False`` makes whoosh's compound (segment) files use ``subset()`` views of the file we
    # return below instead of their own copying buffers.
    supports_mmap = False

    def __init__(self, path, readonly: bool = False) -> None:
        super().__init__(str(path), supports_mmap=False, readonly=readonly)

    def open_file(self, name, **kwargs):
        fd = os.open(wi.file_path(self, name), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        size = os.fstat(fd).st_size
        if size == 0:
            os.close(fd)
            return super().open_file(name, **kwargs)
        return PreadFile(_ReadSource(fd, size), 0, size, name=name, owner=True)


def writing_storage(path) -> FileStorage:
    """The storage a rebuild's writers use: plain file reads, no map. A segment is written as
    separate files and then copied into one compound file (``CompoundStorage.assemble``,
    through ``open_file``): through a memory map (how the serving storage read until issue
    18) every page of a copied file stays resident in the indexing process until that file
    is closed, so its peak grew with the
    size of its segment's largest file (issue 18 measured 2,083 MB at 10,000 interviews,
    where each of the two segments is ~2.4 GB); read through a file, those pages are only
    page cache."""
    return FileStorage(str(path), supports_mmap=False)
