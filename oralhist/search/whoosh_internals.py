"""Every use of whoosh's private API, in one module, and the check of the version it fits.

The fast paths of this package (``evaluate``'s bulk posting reads, ``restriction``'s column
arrays, ``codec``'s posting blocks, ``pool``'s rebuild writer, ``storage``'s mapped files,
``index``'s searcher refresh) read and write whoosh's undocumented internals: attributes such
as ``W3LeafMatcher._data`` or ``PerDocumentReader._perdoc`` and methods such as
``Query._compile_query`` or ``FileIndex._read_toc``. They are written against one version of
whoosh (``REQUIRED_WHOOSH``, pinned in ``pyproject.toml``), and another version may change any
of them without notice. So the other modules never name a private whoosh attribute: they call
the small functions here, and ``check_whoosh`` (run when the app is created and when an index
is opened or created) refuses to start on another version with a message naming both, where
the failure would otherwise be a wrong result or an ``AttributeError`` deep in a query.
(``tests/search/test_whoosh_internals.py`` checks that no other module reaches in.)

Subclasses of whoosh's writers (``codec``, ``pool``) still override the hooks whoosh calls
(``_write_block``, ``_flush_segment``...): that is how whoosh is extended. Their bodies reach
whoosh's state only through the functions here.
"""

from __future__ import annotations

import itertools
import zlib
from array import array
from collections.abc import Callable, Iterator
from pickle import dumps, loads
from struct import Struct

import whoosh
from whoosh import columns
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    STORED_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3FieldWriter,
    W3PostingsWriter,
    W3TermsReader,
    _lenfield,
)
from whoosh.query.qcore import _NullQuery
from whoosh.reading import SegmentReader
from whoosh.util.numeric import byte_to_length, length_to_byte

# The whoosh whose internals this module is written against (``whoosh-reloaded`` on PyPI).
REQUIRED_WHOOSH = (2, 7, 5)
NullQuery = _NullQuery


class WhooshVersionError(RuntimeError):
    """The installed whoosh is not the version the search engine's fast paths are written for."""


def _dotted(version) -> str:
    return ".".join(str(part) for part in version)


def installed_whoosh() -> tuple:
    """The installed whoosh's version, as whoosh reports it."""
    return tuple(whoosh.__version__)


def check_whoosh(installed: tuple | None = None) -> None:
    """Raise ``WhooshVersionError`` naming the installed and the required version unless they
    are the same, or when a layout this module reads has changed. An ``assert`` at import
    would do nothing under ``python -O``; this runs at start-up (``create_app``) and whenever
    an index is opened or created."""
    found = installed_whoosh() if installed is None else tuple(installed)
    if found != REQUIRED_WHOOSH:
        raise WhooshVersionError(
            f"oralhist's search engine needs whoosh {_dotted(REQUIRED_WHOOSH)} (the"
            f" whoosh-reloaded package), but whoosh {_dotted(found)} is installed. Install the"
            f" pinned version: pip install 'whoosh-reloaded=={_dotted(REQUIRED_WHOOSH)}'."
        )
    if LENGTHS_COLUMN._typecode != "B":  # one byte a document, as the length readers read it
        raise WhooshVersionError(
            f"whoosh {_dotted(found)} stores field lengths as {LENGTHS_COLUMN._typecode!r},"
            " not one byte a document: it is not the whoosh oralhist was written for."
        )


# ------------------------------------------------------------ index files and queries


def read_toc(ix):
    """The index's current table of contents (generation, schema, segments)."""
    return ix._read_toc()


def file_path(storage, name: str) -> str:
    """The path of a file of a ``FileStorage``."""
    return storage._fpath(name)


def struct_file_name(f) -> str | None:
    """The name a ``StructFile`` was opened with (for messages)."""
    return f._name


def length_field(fieldname: str) -> str:
    """The name of the column holding a field's lengths."""
    return _lenfield(fieldname)


def compile_query(q, reader):
    """What whoosh's searcher runs for ``q`` (a numeric range becomes term ranges)."""
    return q._compile_query(reader)


def range_texts(q, reader) -> list:
    """The indexed terms (bytes) a ``TermRange`` covers."""
    return q._btexts(reader)


# ------------------------------------------------------------ columns


