"""The index's codec: whoosh's W3 format, with posting blocks numpy can read without Python
objects.

whoosh's ``W3PostingsWriter`` pickles each block's docnum deltas and weights as tuples of
Python ints and floats (protocol 2): reading a block makes ~1,000 Python objects that
``evaluate`` then turns back into arrays. Here the same block holds them as ``array``
objects (``H`` or ``I`` deltas, ``f`` weights: whoosh keeps weights as float32 in memory
anyway), pickled with protocol 5 so the payload is raw bytes, and its variable-size values
(the ``exact`` field's positions) as one bytes object (``PackedValues``). whoosh's own readers
still read every block (``delta_decode`` and its matchers index an ``array`` or a
``PackedValues`` as they do a tuple), and ``evaluate`` reads both forms, so an index written
by plain whoosh (or before this codec) stays searchable; ``oralhist reindex`` rewrites it.

Blocks hold 512 postings (whoosh: 128): every query decodes whole blocks, so fewer, larger
ones cut the per-block cost. Weights that are term frequencies (whole numbers below 256, as
every ``body`` weight is) take a byte each. Only positions are compressed (zlib level 1;
whoosh compresses every block at level 3): decompression was half of what reading a common
word cost (~17 us for a 512-posting ``body`` block, which is ~4 KB raw), while positions
compress ~4x and are most of the index's bytes. They are deflated on their own
(``DeflatedValues``), not with their block, so a query that needs only ids and weights (a
prefix's words, a phrase's blocks without candidates) never inflates them. Readers take each
block's settings from its header, so every form reads back: blocks written before
``DeflatedValues`` (a ``PackedValues`` in a block compressed whole) stay searchable.

A query reading many blocks (a prefix's words, a common word) finds where each block's ids,
weights and deflated positions lie with numpy for all blocks at once (``block_layouts``,
checking the same bytes ``ids_and_frequencies`` checks), keeps that layout with the block's
head (a segment never changes), and decodes them with a slice and a view a block
(``decode_blocks``, ``deflated_values``).

The index's table of contents pickles this codec with each segment, and every block of the
``exact`` field a ``DeflatedValues`` (before it, a ``PackedValues``): keep all three
importable from this module, or indexes written with them will ask to be rebuilt.
"""

from __future__ import annotations

import sys
import zlib
from array import array
from itertools import accumulate

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3PerDocWriter, W3PostingsWriter

from . import whoosh_internals as wi

BLOCK_POSTINGS = 512
BLOCK_COMPRESSION = 1
STORED_COMPRESSION = 1
STORED_COMPRESS_FROM = 512  # bytes
# Below this many postings a block is minimised in Python: numpy's per-call cost would be
# most of the work (most terms' postings are a short last block).
SMALL_BLOCK = 48


class PackedValues:
    """A block's variable-size posting values (the ``exact`` field's positions) as one bytes
    object and the end offset of each: unpickling a block makes three objects, not one per
    posting (whoosh pickles a tuple of bytes: ~0.4 us a posting, most of what reading the
    ``exact`` field cost). A read-only sequence of bytes, which is all whoosh's matchers ask
    of a block's values (``values[i]``)."""

    __slots__ = ("data", "ends")

    def __init__(self, data: bytes, ends: array) -> None:
        self.data = data
        self.ends = ends

    @classmethod
    def pack(cls, values) -> PackedValues:
        ends = array("I", accumulate(map(len, values)))
        return cls(b"".join(values), ends)

    def __reduce__(self):
        return (PackedValues, (self.data, self.ends))

    def __len__(self) -> int:
        return len(self.ends)

    def __getitem__(self, i: int) -> bytes:
        ends = self.ends
        if i < 0:
            i += len(ends)
        return self.data[ends[i - 1] if i else 0 : ends[i]]

    def __iter__(self):
        data, start = self.data, 0
        for end in self.ends:
            yield data[start:end]
            start = end


