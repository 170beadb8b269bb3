"""Streaming reader for messy CSV files: sniffs encoding, delimiter and header, then yields rows.

Invariants:
- Pure helpers, no Django: used by `leadbase import` and the web import page.
- Memory is flat in the file size: `sniff` reads one fixed-size sample and `read_rows` is a
  generator over the open file that reads a physical line in pieces of at most
  `MAX_LINE_CHARS` characters.
- Data rows are numbered from 1 with the header and blank records (empty, or only whitespace
  and delimiters) excluded; these are the row numbers the import report shows.
- 8-bit files never fail to decode: a byte that is invalid UTF-8 (or undefined in cp1252) is
  read as cp1252 (or latin-1), so one stray byte cannot abort a million-row import. Only UTF-16
  files (or an unknown codec named in a given `CsvInfo`) raise `CsvError("bad_encoding")`,
  possibly in the middle of `read_rows`.
- A header with no data rows is `CsvError("empty")`, like an empty file: there is nothing to import.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from functools import partial
from itertools import chain, islice
from typing import TypeVar

SAMPLE_BYTES = 64 * 1024
# Long enough for any legitimate row (csv caps one field at 131,072 characters), small enough
# to bound memory when an upload has no line breaks at all.
MAX_LINE_CHARS = 4 * 1024 * 1024
# In order of preference when two candidates fit the sample equally well.
DELIMITERS = ",;\t|"
# Records of the sample used to choose the delimiter.
_SNIFF_RECORDS = 50
# Title lines a report or badge-scanner export may put above its header row.
MAX_TITLE_LINES = 5
_FALLBACK_ERRORS = "leadbase.cp1252_fallback"

Row = tuple[int, list[str] | None, str]
T = TypeVar("T")

_SAVE_AS_CSV = "In Excel or Google Sheets, save it as “CSV UTF-8” and upload that file."
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "an Excel workbook or a ZIP archive"),
    (b"PK\x05\x06", "an Excel workbook or a ZIP archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-style Excel workbook (.xls)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"\x1f\x8b", "a gzip-compressed file"),
)
# A complete UTF-8 multi-byte sequence; cp1252 text almost never contains one.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH_BYTE = re.compile(rb"[\x80-\xff]")
# Excel's optional first line naming the delimiter, e.g. "sep=;".
_SEP_LINE = re.compile(r"sep=([^\r\n\"])(?:\r\n|\r|\n)", re.IGNORECASE)


class CsvError(ValueError):
    """A file that cannot be imported: `code` is stable, `message` one sentence for a marketer."""

    def __init__(self, code: str, message: str) -> None:
        # Both in args so the error survives pickling (e.g. into a background task result).
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass
class CsvInfo:
    """What `sniff` found: how to decode and split the file, and its header cells (stripped).

    `title_lines` is the number of non-blank records above the header (a report title such as
    "Badge scan export - Trade Fair 2026"); `read_rows` skips them.
    """

    encoding: str
    delimiter: str
    header: list[str]
    title_lines: int = 0


# Byte -> text for bytes that the file's codec rejected: cp1252 where defined, else latin-1.
_BYTE_TEXT = [bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(256)]


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(_BYTE_TEXT[b] for b in bad), error.end


codecs.register_error(_FALLBACK_ERRORS, _cp1252_fallback)


def _decode_errors(encoding: str) -> str:
    """Error handler for `encoding`: strict for UTF-16/32 (no 8-bit reading makes sense there)."""
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise CsvError("bad_encoding", f"The text encoding “{encoding}” is not known.") from None
    return "strict" if name.startswith(("utf-16", "utf-32")) else _FALLBACK_ERRORS


def _detect_encoding(sample: bytes, truncated: bool) -> str:
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            raise CsvError("not_csv", f"This file is {what}, not a CSV file. {_SAVE_AS_CSV}")
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # the codec reads the BOM to pick the byte order
    if b"\x00" in sample:
        return _bomless_utf16(sample)
    try:
        # Not final when truncated: the sample may end inside a multi-byte character.
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=not truncated)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # UTF-8 with a few stray bytes (e.g. files pasted together) is still UTF-8: the fallback
    # handler reads the strays as cp1252. 90%, because cp1252 text can form a valid UTF-8
    # sequence by chance ("ß€" is U+07C0), but rarely most of its non-ASCII bytes.
    high = len(_HIGH_BYTE.findall(sample))
    in_utf8 = sum(map(len, _UTF8_SEQUENCE.findall(sample)))
    return "utf-8" if in_utf8 >= 0.9 * high else "cp1252"


def _bomless_utf16(sample: bytes) -> str:
    """UTF-16 without a BOM has NULs in every other byte for Latin text; anything else is binary."""
    even, odd = sample[0::2], sample[1::2]
    if even.count(0) == 0 and odd.count(0) > len(odd) // 4:
        return "utf-16-le"
    if odd.count(0) == 0 and even.count(0) > len(even) // 4:
        return "utf-16-be"
    raise CsvError("not_csv", f"This file contains binary data, not CSV text. {_SAVE_AS_CSV}")


def _decode_sample(sample: bytes, encoding: str, truncated: bool) -> str:
    decoder = codecs.getincrementaldecoder(encoding)(_decode_errors(encoding))
    try:
        text: str = decoder.decode(sample, final=not truncated)
    except UnicodeDecodeError:
        raise CsvError(
            "bad_encoding", f"This file is not valid {encoding.upper()} text. {_SAVE_AS_CSV}"
        ) from None
    if "\x00" in text:
        raise CsvError("not_csv", f"This file contains binary data, not CSV text. {_SAVE_AS_CSV}")
    return text


def _is_blank(row: list[str]) -> bool:
    return not any(cell.strip() for cell in row)


def _reader(lines: Iterable[str], delimiter: str) -> Iterator[list[str]]:
    # skipinitialspace: hand-written files often put a space after the delimiter, and only then
    # is a following quote recognised (`a, "b,c"`). Cells are stripped anyway.
    return csv.reader(lines, delimiter=delimiter, skipinitialspace=True)


def _sample_records(text: str, delimiter: str, truncated: bool) -> list[list[str]]:
    """The first non-blank records of the sample, split with `delimiter`."""
    records: list[list[str]] = []
    try:
        for row in _reader(io.StringIO(text, newline=""), delimiter):
            if not _is_blank(row):
                records.append(row)
                if len(records) > _SNIFF_RECORDS:
                    break
    except csv.Error:
        pass  # a broken record ends the sample; what came before still counts
    if truncated and len(records) > 1:
        records.pop()  # the sample may have cut the last record short
    return records


def _header_width(row: list[str]) -> int:
    """Cell count without trailing empty cells (spreadsheets often pad the header row)."""
    width = len(row)
    while width > 1 and not row[width - 1].strip():
        width -= 1
    return width


def _title_lines(records: list[list[str]]) -> int:
    """How many leading records are a title above the header, not the header itself.

    A title record has at most one non-empty cell, and the header after it has two or more;
    a file whose records all have one cell (a one-column list) has no title.
    """
    for index, row in enumerate(records[: MAX_TITLE_LINES + 1]):
        if sum(1 for cell in row if cell.strip()) >= 2:
            return index
    return 0


def _fits(row: list[str], width: int) -> bool:
    """Whether `read_rows` accepts `row` under a header of `width` cells."""
    return len(row) == width or (len(row) > width and _is_blank(row[width:]))


def _choose_delimiter(text: str, truncated: bool) -> str:
    """The candidate that splits the header into most columns the data rows agree with.

    Primary key: share of data records whose cell count fits the header's (counted by the csv
    parser itself, so delimiters inside quotes do not count); then fewer title lines above the
    header (a candidate that has to call the first line a title is less likely); then the
    header's own cell count; then `DELIMITERS` order. A candidate that leaves the header as one
    cell is out.
    """
    best: tuple[float, int, int, int] | None = None
    chosen = DELIMITERS[0]
    for preference, delimiter in enumerate(DELIMITERS):
        records = _sample_records(text, delimiter, truncated)
        title_lines = _title_lines(records)
        records = records[title_lines:]
        if not records or (width := _header_width(records[0])) < 2:
            continue
        data = records[1:]
        agreeing = sum(1 for row in data if _fits(row, width)) / len(data) if data else 1.0
        score = (agreeing, -title_lines, width, -preference)
        if best is None or score > best:
            best, chosen = score, delimiter
    return chosen


def _clean_header(row: list[str]) -> list[str]:
    header = [cell.strip() for cell in row[: _header_width(row)]]
    header[0] = header[0].lstrip("\ufeff").strip()  # a BOM the codec did not remove
    return header


def sniff(path: str | os.PathLike[str]) -> CsvInfo:
    """Detect encoding, delimiter and header from the first `SAMPLE_BYTES` of the file."""
    with open(path, "rb") as file:
        sample = file.read(SAMPLE_BYTES)
        truncated = bool(file.read(1))
    return sniff_bytes(sample, truncated=truncated)


def sniff_bytes(sample: bytes, *, truncated: bool = False) -> CsvInfo:
    """`sniff` on a sample already in memory; `truncated` says the file goes on after it."""
    if not sample:
        raise CsvError("empty", "The file is empty.")
    encoding = _detect_encoding(sample, truncated)
    text = _decode_sample(sample, encoding, truncated)
    if truncated:
        # Drop the partial last line so it cannot skew the delimiter counts.
        end = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: end + 1] if end >= 0 else text
    if sep := _SEP_LINE.match(text):
        delimiter, text = sep.group(1), text[sep.end() :]
    else:
        delimiter = _choose_delimiter(text, truncated)
    records = _sample_records(text, delimiter, truncated)
    if not records:
        if text.strip(" \t\r\n" + DELIMITERS):
            raise CsvError("not_csv", "The first line of this file could not be read as CSV.")
        raise CsvError("empty", "The file is empty: it has no header row and no data rows.")
    title_lines = _title_lines(records)
    records = records[title_lines:]
    if len(records) == 1 and not truncated:
        raise CsvError("empty", "The file has a header row but no data rows.")
    return CsvInfo(
        encoding=encoding,
        delimiter=delimiter,
        header=_clean_header(records[0]),
        title_lines=title_lines,
    )


@dataclass
class _NulFlag:
    """`_NulWatch`'s flag for text already in memory."""

    seen_nul: bool


