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