def field_lengths(reader, lenfield: str) -> bytes | None:
    """A segment's length column as one byte a document (``None``: no such column)."""
    perdoc = reader._perdoc
    if not perdoc.has_column(lenfield):
        return None
    cr = perdoc.column_reader(lenfield, LENGTHS_COLUMN)
    return cr._dbfile.get_array(cr._basepos, "B", cr._count)


def column_array(reader, fieldname: str):
    """(refs or values as an array, uniques or None) for a whole column of one segment."""
    doccount = reader.doc_count_all()
    cr = reader.column_reader(fieldname, translate=False)
    if isinstance(cr, columns.RefBytesColumn.Reader):
        refs = cr._dbfile.get_array(cr._basepos, cr._typecode, cr._doccount)
        return refs, list(cr._uniques)
    if isinstance(cr, columns.NumericColumn.Reader):
        values = cr._dbfile.get_array(cr._basepos, cr._typecode, cr._count)
        if len(values) < doccount:
            values.extend(itertools.repeat(cr._default, doccount - len(values)))
        return values, None
    if isinstance(cr, columns.EmptyColumnReader):
        default = cr._default
        if isinstance(default, bytes):
            return array("B", bytes(doccount)), [default]
        return array("I", itertools.repeat(int(default or 0), doccount)), None
    values = list(cr)  # pragma: no cover - other column types are not used by the schema
    uniques = sorted(set(values))
    index = {v: i for i, v in enumerate(uniques)}
    return array("I", (index[v] for v in values)), uniques


# ------------------------------------------------------------ reading posting blocks


_BLOCK_LENGTH = Struct("!i")  # W3: a block's length, negative for a term's last block
_INFO_MAX = 64  # bytes: a block's pickled info tuple is 30-40
READ_WINDOW = 65536  # bytes of a posting list read at once


def term_postings(reader, fieldname: str, text) -> tuple | None:
    """A term's postings in a segment reader, found without making a whoosh matcher (whose
    set-up reads the first block's header through four file calls: ~60 us a term, 128 times
    for a prefix's 64 words over two segments): ``(None, (ids, weights, values))`` when the
    term's info holds them inline, ``(where the first block starts, where the last ends)`` in
    the reader's ``postings_file`` otherwise; ``None`` for a reader this function does not
    know (the caller uses a matcher). Raises ``TermNotFound`` as ``reader.postings`` does.
    Deleted documents are included."""
    if type(reader) is not SegmentReader or type(reader._terms) is not W3TermsReader:
        return None
    if reader.is_closed:
        return None  # the matcher path raises whoosh's own error
    terms = reader._terms
    terminfo = terms.term_info(fieldname, reader._text_to_bytes(fieldname, text))
    if terminfo.is_inlined():
        return None, terminfo.inlined_postings()
    offset, length = terminfo.extent()
    if isinstance(length, tuple):  # whoosh 2.7.5 reads it back as ``struct``'s 1-tuple
        (length,) = length
    if terms._postfile.get(offset, 4) != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"damaged postings of {fieldname}:{text!r}: no block header")
    return offset + 4, offset + length


def postings_file(reader):
    """The postings file of a segment reader (``term_postings`` says where a term's are)."""
    return reader._terms._postfile


def block_heads(postfile, offset: int, end: int) -> list[tuple[int, int, int, int, int]]:
    """Every block of a posting list (``term_postings`` says where): (postings, last docnum,
    compression, where its data starts, where it ends). Read a window of up to
    ``READ_WINDOW`` bytes at a time (one system call for many blocks when the index is read
    with ``pread``: see ``storage``), not four file calls and a ``BytesIO`` a block as
    whoosh's ``W3LeafMatcher._goto`` reads them. A segment never changes: callers keep the
    heads of the terms they read often (``restriction.SegmentTable.postings``)."""
    get = postfile.get
    unpack = _BLOCK_LENGTH.unpack_from
    window = b""
    base = pos = offset  # the window holds the bytes from ``base``
    heads = []
    while True:
        if pos + _INFO_MAX > base + len(window):  # (``end`` only sizes the reads)
            base = pos
            window = get(pos, max(_INFO_MAX, min(READ_WINDOW, end - pos)))
        at = pos - base
        (length,) = unpack(window, at)
        info = loads(window[at + 4 : at + 4 + _INFO_MAX])  # bytes after the pickle: ignored
        # The info's length: pickled again, as whoosh's writer pickled it (protocol 2).
        stop = pos + 4 + abs(length)
        heads.append((info[0], info[1], info[3], pos + 4 + len(dumps(info, 2)), stop))
        if length < 0:
            return heads
        pos = stop