class _NulWatch(io.BufferedReader):
    """Notes whether a NUL byte was read, so rows are checked for NUL only in files that have one.

    Python's csv accepts NUL since 3.11, but a NUL in a value breaks PostgreSQL text columns.
    The text layer decodes chunk by chunk in order, so every row parsed after the flag is set
    is checked, including the one holding the NUL.
    """

    seen_nul = False

    def read1(self, size: int = -1) -> bytes:
        data = super().read1(size)
        if b"\x00" in data:
            self.seen_nul = True
        return data


def _mismatch(count: int, width: int) -> str:
    """Why a row with ``count`` cells under a header of ``width`` is malformed, for the report."""
    columns = "1 column" if count == 1 else f"{count} columns"
    return (
        f"This row has {columns} but the header has {width}: a separator or a quote is probably "
        "missing or extra."
    )


def _unreadable(error: csv.Error) -> str:
    """Why the csv module could not read a row, in words a marketer can act on."""
    if str(error).startswith("field larger than field limit"):
        return (
            f"This row has a value longer than {csv.field_size_limit():,} characters, "
            "usually because a quote is opened and never closed."
        )
    return f"This row could not be read as CSV ({error})."


def _read_header(reader: Iterator[list[str]], delimiter: str, title_lines: int = 0) -> list[str]:
    """Consume blank records, an Excel `sep=` line, `title_lines` title records and the header;
    return the header."""
    first = True
    try:
        for row in reader:
            if first and re.fullmatch(r"sep=.", delimiter.join(row), re.IGNORECASE):
                first = False
                continue
            first = False
            if _is_blank(row):
                continue
            if title_lines:
                title_lines -= 1
                continue
            return _clean_header(row)
    except csv.Error:
        raise CsvError("not_csv", "The header row of this file could not be read as CSV.") from None
    raise CsvError("empty", "The file is empty: it has no header row and no data rows.")