class DeflatedValues:
    """A block's ``PackedValues`` deflated on their own, inflated only when a posting's value
    is first asked for. The block around them is not compressed: its ids and weights read
    without inflating the positions, which are most of a block's bytes. Reading the ids and
    weights of the ``exact`` field (a prefix's 64 words, a phrase's candidate blocks) cost
    ~45 us a 512-posting block for ``zlib.decompress`` of the whole block (8 KB raw, 2.5 KB
    deflated) against ~7 us to unpickle it; a prefix at 10,000 interviews reads ~1,000
    blocks. The ends are stored little-endian before the values' bytes, in one stream."""

    __slots__ = ("_packed", "count", "deflated")

    def __init__(self, count: int, deflated: bytes) -> None:
        self.count = count
        self.deflated = deflated
        self._packed: PackedValues | None = None

    @classmethod
    def of(cls, values, level: int) -> DeflatedValues:
        packed = PackedValues.pack(values)
        ends = array("I", packed.ends)
        if sys.byteorder == "big":  # pragma: no cover - little-endian machines only here
            ends.byteswap()
        return cls(len(ends), zlib.compress(ends.tobytes() + packed.data, level))

    def unpack(self) -> PackedValues:
        """The values, inflated once."""
        found = self._packed
        if found is None:
            raw = zlib.decompress(self.deflated)
            cut = 4 * self.count
            ends = array("I")
            ends.frombytes(raw[:cut])
            if sys.byteorder == "big":  # pragma: no cover
                ends.byteswap()
            found = self._packed = PackedValues(raw[cut:], ends)
        return found

    def __reduce__(self):
        return (DeflatedValues, (self.count, self.deflated))

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, i: int) -> bytes:
        return self.unpack()[i]

    def __iter__(self):
        return iter(self.unpack())


# How ``pickle.dumps(block, 5)`` writes the start of a block (after PROTO and its FRAME):
# the ids array's reconstructor, then its typecode and machine format (``H``: little-endian
# uint16; ``I``: little-endian uint32), then its raw bytes (BINBYTES or SHORT_BINBYTES); then
# the weights, ``N`` (None: every weight is 1) or a ``B`` array of term frequencies.
_IDS_HEAD = (
    b"\x8c\x05array\x94\x8c\x14_array_reconstructor\x94\x93\x94(\x8c\x05array\x94"
    b"\x8c\x05array\x94\x93\x94\x8c\x01"
)
_IDS_TYPES = [
    (_IDS_HEAD + b"H\x94K\x02", "<u2"),
    (_IDS_HEAD + b"I\x94K\x06", "<u4"),
]
_IDS_AFTER = b"\x94t\x94R\x94"
_WEIGHTS_HEAD = b"h\x02(h\x05\x8c\x01B\x94K\x00"
_IDS_AT = 11  # PROTO 5 (2 bytes), FRAME and its 8-byte length


def ids_and_frequencies(data) -> tuple[np.ndarray, np.ndarray | None] | None:
    """A block's id deltas and weights (``None``: every weight is 1) straight from its
    pickled bytes, as numpy arrays, when they are what nearly every block holds (``H`` or
    ``I`` deltas; ``B`` term frequencies or no weights); ``None`` for any other form
    (``pickle.loads`` reads it). The bytes are checked against what ``pickle`` writes for
    that form, so whatever this reads is what ``loads`` would read. Unpickling a block and
    viewing its arrays took ~5.8 us, this ~2 us; a prefix's 64 words read ~1,500 blocks at
    10,000 interviews."""
    data = bytes(data)
    if not data.startswith(b"\x80\x05\x95"):
        return None
    form = next((form for form in _IDS_TYPES if data.startswith(form[0], _IDS_AT)), None)
    if form is None:
        return None
    head, dtype = form
    ids, at = _raw_bytes(data, _IDS_AT + len(head))
    if ids is None or not data.startswith(_IDS_AFTER, at):
        return None
    at += len(_IDS_AFTER)
    ids_np = np.frombuffer(ids, dtype=dtype)
    if data[at] == 0x4E:  # NONE
        return ids_np, None
    if not data.startswith(_WEIGHTS_HEAD, at):
        return None
    weights, _ = _raw_bytes(data, at + len(_WEIGHTS_HEAD))
    if weights is None or len(weights) != len(ids_np):
        return None
    return ids_np, np.frombuffer(weights, dtype=np.uint8)


# ``block_layouts``: the bytes every usual block has at the same place (the
# pickle's PROTO 5 and FRAME opcodes, then the ids array's reconstructor), and those after
# its typecode (``H`` or ``I``, then its machine format).
_FIXED_AT = np.r_[0:3, _IDS_AT : _IDS_AT + len(_IDS_HEAD)]
_FIXED = np.frombuffer(b"\x80\x05\x95" + _IDS_HEAD, dtype=np.uint8)
_TYPE_AT = _IDS_AT + len(_IDS_HEAD)
_TYPE_TAILS = {  # typecode -> (the 3 bytes after it, the dtype of the ids)
    ord("H"): (np.frombuffer(b"\x94K\x02", dtype=np.uint8), "<u2"),
    ord("I"): (np.frombuffer(b"\x94K\x06", dtype=np.uint8), "<u4"),
}
_AFTER = np.frombuffer(_IDS_AFTER, dtype=np.uint8)
_WEIGHTS = np.frombuffer(_WEIGHTS_HEAD, dtype=np.uint8)
_LE4 = np.array([1, 1 << 8, 1 << 16, 1 << 24], dtype=np.int64)