def block_data(postfile, heads, end: int) -> Iterator[memoryview]:
    """The data of each of ``heads`` (some of ``block_heads``' list, in order), as pickled
    (``block_payload`` decodes it), read in windows of up to ``READ_WINDOW`` bytes."""
    get = postfile.get
    window = memoryview(b"")
    base = 0
    for head in heads:
        start, stop = head[3], head[4]
        if start < base or stop > base + len(window):
            base = start
            window = memoryview(get(start, max(stop - start, min(READ_WINDOW, end - start))))
        yield window[start - base : stop - base]


def block_payload(data, compression: int) -> tuple:
    """A block's (ids, weights, values), from its data as ``block_data`` gives it."""
    return loads(zlib.decompress(data) if compression else data)


def list_postings(m) -> tuple:
    """A ``ListMatcher``'s (ids, weights or ``None``, the weight of all, values or ``None``)."""
    return m._ids, m._weights, m._all_weights, m._values


# ------------------------------------------------------------ writing posting blocks


def block_ids(pw) -> array:
    """The docnums (or byte ids) of a postings writer's current block, being collected."""
    return pw._ids


def block_weights(pw) -> array:
    """The weights of a postings writer's current block."""
    return pw._weights


def block_value_list(pw) -> list:
    """The posting values of a postings writer's current block."""
    return pw._values


def block_has_byte_ids(pw) -> bool:
    """The writer's ids are bytes (term vectors), not docnums."""
    return pw._byteids


def fixed_value_size(pw):
    """The size of each posting value of the writer's format (``None`` or < 0: variable)."""
    return pw._format.fixed_value_size()


def block_compression(pw) -> int:
    return pw._compression


def write_block(pw, last: bool, data_of: Callable[[], tuple], compression_of) -> None:
    """whoosh 2.7.5's ``W3PostingsWriter._write_block``, pickling ``data_of()`` with
    protocol 5 (arrays as raw bytes) and compressing at ``compression_of(data)``."""
    if not pw._blockcount:
        pw._postfile.write(WHOOSH3_HEADER_MAGIC)
    pw._terminfo.add_block(pw)
    data = data_of()
    databytes = dumps(data, 5)
    comp = compression_of(data)
    if comp:
        databytes = zlib.compress(databytes, comp)
    ids = pw._ids
    infobytes = dumps(
        (
            len(ids),
            ids[-1],
            pw._maxweight,
            comp,
            length_to_byte(pw._minlength),
            length_to_byte(pw._maxlength),
        ),
        2,
    )
    postfile = pw._postfile
    blocklength = len(infobytes) + len(databytes)
    postfile.write_int(-blocklength if last else blocklength)
    postfile.write(infobytes)
    postfile.write(databytes)
    pw._blockcount += 1
    pw._new_block()


def codec_settings(codec) -> dict:
    """A ``W3Codec``'s block settings, as its postings writers take them."""
    return {
        "blocklimit": codec._blocklimit,
        "compression": codec._compression,
        "inlinelimit": codec._inlinelimit,
    }


def set_stored_compression(perdoc_writer, level: int, compress: Callable) -> None:
    """Make a ``W3PerDocWriter`` compress stored records with ``compress(record, level)``."""
    column = perdoc_writer._colwriters["_stored"]._child
    column._level = level
    column._compress = compress


# ``length_to_byte`` (a bisection) of the usual field lengths.
_LENGTH_BYTES = [length_to_byte(n) for n in range(1_024)]