def _data_rows(
    lines: Iterable[str], delimiter: str, nul: _NulWatch | _NulFlag, title_lines: int = 0
) -> Iterator[Row]:
    reader = _reader(lines, delimiter)
    width = len(_read_header(reader, delimiter, title_lines))
    number = 0
    for number, cells, problem in _numbered(reader, width, nul):
        yield number, cells, problem
    if number == 0:
        raise CsvError("empty", "The file has a header row but no data rows.")


def _numbered(
    reader: Iterator[list[str]], width: int, nul: _NulWatch | _NulFlag, end: list[bool] | None = None
) -> Iterator[Row]:
    """The data records of ``reader`` as numbered rows (from 1; blank records are skipped).

    With ``end`` (a block, see ``parse_block``): the record that is exactly the end marker
    stops the rows and appends True to ``end``.
    """
    strip = str.strip
    stop = [_BLOCK_END] if end is not None else None
    number = 0
    while True:  # re-entered after a csv.Error: the reader resumes at the next line
        try:
            for row in reader:
                if row == stop:  # unstripped: a marker caught in an open value keeps its "\n"
                    end.append(True)  # type: ignore[union-attr]
                    return
                cells = list(map(strip, row))
                if nul.seen_nul and "\x00" in "".join(cells):
                    number += 1
                    yield number, None, "This row contains a NUL character (binary data), not text."
                elif len(cells) == width:  # the hot path: one length check, one any()
                    if any(cells):
                        number += 1
                        yield number, cells, ""
                elif not any(cells):
                    pass  # blank record, not numbered
                elif len(cells) > width and not any(cells[width:]):
                    number += 1
                    yield number, cells[:width], ""
                else:
                    number += 1
                    yield number, None, _mismatch(len(cells), width)
            break
        except csv.Error as error:
            number += 1
            yield number, None, _unreadable(error)


