"""The count of JSON Lines lines that cannot be a JSON object (readers.LineEnds), taken chunk by chunk while a file is
hashed: it must not depend on where the chunks split the file."""

import hashlib
import random

import pytest

from compliance.ingest import load
from compliance.ingest.readers import LineEnds

OK_ENDINGS = b"}\n\r \t"  # an object's `}`, or the space, tab or line break of a blank line


def broken_lines_by_line(data: bytes) -> int:
    """The rule stated line by line: a line is broken when its last byte, before its line break and a CRLF's `\\r`,
    is not one an object's line may end with."""
    lines = data.split(b"\n")
    complete, last = lines[:-1], lines[-1]
    broken = 0
    for line in complete:
        if line.endswith(b"\r"):  # a CRLF: the byte before the `\r` (a line of nothing else is blank)
            line = line[:-1]
        broken += bool(line) and line[-1] not in OK_ENDINGS
    return broken + bool(last and last[-1] not in OK_ENDINGS)


def counted_in_chunks(data: bytes, size: int) -> int:
    ends = LineEnds()
    for start in range(0, len(data), size):
        ends.feed(memoryview(bytearray(data[start : start + size])))
    return ends.close()


@pytest.mark.parametrize(
    ("text", "broken"),
    [
        (b'{"a": 1}\n{"a": 2}\n', 0),
        (b'{"a": 1}\r\n{"a": 2}\r\n', 0),
        (b'{"a": 1}\n{"a": 2', 1),  # the last line cut short, no line break
        (b'{"a": 1\n{"a": 2}\n', 1),  # a line cut short, then a good one
        (b'{"a": 1}  \n\t\n\n{"a": 2}\t\r\n', 0),  # trailing blanks and blank lines
        (b"[1, 2]\n", 1),  # an array is not an object
        (b'"text"\r\n"more"', 2),
        (b"", 0),
    ],
)
def test_a_line_that_cannot_be_an_object_is_counted_wherever_the_chunks_split(text: bytes, broken: int) -> None:
    assert broken_lines_by_line(text) == broken
    for size in (1, 2, 3, 5, 1 << 20):
        assert counted_in_chunks(text, size) == broken, size


def test_random_bytes_give_the_line_by_line_count_at_every_chunk_size() -> None:
    rng = random.Random(17)
    for _ in range(3000):
        data = bytes(rng.choice(b'}\n\r \tx{"') for _ in range(rng.randint(0, 40)))
        expected = broken_lines_by_line(data)
        for size in (1, 2, 3, 7, 64):
            assert counted_in_chunks(data, size) == expected, (data, size)


@pytest.mark.parametrize("chunk_bytes", [1, 2, 3, 7, 64])
def test_a_file_is_hashed_and_checked_across_chunk_ends(tmp_path, monkeypatch, chunk_bytes: int) -> None:
    """Through the one reused read buffer of `sha256_file`, chunk ends falling inside records, on `\r`, on line
    breaks and at the end of the file."""
    monkeypatch.setattr(load, "HASH_CHUNK_BYTES", chunk_bytes)
    record = b'{"event_id": "e1"}\r\n'
    data = record * 5 + b'{"event_id": "e2"\n' + record * 3 + b"[1]\n\n" + record + b'{"cut'  # three broken lines
    path = tmp_path / "2025-01-01.jsonl"
    path.write_bytes(data)
    file_id, broken = load._file_id_and_broken_lines(path)
    assert broken == broken_lines_by_line(data) == 3
    assert file_id == hashlib.sha256(data).hexdigest()
