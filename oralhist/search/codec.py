"""The index's codec: whoosh's W3 format, with posting blocks numpy can read without Python
objects.

whoosh's ``W3PostingsWriter`` pickles each block's docnum deltas and weights as tuples of
Python ints and floats (protocol 2): reading a block makes ~1,000 Python objects that
``evaluate`` then turns back into arrays. Here the same block holds them as ``array``
objects (``H`` or ``I`` deltas, ``f`` weights: whoosh keeps weights as float32 in memory
anyway), pickled with protocol 5 so the payload is raw bytes. whoosh's own readers still read
every block (``delta_decode`` and its matchers index an ``array`` as they do a tuple), and
``evaluate`` reads both kinds, so an index written by plain whoosh (or before this codec)
stays searchable; ``oralhist reindex`` rewrites it in the new form.

Blocks hold 512 postings (whoosh: 128) compressed with zlib level 1 (whoosh: 3): every query
decodes whole blocks, so fewer, larger ones cut the per-block cost (block header pickle,
decompression). Readers take each block's settings from its header.

The index's table of contents pickles this codec with each segment: keep ``BlockCodec``
importable from this module, or old indexes will ask to be rebuilt.
"""

from __future__ import annotations

import zlib
from array import array
from pickle import dumps

import numpy as np
from whoosh.codec.whoosh3 import WHOOSH3_HEADER_MAGIC, W3Codec, W3PostingsWriter
from whoosh.util.numeric import length_to_byte

BLOCK_POSTINGS = 512
BLOCK_COMPRESSION = 1


def _array(typecode: str, values: np.ndarray) -> array:
    out = array(typecode)
    out.frombytes(values.tobytes())
    return out


class ArrayBlockWriter(W3PostingsWriter):
    """W3 posting blocks whose ids and weights are pickled arrays (see the module docstring).
    Byte ids (term vectors) are left as whoosh writes them."""

    def _mini_ids(self):
        if self._byteids:
            return super()._mini_ids()
        deltas = np.diff(np.frombuffer(self._ids, dtype=np.uint32), prepend=np.uint32(0))
        if deltas.max(initial=0) < 65536:
            return _array("H", deltas.astype(np.uint16))
        return _array("I", deltas)

    def _mini_weights(self):
        weights = self._weights  # an array("f")
        if not weights:
            return None
        values = np.frombuffer(weights, dtype=np.float32)
        first = weights[0]
        if (values == first).all():
            return None if first == 1.0 else first
        return array("f", weights)

    def _write_block(self, last: bool = False) -> None:
        """whoosh's ``_write_block``, pickling with protocol 5 (arrays as raw bytes)."""
        if not self._blockcount:
            self._postfile.write(WHOOSH3_HEADER_MAGIC)
        self._terminfo.add_block(self)
        data = (self._mini_ids(), self._mini_weights(), self._mini_values())
        databytes = dumps(data, 5)
        comp = self._compression
        if comp:
            databytes = zlib.compress(databytes, comp)
        ids = self._ids
        infobytes = dumps(
            (
                len(ids),
                ids[-1],
                self._maxweight,
                comp,
                length_to_byte(self._minlength),
                length_to_byte(self._maxlength),
            ),
            2,
        )
        postfile = self._postfile
        blocklength = len(infobytes) + len(databytes)
        postfile.write_int(-blocklength if last else blocklength)
        postfile.write(infobytes)
        postfile.write(databytes)
        self._blockcount += 1
        self._new_block()


class BlockCodec(W3Codec):
    """W3Codec writing ``ArrayBlockWriter`` blocks."""

    def postings_writer(self, dbfile, byteids=False):
        return ArrayBlockWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )


def codec() -> BlockCodec:
    return BlockCodec(blocklimit=BLOCK_POSTINGS, compression=BLOCK_COMPRESSION)