def read_rows(path: str | os.PathLike[str], info: CsvInfo | None = None) -> Iterator[Row]:
    """Stream `(row_number, cells, problem)` for each data row; `cells` is None when malformed.

    `problem` is "" for a good row, else one readable sentence (the importer's `malformed_row`).
    Sniffs first when `info` is None; the header is read from the file again, so only
    `info.encoding` and `info.delimiter` matter. Raises `CsvError` ("not_csv", "empty",
    "bad_encoding"), "empty" and "bad_encoding" possibly after rows were yielded.
    """
    info = info or sniff(path)
    errors = _decode_errors(info.encoding)
    raw = _NulWatch(io.FileIO(path, "rb"))
    # newline="": the csv module needs the line endings untouched for quoted multi-line fields.
    with io.TextIOWrapper(raw, encoding=info.encoding, errors=errors, newline="") as text:
        lines = iter(partial(text.readline, MAX_LINE_CHARS), "")
        try:
            yield from _data_rows(lines, info.delimiter, raw, info.title_lines)
        except UnicodeDecodeError:
            raise CsvError(
                "bad_encoding",
                f"Part of this file is not valid {info.encoding.upper()} text. {_SAVE_AS_CSV}",
            ) from None


# --- blocks: parsing a big file on several cores ------------------------------------------------

BLOCK_BYTES = 1024 * 1024  # about 10,000 rows of a typical export
# A stretch of the file this long with no line break at all is cut anyway (its pieces are
# malformed rows either way): a block never holds more than this in memory.
MAX_BLOCK_BYTES = 4 * MAX_LINE_CHARS
# Codecs in which the byte b"\n" (b"\r") is always a line break, never part of a character.
_BLOCK_CODECS = frozenset({"utf-8", "utf-8-sig", "cp1252", "iso8859-1", "ascii"})
# A line added after a block's last line. Random per process (the cleaners are forked, so they
# share it): no file can hold it, so a record equal to it is always the marker itself.
_BLOCK_END = f"\ue000leadbase end of block {secrets.token_hex(16)}\ue000"


@dataclass(frozen=True)
class BlockFormat:
    """How to read the blocks of one file: what `block_format` found in its first block."""

    encoding: str
    delimiter: str
    width: int  # cells in the header row
    title_lines: int = 0


def read_blocks(path: str | os.PathLike[str], size: int | None = None) -> Iterator[bytes]:
    """The file's bytes in blocks of whole lines (cut after a b"\n", else after a b"\r" that
    cannot be the first half of b"\r\n"), about ``size`` bytes each.

    A block starts where a record starts unless a quoted value with a line break in it spans
    the cut: ``parse_block`` tells, and the caller joins the block to the next one.
    """
    size = size or BLOCK_BYTES
    rest = b""
    with open(path, "rb") as file:
        while chunk := file.read(size):
            data = rest + chunk
            cut = _even_cut(data) or data.rfind(b"\n") + 1 or data.rfind(b"\r", 0, len(data) - 1) + 1
            if not cut:
                if len(data) < MAX_BLOCK_BYTES:
                    rest = data
                    continue
                cut = len(data)
            yield data[:cut]
            rest = data[cut:]
    if rest:
        yield rest