class DocumentRows:
    """What ``W3PerDocWriter.add_field``, ``add_column_value`` and ``finish_doc`` do with a
    document's stored fields, lengths and column values (whoosh 2.7.5, pinned), each column's
    writer looked up once: whoosh checks that the column exists and looks its writer up again
    for every value, five to eight values a record. Between ``start_doc`` and ``finish``."""

    def __init__(self, perdoc_writer) -> None:
        self._writer = perdoc_writer
        self._adders: dict[str, Callable] = {}
        self._length_adders: dict[str, Callable] = {}
        self._totals = perdoc_writer._fieldlengths
        self._stored_column = STORED_COLUMN

    def column(self, name: str, column) -> Callable:
        """The ``add(docnum, value)`` of the column ``name``, made on its first value."""
        add = self._adders.get(name)
        if add is None:
            writer = self._writer
            if not writer._has_column(name):
                writer._create_column(name, column)
            add = self._adders[name] = writer._get_column(name).add
        return add

    def stored(self) -> dict:
        """The stored fields of the document begun (``start_doc``), to fill."""
        return self._writer._storedfields

    def length(self, docnum: int, fieldname: str, length: int) -> None:
        """A field's length (not 0): its byte in the field's length column and the total."""
        add = self._length_adders.get(fieldname)
        if add is None:
            add = self._length_adders[fieldname] = self.column(_lenfield(fieldname), LENGTHS_COLUMN)
        add(docnum, _LENGTH_BYTES[length] if length < 1_024 else length_to_byte(length))
        self._totals[fieldname] += length

    def finish(self, docnum: int) -> None:
        """``finish_doc``: the stored fields as the document's row of ``_stored``."""
        writer = self._writer
        stored = writer._storedfields
        if stored:
            self.column("_stored", self._stored_column)(docnum, stored)
            stored.clear()
        writer._indoc = False


def postings_writer(fieldwriter):
    """The postings writer of a ``W3FieldWriter``'s current term."""
    return fieldwriter._postwriter


def bulk_writable(fieldwriter, postwriter) -> bool:
    """Whether ``add_block_slices`` does exactly what ``fieldwriter.add`` would."""
    return (
        type(fieldwriter).add is W3FieldWriter.add
        and isinstance(postwriter, W3PostingsWriter)
        and type(postwriter).add_posting is W3PostingsWriter.add_posting
        and type(postwriter)._new_block is W3PostingsWriter._new_block
        and not postwriter._byteids
    )


def add_block_slices(pw, docs: list, weights: list, values: list, lengths: bytes | None) -> None:
    """``pw.add_posting`` for each posting of a term, a block's slice at a time (``lengths``:
    the field's length byte per docnum, 0 for none): the same
    buffers and block statistics (whoosh 2.7.5's ``W3PostingsWriter``, pinned), with C-level
    ``extend``/``max``/``min`` instead of a Python call and four assertions a posting."""
    limit = pw._blocklimit
    n = len(docs)
    i = 0
    while i < n:
        if len(pw._ids) >= limit:  # as add_posting: a full block goes when the next posting comes
            pw._write_block()
        j = min(n, i + limit - len(pw._ids))
        pw._ids.extend(docs[i:j])
        ws = weights[i:j]
        pw._weights.extend(ws)
        top = max(ws)
        if top > pw._maxweight:
            pw._maxweight = top
        pw._values.extend(filter(None, values[i:j]))  # add_posting skips empty values
        if lengths is not None:
            # Length bytes (0: none) order as the lengths do: the least and greatest byte
            # of the slice are its least and greatest length.
            found = bytes(filter(None, map(lengths.__getitem__, docs[i:j])))
            if found:
                low = byte_to_length(min(found))
                if pw._minlength is None or low < pw._minlength:
                    pw._minlength = low
                high = byte_to_length(max(found))
                if high > pw._maxlength:
                    pw._maxlength = high
        i = j


# ------------------------------------------------------------ the segment writer's state


def temp_storage(writer):
    """A ``SegmentWriter``'s temporary storage (where its posting pool spills runs)."""
    return writer._tempstorage


def check_writable(writer) -> None:
    """What ``SegmentWriter.add_document`` checks first (the writer is not closed)."""
    writer._check_state()


def check_fields(writer, schema, fieldnames: list) -> None:
    writer._check_fields(schema, fieldnames)


def mark_added(writer) -> None:
    """Record that the writer has added a document (whoosh commits only then)."""
    writer._added = True


def close_segment(writer) -> None:
    """Close a ``SegmentWriter``'s segment files (and its pool's runs) without committing."""
    writer._close_segment()


def finalize_segment(writer):
    """Flush and close a sub-writer's segment; return the segment for the parent to add."""
    return writer._finalize_segment()


def finish(writer) -> None:
    """Release what a writer holds (lock, temporary storage) after a failed commit."""
    writer._finish()