# ``block_layouts``' columns: where a block's ids start (from its data's start), their item
# size (2: ``H``, 4: ``I``), its weights' form (``NO_WEIGHTS``: every weight is 1,
# ``FREQUENCIES``: a ``B`` array, ``ONE_WEIGHT``: one float for all), where the ``B`` array
# starts, the one weight; where its deflated values (``DeflatedValues``: positions) start
# and how many bytes they are, -1 when the block has values in another form or none.
LAYOUT_COLUMNS = 7
NO_WEIGHTS, FREQUENCIES, ONE_WEIGHT = 0, 1, 2


def block_layouts(
    buf: np.ndarray, starts: np.ndarray, stops: np.ndarray, counts: np.ndarray
) -> np.ndarray | None:
    """Where the ids and weights of many usual blocks are (an int64 row of
    ``LAYOUT_COLUMNS`` per block), found with numpy and no loop over the blocks, checking
    every byte ``ids_and_frequencies`` checks; ``None`` when any block is in another form
    (the caller reads them one by one). ``buf``: uint8 bytes holding the blocks' data, each
    from ``starts[i]`` to ``stops[i]`` (as ``whoosh_internals.block_data`` gives it),
    ``counts[i]`` postings. A segment never changes, so callers keep the layouts with the
    block heads (``restriction.SegmentTable.postings``) and decode with ``decode_blocks``."""
    if not len(starts) or (stops - starts < _TYPE_AT + 10).any():
        return None
    if not (buf[starts[:, None] + _FIXED_AT] == _FIXED).all():
        return None
    code = buf[starts + _TYPE_AT]
    size = np.zeros(len(starts), dtype=np.int64)
    for c, (tail, dtype) in _TYPE_TAILS.items():
        at = code == c
        if at.any():
            if not (buf[starts[at][:, None] + _TYPE_AT + 1 + np.arange(3)] == tail).all():
                return None
            size[at] = np.dtype(dtype).itemsize
    if not size.all():
        return None
    ids_at, length = _binbytes(buf, starts + _TYPE_AT + 4, stops)
    if ids_at is None or (length != counts * size).any():
        return None
    after = ids_at + length
    if (after + len(_AFTER) + 1 > stops).any():
        return None
    if not (buf[after[:, None] + np.arange(len(_AFTER))] == _AFTER).all():
        return None
    layout = np.zeros((len(starts), LAYOUT_COLUMNS), dtype=np.int64)
    layout[:, 0] = ids_at - starts
    layout[:, 1] = size
    w_at = after + len(_AFTER)
    op = buf[w_at]
    one = op == 0x47  # BINFLOAT: every weight the same (a short block's)
    if one.any():
        if (w_at[one] + 9 > stops[one]).any():
            return None
        value = buf[w_at[one][:, None] + 1 + np.arange(8)].copy().view(">f8")[:, 0]
        if not ((value >= 0) & (value < 256) & (value == np.floor(value))).all():
            return None
        layout[one, 2] = ONE_WEIGHT
        layout[one, 4] = value.astype(np.int64)
    weighted = (op != 0x4E) & ~one  # 0x4E, NONE: every weight is 1
    values_at = w_at + np.where(one, 9, 1)  # after NONE or the BINFLOAT
    if weighted.any():
        w_at, w_stops = w_at[weighted], stops[weighted]
        if (w_at + len(_WEIGHTS) + 5 > w_stops).any():
            return None
        if not (buf[w_at[:, None] + np.arange(len(_WEIGHTS))] == _WEIGHTS).all():
            return None
        found, w_length = _binbytes(buf, w_at + len(_WEIGHTS), w_stops)
        if found is None or (w_length != counts[weighted]).any():
            return None
        layout[weighted, 2] = FREQUENCIES
        layout[weighted, 3] = found - starts[weighted]
        values_at[weighted] = found + w_length + len(_AFTER)
        if (values_at[weighted] > w_stops).any():
            return None
        if not (buf[found[:, None] + w_length[:, None] + np.arange(len(_AFTER))] == _AFTER).all():
            return None
    layout[:, 5:] = -1
    deflated_at, deflated_length = _deflated_values(buf, values_at, stops, counts)
    if deflated_at is not None:
        layout[:, 5] = deflated_at - starts
        layout[:, 6] = deflated_length
    return layout