def _even_cut(data: bytes, tries: int = 64) -> int:
    """Where to cut ``data``: after its last line break with an even number of quotes before it,
    i.e. most likely not inside a quoted value (a stray quote inside an unquoted value can fool
    the count; ``parse_block`` then tells). 0 when none of the last ``tries`` line breaks is."""
    end, quotes = len(data), data.count(b'"')
    for _ in range(tries):
        at = data.rfind(b"\n", 0, end)
        if at < 0:
            return 0
        quotes -= data.count(b'"', at + 1, end)
        if quotes % 2 == 0:
            return at + 1
        end = at
    return 0


def block_format(first: bytes, info: CsvInfo) -> BlockFormat | None:
    """The format for parsing the file's blocks (``first`` is its first block), or None when
    the file must be read in one stream (``read_rows``): a UTF-16 file, whose line breaks are
    two bytes, or a header that does not end inside the first block.

    Raises CsvError like ``read_rows`` when the block has no header row.
    """
    if codecs.lookup(info.encoding).name not in _BLOCK_CODECS:
        return None
    lines = _block_lines(first.decode(info.encoding, _FALLBACK_ERRORS))
    header = _read_header(_reader(lines, info.delimiter), info.delimiter, info.title_lines)
    if any(_BLOCK_END in cell for cell in header):
        return None
    return BlockFormat(info.encoding, info.delimiter, len(header), info.title_lines)


def parse_block(data: bytes, fmt: BlockFormat, *, first: bool, last: bool = False) -> list[Row] | None:
    """The rows of one block, numbered from 1 within it, exactly as ``read_rows`` reads those
    records; None when the block ends inside a quoted value (it must be joined to the next).

    ``first``: the block starts the file (its header, title and ``sep=`` lines are skipped).
    ``last``: the block ends the file, so a value still open at its end ends there, as the
    csv module ends it at the end of a file.
    """
    encoding = fmt.encoding if first or fmt.encoding != "utf-8-sig" else "utf-8"  # a BOM only opens a file
    text = data.decode(encoding, _FALLBACK_ERRORS)
    reader = _reader(_block_lines(text, marker=not last), fmt.delimiter)
    if first:
        _read_header(reader, fmt.delimiter, fmt.title_lines)
    end: list[bool] = []
    rows = list(_numbered(reader, fmt.width, _NulFlag("\x00" in text), end))
    return rows if end or last else None


def joined_blocks(
    results: Iterable[tuple[bytes, bool, T]], again: Callable[[bytes, bool, bool], T], unfinished: T
) -> Iterator[T]:
    """The results of a file's blocks, in order, for blocks that start and end at a record.

    ``results`` gives ``(block, is it the first, its result)``. A result equal to
    ``unfinished`` (the block ends inside a quoted value) is dropped, and so is the next
    block's: the two blocks are joined and done ``again(data, first, last)``, until a join ends
    at a record; at the end of the file, with ``last`` True.
    """
    held: bytes | None = None
    held_first = False
    for data, first, result in results:
        if held is not None:
            data, first = held + data, held_first
            result = again(data, first, False)
        held = None
        if result == unfinished:
            held, held_first = data, first
            continue
        yield result
    if held is not None:
        yield again(held, held_first, True)


def _block_lines(text: str, marker: bool = True) -> Iterator[str]:
    """A block's lines, in pieces of at most MAX_LINE_CHARS (as ``read_rows`` reads them), then
    the end marker: a record of its own unless the block ends inside a quoted value."""
    lines = iter(partial(io.StringIO(text, newline="").readline, MAX_LINE_CHARS), "")
    return chain(lines, [_BLOCK_END + "\n"]) if marker else lines


def read_rows_from_text(text: str, delimiter: str = ",") -> Iterator[Row]:
    """`read_rows` over an in-memory string (tests, pasted data)."""
    return _data_rows(io.StringIO(text, newline=""), delimiter, _NulFlag("\x00" in text))


def preview(path: str | os.PathLike[str], limit: int = 10) -> tuple[CsvInfo, list[list[str]]]:
    """The sniffed info and the well-formed rows among the first `limit` data rows."""
    info = sniff(path)
    with closing(read_rows(path, info)) as rows:
        return info, [cells for _, cells, _ in islice(rows, limit) if cells is not None]
