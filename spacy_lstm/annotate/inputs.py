"""Reading annotate's inputs: text files (.txt or .gz, one doc per line) and
.spacy files, each read as a stream, never whole. One pass describes an input
(a hash of all its bytes and its number of items) for the manifest; a second
reads the items of the shards still to do."""

import contextlib
import gzip
import hashlib
import tempfile
import zlib
from pathlib import Path
from typing import IO, Any, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy
from spacy.tokens import DocBin
from spacy.vocab import Vocab
from srsly import msgpack

from .shards import DOCS_SUFFIX, Shard

CHUNK = 1 << 20
BOM = "\ufeff"
# Items: a text line's number and text, or a .spacy doc's index and the doc
# as bytes.
Item = Tuple[int, Any]


def is_docbin(path: Path) -> bool:
    """Whether the input is a .spacy file (else text, one doc per line)."""
    return path.suffix == DOCS_SUFFIX


class _HashingReader:
    """A binary file that hashes every byte read from it."""

    def __init__(self, file_: IO[bytes]) -> None:
        self.file = file_
        self.digest = hashlib.blake2b(digest_size=16)
        self.size = 0

    def read(self, n: int = -1) -> bytes:
        data = self.file.read(n)
        self.digest.update(data)
        self.size += len(data)
        return data

    def readable(self) -> bool:
        return True


def describe(path: Path) -> Dict:
    """The input's path, size, a blake2b hash of all its bytes and its items
    (the lines of a text file, blank ones too; the docs of a .spacy file), in
    one streaming pass. A truncated or corrupt file is a ValueError that
    names it."""
    with path.open("rb") as raw:
        reader = _HashingReader(raw)
        with _reading(path):
            if is_docbin(path):
                items = _DocBinStream(reader).count()
            else:
                text = gzip.GzipFile(fileobj=reader) if _is_gz(path) else reader
                items = _count_lines(text)
        reader.read()  # bytes after the last item (gzip padding) count too
    return {
        "path": str(path.resolve()),
        "size": reader.size,
        "blake2b": reader.digest.hexdigest(),
        "items": items,
    }


def _count_lines(file_: Any) -> int:
    n_lines, last = 0, b"\n"
    for chunk in iter(lambda: file_.read(CHUNK), b""):
        n_lines += chunk.count(b"\n")
        last = chunk[-1:]
    return n_lines + (last != b"\n")