# How ``pickle.dumps(block, 5)`` writes a ``DeflatedValues`` (``__reduce__``): its class (the
# module and name, each memoised), then its count (BININT1, BININT2 or BININT), then its
# deflated bytes; and after them the ends of its args tuple, of the reduce and of the block.
_VALUES_HEAD = np.frombuffer(
    b"\x8c\x15oralhist.search.codec\x94\x8c\x0eDeflatedValues\x94\x93\x94", dtype=np.uint8
)
_VALUES_TAIL = np.frombuffer(b"\x94\x86\x94R\x94\x87\x94.", dtype=np.uint8)


def _deflated_values(buf: np.ndarray, at: np.ndarray, stops: np.ndarray, counts: np.ndarray):
    """(where the deflated bytes start, how many) of the ``DeflatedValues`` pickled at
    ``at`` in each block (ending at ``stops``), or (``None``, ``None``) unless every block
    has one there holding ``counts`` values and ending its block."""
    if (at + len(_VALUES_HEAD) + 7 > stops).any():
        return None, None
    if not (buf[at[:, None] + np.arange(len(_VALUES_HEAD))] == _VALUES_HEAD).all():
        return None, None
    at = at + len(_VALUES_HEAD)
    op = buf[at]
    small = op == ord("K")  # BININT1
    two = op == ord("M")  # BININT2
    if not (small | two).all():  # (a block holds at most 512 postings: no BININT)
        return None, None
    count = buf[at + 1].astype(np.int64) + np.where(two, buf[at + 2].astype(np.int64) << 8, 0)
    if (count != counts).any():
        return None, None
    start, length = _binbytes(buf, at + np.where(two, 3, 2), stops)
    if start is None or (start + length + len(_VALUES_TAIL) != stops).any():
        return None, None
    if not (buf[(start + length)[:, None] + np.arange(len(_VALUES_TAIL))] == _VALUES_TAIL).all():
        return None, None
    return start, length


_IDS_DTYPES = {2: np.dtype("<u2"), 4: np.dtype("<u4")}
_ONES = np.ones(BLOCK_POSTINGS, dtype=np.uint8)


def _ones(k: int) -> np.ndarray:
    return _ONES[:k] if k <= len(_ONES) else np.ones(k, dtype=np.uint8)


def decode_blocks(
    buf: np.ndarray, starts: np.ndarray, counts: np.ndarray, layout: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The blocks' (id deltas one block after another, the first of each block absolute, as
    int64; term frequencies as uint8) from their bytes (``buf``, each block's data from
    ``starts[i]``) and ``block_layouts``' rows: a slice and a view per block, and two
    copies, without checking anything again."""
    n = counts.tolist()
    where = (starts + layout[:, 0]).tolist()
    ids = [
        buf[a : a + k * size].view(_IDS_DTYPES[size])
        for a, k, size in zip(where, n, layout[:, 1].tolist(), strict=True)
    ]
    deltas = np.concatenate(ids, dtype=np.int64)
    form = layout[:, 2]
    at = (starts + layout[:, 3]).tolist()
    if (form == FREQUENCIES).all():
        weights = [buf[a : a + k] for a, k in zip(at, n, strict=True)]
    else:
        weights = [
            buf[a : a + k]
            if f == FREQUENCIES
            else (_ones(k) if f == NO_WEIGHTS else np.full(k, v, np.uint8))
            for a, k, f, v in zip(at, n, form.tolist(), layout[:, 4].tolist(), strict=True)
        ]
    return deltas, np.concatenate(weights)


def deflated_values(
    buf: np.ndarray, starts: np.ndarray, counts: np.ndarray, layout: np.ndarray
) -> list[DeflatedValues] | None:
    """Each block's ``DeflatedValues`` (its positions, still deflated) from its bytes and
    ``block_layouts``' row, as ``pickle.loads`` of the block gives it; ``None`` unless every
    block has them."""
    if (layout[:, 5] < 0).any():
        return None
    at = (starts + layout[:, 5]).tolist()
    return [
        DeflatedValues(k, buf[a : a + length].tobytes())
        for a, length, k in zip(at, layout[:, 6].tolist(), counts.tolist(), strict=True)
    ]


def _binbytes(buf: np.ndarray, at: np.ndarray, stops: np.ndarray):
    """(where the bytes start, how many) of the BINBYTES or SHORT_BINBYTES opcodes at ``at``,
    or (``None``, ``None``) when one is another opcode or its bytes pass ``stops``."""
    op = buf[at]
    short = op == 0x43
    if not (short | (op == 0x42)).all():
        return None, None
    length = buf[at + 1].astype(np.int64)
    if not short.all():
        long_at = at[~short]
        length[~short] = buf[long_at[:, None] + 1 + np.arange(4)].astype(np.int64) @ _LE4
    start = at + np.where(short, 2, 5)
    if (start + length > stops).any():
        return None, None
    return start, length


def _raw_bytes(data: bytes, at: int):
    """(the bytes of a BINBYTES or SHORT_BINBYTES at ``at``, where the next opcode is), or
    (``None``, ``at``) for another opcode."""
    op = data[at]
    if op == 0x43:  # SHORT_BINBYTES: a length byte
        start = at + 2
        end = start + data[at + 1]
    elif op == 0x42:  # BINBYTES: a 4-byte little-endian length
        start = at + 5
        end = start + int.from_bytes(data[at + 1 : at + 5], "little")
    else:
        return None, at
    return data[start:end], end


def _array(typecode: str, values: np.ndarray) -> array:
    out = array(typecode)
    out.frombytes(values.tobytes())
    return out


class ArrayBlockWriter(W3PostingsWriter):
    """W3 posting blocks whose ids and weights are pickled arrays (see the module docstring).
    Byte ids (term vectors) are left as whoosh writes them."""

    def _mini_ids(self):
        if wi.block_has_byte_ids(self):
            return super()._mini_ids()
        ids = wi.block_ids(self)  # an array("I")
        if len(ids) < SMALL_BLOCK:
            deltas = array("I", ids)
            for i in range(len(ids) - 1, 0, -1):
                deltas[i] -= ids[i - 1]
            return array("H", deltas) if max(deltas, default=0) < 65536 else deltas
        deltas = np.diff(np.frombuffer(ids, dtype=np.uint32), prepend=np.uint32(0))
        if deltas.max(initial=0) < 65536:
            return _array("H", deltas.astype(np.uint16))
        return _array("I", deltas)

    def _mini_weights(self):
        weights = wi.block_weights(self)  # an array("f")
        if not weights:
            return None
        first = weights[0]
        if len(weights) < SMALL_BLOCK:
            if all(w == first for w in weights):
                return None if first == 1.0 else first
            if all(0 <= w < 256 and w.is_integer() for w in weights):
                return array("B", map(int, weights))  # term frequencies: a byte each
            return array("f", weights)
        values = np.frombuffer(weights, dtype=np.float32)
        if (values == first).all():
            return None if first == 1.0 else first
        if values.max() < 256 and (values >= 0).all() and (values == np.floor(values)).all():
            return _array("B", values.astype(np.uint8))
        return array("f", weights)

    def _mini_values(self):
        fixedsize = wi.fixed_value_size(self)
        if fixedsize is None or fixedsize < 0:
            comp = wi.block_compression(self)
            values = wi.block_value_list(self)
            return DeflatedValues.of(values, comp) if comp else PackedValues.pack(values)
        return super()._mini_values()

    def _write_block(self, last: bool = False) -> None:
        """whoosh's ``_write_block``, pickling with protocol 5 (arrays as raw bytes). No
        block is compressed whole: positions are deflated on their own (``DeflatedValues``,
        see the module docstring)."""
        wi.write_block(
            self,
            last,
            lambda: (self._mini_ids(), self._mini_weights(), self._mini_values()),
            lambda data: 0,
        )


def _compress_stored(record: bytes, level: int) -> bytes:
    """A stored record as a zlib stream: deflated at ``level`` when long enough to gain from
    it, else stored (level 0). Most records are a short segment (~250 bytes), which deflate
    shrinks by a fifth at four times the cost (~6 us against 1.5 us)."""
    return zlib.compress(record, level if len(record) >= STORED_COMPRESS_FROM else 0)


class StoredFieldsWriter(W3PerDocWriter):
    """whoosh's per-document writer with cheaper compression of the stored fields (whoosh:
    zlib level 3 on every record, a tenth of an indexing process). Readers decompress any
    zlib stream, stored or deflated."""

    def __init__(self, codec, storage, segment) -> None:
        super().__init__(codec, storage, segment)
        wi.set_stored_compression(self, STORED_COMPRESSION, _compress_stored)


class BlockCodec(W3Codec):
    """W3Codec writing ``ArrayBlockWriter`` blocks and ``StoredFieldsWriter`` records."""

    def per_document_writer(self, storage, segment):
        return StoredFieldsWriter(self, storage, segment)

    def postings_writer(self, dbfile, byteids=False):
        return ArrayBlockWriter(dbfile, byteids=byteids, **wi.codec_settings(self))


def codec() -> BlockCodec:
    return BlockCodec(blocklimit=BLOCK_POSTINGS, compression=BLOCK_COMPRESSION)