def _is_gz(path: Path) -> bool:
    return path.suffix == ".gz"


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn the errors of a truncated or corrupt input into a ValueError that
    names the file (gzip's EOFError names nothing)."""
    try:
        yield
    except (
        EOFError,
        gzip.BadGzipFile,
        zlib.error,
        msgpack.exceptions.ExtraData,
    ) as err:
        raise ValueError(
            f"{path} is truncated or corrupt ({type(err).__name__}: {err})."
        ) from None
    except _CorruptDocBin as err:
        raise ValueError(f"{path} is not a spaCy DocBin: {err}") from None


def read_items(
    path: Path, shards: Sequence[Shard], max_chars: int
) -> Iterator[Tuple[Shard, List[Item], List[Dict]]]:
    """Each of the input's shards (in order) with its items and the lines
    refused before any parsing (not UTF-8, or longer than max_chars
    characters). Blank lines are no docs and are left out. A byte-order mark
    at the start of the file is dropped; a carriage return inside a line is
    read as a space (the line keeps its length, so character offsets hold)."""
    with _reading(path):
        if is_docbin(path):
            yield from _docbin_items(path, shards)
        else:
            yield from _text_items(path, shards, max_chars)


def _text_items(
    path: Path, shards: Sequence[Shard], max_chars: int
) -> Iterator[Tuple[Shard, List[Item], List[Dict]]]:
    with gzip.open(path, "rb") if _is_gz(path) else path.open("rb") as file_:
        lines = enumerate(file_, start=1)
        for shard in shards:
            items, refused = [], []
            for number, raw in lines:
                try:
                    text = raw.decode("utf8").rstrip("\r\n").replace("\r", " ")
                except UnicodeDecodeError as err:
                    reason = f"not UTF-8 (byte {err.start})"
                    refused.append(_refused(path, number, reason))
                else:
                    if number == 1 and text.startswith(BOM):
                        text = text[len(BOM) :]
                    if len(text) > max_chars:
                        reason = f"{len(text)} characters, over --max-chars {max_chars}"
                        refused.append(_refused(path, number, reason))
                    elif text.strip():
                        items.append((number, text))
                if number == shard.stop:  # line numbers count from 1
                    break
            yield shard, items, refused


def _refused(path: Path, number: int, reason: str) -> Dict:
    return {"source": str(path), "line": number, "error": reason}


def _docbin_items(
    path: Path, shards: Sequence[Shard]
) -> Iterator[Tuple[Shard, List[Item], List[Dict]]]:
    with tempfile.TemporaryDirectory(prefix="annotate-") as spill:
        with path.open("rb") as raw:
            stream = _DocBinStream(raw, spill=Path(spill))
            stream.read()
        # The strings of the whole file, once, in a vocab of its own: each
        # shard's docs are made from it and sent as Doc bytes.
        vocab = Vocab(strings=stream.msg.get("strings", []))
        for shard in shards:
            docs = stream.docbin(shard.start, shard.stop).get_docs(vocab)
            items = [(i, doc.to_bytes()) for i, doc in enumerate(docs, shard.start)]
            yield shard, items, []


class _CorruptDocBin(Exception):
    pass


class _Inflating:
    """A file-like view of a zlib stream, inflated no more than asked for:
    a DocBin's arrays compress many times over, so one compressed chunk may
    inflate to tens of megabytes."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.inflate = zlib.decompressobj()
        self.pending = b""  # compressed bytes not inflated yet

    def read(self, n: int = -1) -> bytes:
        n = CHUNK if n < 0 else n
        out = bytearray()
        while len(out) < n and not self.inflate.eof:
            if not self.pending:
                self.pending = self.raw.read(CHUNK // 16)
                if not self.pending:
                    raise EOFError("the compressed stream ends early")
            out += self.inflate.decompress(self.pending, n - len(out))
            self.pending = self.inflate.unconsumed_tail
        return bytes(out)


class _DocBinStream:
    """A DocBin file read as a stream. DocBin.from_disk holds the whole file,
    compressed and inflated, and every doc's arrays: here the token and space
    arrays, by far the largest fields, go to files in `spill` (or nowhere,
    when only counting) and the docs are cut from memory maps of them; the
    other fields (strings, cats, user data) are read as DocBin reads them."""

    # spaCy's DocBin.to_bytes: one zlib-compressed msgpack map of these keys.
    ARRAYS = ("tokens", "spaces")

    def __init__(self, raw: Any, spill: Optional[Path] = None) -> None:
        self.unpacker = msgpack.Unpacker(
            _Inflating(raw), raw=False, read_size=CHUNK, max_buffer_size=1 << 31
        )
        self.spill = spill
        self.msg: Dict[str, Any] = {}
        self.arrays: Dict[str, Path] = {}

    def count(self) -> int:
        self.read()
        return len(self.lengths)

    def read(self) -> None:
        try:
            n_keys = self.unpacker.read_map_header()
        except (ValueError, msgpack.exceptions.UnpackException) as err:
            raise _CorruptDocBin(err) from None
        for _ in range(n_keys):
            key = self.unpacker.unpack()
            if key in self.ARRAYS:
                self._read_bin(key)
            elif self.spill is None and key not in ("lengths", "attrs"):
                self.unpacker.skip()  # only counting
            else:
                self.msg[key] = self.unpacker.unpack()
        if "lengths" not in self.msg or "attrs" not in self.msg:
            raise _CorruptDocBin("no lengths or attrs")
        self.lengths = numpy.frombuffer(self.msg["lengths"], dtype="int32")
        self.offsets = numpy.concatenate([[0], numpy.cumsum(self.lengths)])

    def _read_bin(self, key: str) -> None:
        kind = self.unpacker.read_bytes(1)
        widths = {b"\xc4": 1, b"\xc5": 2, b"\xc6": 4}
        if kind not in widths:
            raise _CorruptDocBin(f"{key} is not a byte string")
        size = int.from_bytes(self.unpacker.read_bytes(widths[kind]), "big")
        out = None
        if self.spill is not None:
            self.arrays[key] = self.spill / key
            out = self.arrays[key].open("wb")
        try:
            while size:
                data = self.unpacker.read_bytes(min(size, CHUNK))
                if not data:
                    raise EOFError(f"{key} ends early")
                size -= len(data)
                if out is not None:
                    out.write(data)
        finally:
            if out is not None:
                out.close()

    def _array(self, key: str, dtype: str, width: int) -> numpy.ndarray:
        path = self.arrays[key]
        if path.stat().st_size == 0:
            return numpy.zeros((0, width), dtype=dtype)
        return numpy.memmap(path, dtype=dtype, mode="r").reshape((-1, width))

    def docbin(self, start: int, stop: int) -> DocBin:
        """Docs start..stop - 1 as a DocBin of their own, without strings
        (get_docs takes them from the vocab it is given)."""
        attrs = self.msg["attrs"]
        tokens = self._array("tokens", "uint64", len(attrs))
        spaces = self._array("spaces", "bool", 1)
        offsets = self.offsets
        n_docs = len(self.lengths)
        docs = DocBin(store_user_data=True)
        docs.attrs = attrs
        docs.tokens = [
            numpy.array(tokens[offsets[i] : offsets[i + 1]]) for i in range(start, stop)
        ]
        docs.spaces = [
            numpy.array(spaces[offsets[i] : offsets[i + 1]]) for i in range(start, stop)
        ]
        docs.cats = self.msg.get("cats", [{}] * n_docs)[start:stop]
        docs.flags = self.msg.get("flags", [{}] * n_docs)[start:stop]
        docs.span_groups = self.msg.get("span_groups", [b""] * n_docs)[start:stop]
        docs.user_data = self.msg.get("user_data", [None] * n_docs)[start:stop]
        return docs
