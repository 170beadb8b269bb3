"""Tests for leadbase.lib.csvfile: sniffing and streaming messy CSV files (no Django needed)."""

from __future__ import annotations

import csv
import inspect
import pickle
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from leadbase.lib import csvfile
from leadbase.lib.csvfile import (
    SAMPLE_BYTES,
    CsvError,
    CsvInfo,
    preview,
    read_rows,
    read_rows_from_text,
    sniff,
)


def write(tmp_path: Path, data: bytes, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows_of(path: Path) -> list[tuple[int, list[str] | None, str]]:
    return list(read_rows(path))


def error_of(path: Path) -> CsvError:
    with pytest.raises(CsvError) as caught:
        sniff(path)
    return caught.value


# --- encodings -------------------------------------------------------------------------------


def test_utf8_bom_is_detected_and_removed_from_the_first_header_cell(tmp_path: Path) -> None:
    path = write(tmp_path, "\ufeffName,Email\nJosé,jose@example.com\n".encode())
    info = sniff(path)
    assert info == CsvInfo("utf-8-sig", ",", ["Name", "Email"])
    assert rows_of(path) == [(1, ["José", "jose@example.com"], "")]


def test_excel_unicode_text_utf16_le_with_bom_is_tab_delimited(tmp_path: Path) -> None:
    text = "Name\tEmail\tCity\r\nZoë\tzoe@example.com\tKöln\r\n"
    path = write(tmp_path, text.encode("utf-16"), "leads.txt")
    assert text.encode("utf-16").startswith(b"\xff\xfe")  # the machine is little-endian
    info = sniff(path)
    assert (info.encoding, info.delimiter, info.header) == (
        "utf-16",
        "\t",
        ["Name", "Email", "City"],
    )
    assert rows_of(path) == [(1, ["Zoë", "zoe@example.com", "Köln"], "")]


def test_utf16_be_with_bom_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xfe\xff" + "Name,Email\nÅsa,asa@example.com\n".encode("utf-16-be"))
    assert sniff(path).encoding == "utf-16"
    assert rows_of(path) == [(1, ["Åsa", "asa@example.com"], "")]


def test_utf16_le_without_bom_is_recognised_by_its_nul_pattern(tmp_path: Path) -> None:
    path = write(tmp_path, "Name;Email\nJosé;j@example.com\n".encode("utf-16-le"))
    assert sniff(path).encoding == "utf-16-le"
    assert rows_of(path) == [(1, ["José", "j@example.com"], "")]


def test_cp1252_file_with_e_acute_and_euro_sign_is_read_as_cp1252(tmp_path: Path) -> None:
    path = write(tmp_path, "Name;Email;Budget\r\nRené;rene@example.com;500 €\r\n".encode("cp1252"))
    assert sniff(path).encoding == "cp1252"
    assert rows_of(path) == [(1, ["René", "rene@example.com", "500 €"], "")]


def test_bytes_undefined_in_cp1252_are_read_as_latin1(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,Email\nAb\x81c \xe9,a@example.com\n")
    assert sniff(path).encoding == "cp1252"
    assert rows_of(path) == [(1, ["Ab\x81c é", "a@example.com"], "")]


def test_utf8_with_a_few_stray_cp1252_bytes_stays_utf8(tmp_path: Path) -> None:
    data = (
        b"Name,Email\n" + "Jürgen Groß,j@example.com\n".encode() * 20 + b"Ren\xe9,r@example.com\n"
    )
    path = write(tmp_path, data)
    assert sniff(path).encoding == "utf-8"
    assert rows_of(path)[-1] == (21, ["René", "r@example.com"], "")


def test_cp1252_byte_after_the_sample_of_a_utf8_file_does_not_stop_the_import(
    tmp_path: Path,
) -> None:
    filler = "Zoë,zoe@example.com\n".encode() * (SAMPLE_BYTES // 20 + 10)
    path = write(tmp_path, b"Name,Email\n" + filler + b"Ren\xe9,rene@example.com\n")
    assert sniff(path).encoding == "utf-8"
    assert rows_of(path)[-1][1:] == (["René", "rene@example.com"], "")


def test_multibyte_character_cut_by_the_sample_end_is_still_utf8(tmp_path: Path) -> None:
    head = b"Name,Email\n"
    pad = b"a" * (SAMPLE_BYTES - len(head) - 1)  # "é" (2 bytes) straddles the sample end
    path = write(tmp_path, head + pad + "é,x@example.com\n".encode() + b"b,y@example.com\n")
    assert sniff(path).encoding == "utf-8"
    assert [r[1] for r in rows_of(path)] == [
        ["a" * len(pad) + "é", "x@example.com"],
        ["b", "y@example.com"],
    ]


def test_invalid_utf16_tail_raises_bad_encoding_after_the_rows_before_it(tmp_path: Path) -> None:
    body = "Name\tEmail\n" + "Zoë\tzoe@example.com\n" * 5000
    path = write(tmp_path, body.encode("utf-16") + b"\x00\xd8")  # a lone high surrogate at EOF
    rows = read_rows(path)
    assert next(rows) == (1, ["Zoë", "zoe@example.com"], "")  # streamed before the bad bytes
    with pytest.raises(CsvError) as caught:
        list(rows)
    assert caught.value.code == "bad_encoding"


def test_unknown_encoding_in_a_given_info_is_bad_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,Email\na,b\n")
    with pytest.raises(CsvError) as caught:
        list(read_rows(path, CsvInfo("no-such-codec", ",", [])))
    assert caught.value.code == "bad_encoding"


# --- delimiters ------------------------------------------------------------------------------


def test_semicolon_csv_from_european_excel_with_decimal_commas(tmp_path: Path) -> None:
    path = write(
        tmp_path, b"Name;Email;Budget\nAnna;anna@example.de;1,5\nBen;ben@example.de;2,75\n"
    )
    assert sniff(path).delimiter == ";"
    assert rows_of(path)[1] == (2, ["Ben", "ben@example.de", "2,75"], "")


def test_tab_delimited_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name\tEmail\tCompany\nAnna\tanna@example.com\tAcme, Inc.\n")
    assert sniff(path).delimiter == "\t"
    assert rows_of(path) == [(1, ["Anna", "anna@example.com", "Acme, Inc."], "")]


def test_pipe_delimited_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name|Email\nAnna|anna@example.com\n")
    assert sniff(path).delimiter == "|"


def test_delimiters_inside_quotes_do_not_count(tmp_path: Path) -> None:
    rows = b'"Doe; Jane",jane@example.com,"a;b;c;d"\n' * 5
    path = write(tmp_path, b"Name,Email,Notes\n" + rows)
    assert sniff(path).delimiter == ","
    assert rows_of(path)[0] == (1, ["Doe; Jane", "jane@example.com", "a;b;c;d"], "")


def test_header_decides_when_two_delimiters_split_every_line_consistently(tmp_path: Path) -> None:
    # "," splits every line in 2 and ";" in 3: the header's own count breaks the tie.
    data = (
        b"Name;Street, No;Email\nAnna;Main St, 5;anna@example.com\nBen;Elm St, 7;ben@example.com\n"
    )
    assert sniff(write(tmp_path, data)).delimiter == ";"


def test_data_rows_that_disagree_with_the_header_rule_out_a_delimiter(tmp_path: Path) -> None:
    data = b"Name,Notes;Email\nAnna,anna@example.com\nBen,ben@example.com\n"
    assert sniff(write(tmp_path, data)).delimiter == ","


def test_excel_sep_line_sets_the_delimiter_and_is_not_the_header(tmp_path: Path) -> None:
    path = write(tmp_path, b"sep=;\r\nName;Email\r\nAnna,Marie;anna@example.com\r\n")
    info = sniff(path)
    assert (info.delimiter, info.header) == (";", ["Name", "Email"])
    assert rows_of(path) == [(1, ["Anna,Marie", "anna@example.com"], "")]


def test_title_lines_above_the_header_are_skipped(tmp_path: Path) -> None:
    # Badge scanners and CRM reports put a title (and a blank line) above the header row.
    data = (
        b"Badge scan export - Trade Fair 2026\n"
        b"Exported 2026-03-01;;;\n"
        b"\n"
        b"Name;Email;Company\n"
        b"Anna;anna@example.com;Acme, Inc.\n"
        b"Ben;ben@example.com;Initech\n"
    )
    path = write(tmp_path, data)
    info = sniff(path)
    assert (info.delimiter, info.header) == (";", ["Name", "Email", "Company"])
    assert rows_of(path) == [
        (1, ["Anna", "anna@example.com", "Acme, Inc."], ""),
        (2, ["Ben", "ben@example.com", "Initech"], ""),
    ]
    assert preview(path)[1][0] == ["Anna", "anna@example.com", "Acme, Inc."]


def test_a_one_column_file_has_no_title_lines(tmp_path: Path) -> None:
    path = write(tmp_path, b"Email\nanna@example.com\nben@example.com\n")
    assert sniff(path).header == ["Email"]
    assert [cells for _, cells, _ in rows_of(path)] == [["anna@example.com"], ["ben@example.com"]]


def test_a_space_after_the_delimiter_before_a_quoted_field_is_tolerated(tmp_path: Path) -> None:
    path = write(tmp_path, b'Name, Company, Email\nAnna, "Acme, Inc.", anna@example.com\n')
    assert rows_of(path) == [(1, ["Anna", "Acme, Inc.", "anna@example.com"], "")]


def test_large_file_is_sniffed_from_its_first_bytes(tmp_path: Path) -> None:
    data = b"Name;Email\n" + b"Anna;anna@example.com\n" * (SAMPLE_BYTES // 10)
    path = write(tmp_path, data)
    assert sniff(path) == CsvInfo("utf-8", ";", ["Name", "Email"])
    assert sum(1 for _ in read_rows(path)) == SAMPLE_BYTES // 10


# --- line structure and row numbers ----------------------------------------------------------


def test_quoted_multi_line_field_is_one_cell(tmp_path: Path) -> None:
    data = (
        b'Name,Notes,Email\nAnna,"met at the fair\nwants a demo, soon",anna@example.com\n'
        b"Ben,,ben@example.com\n"
    )
    assert rows_of(write(tmp_path, data)) == [
        (1, ["Anna", "met at the fair\nwants a demo, soon", "anna@example.com"], ""),
        (2, ["Ben", "", "ben@example.com"], ""),
    ]


def test_crlf_line_endings(tmp_path: Path) -> None:
    data = b'Name,Notes\r\nAnna,"two\r\nlines"\r\nBen,x\r\n'
    assert rows_of(write(tmp_path, data)) == [
        (1, ["Anna", "two\r\nlines"], ""),
        (2, ["Ben", "x"], ""),
    ]


def test_old_mac_cr_line_endings(tmp_path: Path) -> None:
    assert rows_of(write(tmp_path, b"Name,Email\rAnna,a@example.com\rBen,b@example.com\r"))[1] == (
        2,
        ["Ben", "b@example.com"],
        "",
    )


def test_blank_lines_in_the_middle_are_excluded_from_numbering(tmp_path: Path) -> None:
    data = b"\n\nName,Email\n\nAnna,a@example.com\n\n  \n,,\n , \nBen,b@example.com\n\n"
    assert rows_of(write(tmp_path, data)) == [
        (1, ["Anna", "a@example.com"], ""),
        (2, ["Ben", "b@example.com"], ""),
    ]


# The reason of a malformed_row, as a marketer reads it in the import report.
MISMATCH = (
    "This row has {} {} but the header has {}: a separator or a quote is probably missing or extra."
)


def test_row_with_too_many_fields_is_malformed_with_its_row_number(tmp_path: Path) -> None:
    data = b"Name,Email\nAnna,a@example.com\n\nBen,b@example.com,extra\nCleo,c@example.com\n"
    assert rows_of(write(tmp_path, data))[1:] == [
        (2, None, MISMATCH.format(3, "columns", 2)),
        (3, ["Cleo", "c@example.com"], ""),
    ]


def test_row_with_too_few_fields_is_malformed_with_its_row_number(tmp_path: Path) -> None:
    data = b"Name,Email,Phone\nAnna,a@example.com,1\nBen\n\nCleo,c@example.com,3\n"
    assert rows_of(write(tmp_path, data))[1:] == [
        (2, None, MISMATCH.format(1, "column", 3)),
        (3, ["Cleo", "c@example.com", "3"], ""),
    ]


def test_trailing_empty_cells_beyond_the_header_are_tolerated(tmp_path: Path) -> None:
    data = b"Name,Email,Phone\nAnna,a@example.com,1,,\nBen,b@example.com,2, , x\n"
    assert rows_of(write(tmp_path, data)) == [
        (1, ["Anna", "a@example.com", "1"], ""),
        (2, None, MISMATCH.format(5, "columns", 3)),
    ]


def test_trailing_empty_header_cells_are_dropped(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,Email,,\nAnna,a@example.com,,\nBen,b@example.com\n")
    assert sniff(path).header == ["Name", "Email"]
    assert [r[1] for r in rows_of(path)] == [["Anna", "a@example.com"], ["Ben", "b@example.com"]]


def test_header_and_cells_are_stripped(tmp_path: Path) -> None:
    path = write(tmp_path, "  Name , Email\t\n  Anna\u00a0, a@example.com \n".encode())
    assert sniff(path).header == ["Name", "Email"]
    assert rows_of(path) == [(1, ["Anna", "a@example.com"], "")]


def test_one_column_file(tmp_path: Path) -> None:
    path = write(tmp_path, b"Email\nanna@example.com\nben@example.com\n")
    assert sniff(path) == CsvInfo("utf-8", ",", ["Email"])
    assert [r[1] for r in rows_of(path)] == [["anna@example.com"], ["ben@example.com"]]


def test_header_with_duplicate_names_is_returned_as_written(tmp_path: Path) -> None:
    path = write(tmp_path, b"Phone,Name,Phone\n1,Anna,2\n")
    assert sniff(path).header == ["Phone", "Name", "Phone"]
    assert rows_of(path) == [(1, ["1", "Anna", "2"], "")]


def test_field_larger_than_the_csv_limit_makes_only_that_row_malformed(tmp_path: Path) -> None:
    huge = b"x" * (csv.field_size_limit() + 1)
    data = b"Name,Notes\nAnna,short\nBen," + huge + b"\nCleo,ok\n"
    rows = rows_of(write(tmp_path, data))
    assert rows[0] == (1, ["Anna", "short"], "")
    assert rows[1][:2] == (2, None)
    assert rows[1][2] == (
        f"This row has a value longer than {csv.field_size_limit():,} characters, "
        "usually because a quote is opened and never closed."
    )
    assert rows[2] == (3, ["Cleo", "ok"], "")


def test_nul_byte_after_the_sample_makes_that_row_malformed(tmp_path: Path) -> None:
    filler = b"Anna,a@example.com\n" * (SAMPLE_BYTES // 19 + 100)
    path = write(
        tmp_path, b"Name,Email\n" + filler + b"Ben\x00,b@example.com\nCleo,c@example.com\n"
    )
    *_, bad, last = rows_of(path)
    assert bad[1:] == (None, "This row contains a NUL character (binary data), not text.")
    assert last == (bad[0] + 1, ["Cleo", "c@example.com"], "")


def test_line_longer_than_max_line_chars_is_read_in_bounded_pieces(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(csvfile, "MAX_LINE_CHARS", 1000)
    path = write(tmp_path, b"Name,Email\n" + b"x" * 5000 + b"\nAnna,a@example.com\n")
    rows = rows_of(path)
    assert all(cells is None for _, cells, _ in rows[:-1])  # pieces, each malformed
    assert rows[-1][1:] == (["Anna", "a@example.com"], "")


def test_read_rows_from_text_numbers_rows_like_read_rows() -> None:
    rows = list(read_rows_from_text("Name;Email\n\nAnna;a@example.com\nBen\n", ";"))
    assert rows == [
        (1, ["Anna", "a@example.com"], ""),
        (2, None, MISMATCH.format(1, "column", 2)),
    ]


# --- files that are not CSV or have nothing to import ----------------------------------------


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"PK\x03\x04\x14\x00\x06\x00[Content_Types].xml", "Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00", "old-style Excel"),
        (b"%PDF-1.7\n", "PDF"),
        (b"GIF89a\x01\x00", "GIF"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
    ],
)
def test_binary_file_renamed_csv_is_not_csv(tmp_path: Path, data: bytes, what: str) -> None:
    error = error_of(write(tmp_path, data))
    assert error.code == "not_csv"
    assert what in error.message and "CSV UTF-8" in error.message


def test_unknown_binary_with_nul_bytes_is_not_csv(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, bytes(range(256)) * 4)).code == "not_csv"


def test_empty_file_is_empty(tmp_path: Path) -> None:
    error = error_of(write(tmp_path, b""))
    assert (error.code, error.message) == ("empty", "The file is empty.")


def test_file_of_blank_lines_is_empty(tmp_path: Path) -> None:
    assert error_of(write(tmp_path, b"\r\n  \n,,;\n\t\n")).code == "empty"


def test_header_only_file_is_empty_with_no_data_rows(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,Email\n\n,,\n")
    assert (error_of(path).code, error_of(path).message) == (
        "empty",
        "The file has a header row but no data rows.",
    )
    with pytest.raises(CsvError, match="no data rows"):
        list(read_rows(path, CsvInfo("utf-8", ",", ["Name", "Email"])))


def test_header_followed_by_more_blank_lines_than_the_sample_is_empty_when_read(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, b"Name,Email\n" + b",\n" * SAMPLE_BYTES)
    assert sniff(path).header == ["Name", "Email"]  # the sample cannot see the end
    with pytest.raises(CsvError, match="no data rows"):
        list(read_rows(path))


def test_csv_error_keeps_its_code_and_message_through_pickle() -> None:
    error = pickle.loads(pickle.dumps(CsvError("empty", "The file is empty.")))
    assert (error.code, error.message, str(error)) == (
        "empty",
        "The file is empty.",
        "The file is empty.",
    )
    assert isinstance(error, ValueError)


# --- streaming and preview -------------------------------------------------------------------


def test_read_rows_is_a_generator_reading_the_open_file_as_it_goes(tmp_path: Path) -> None:
    path = write(tmp_path, b"Name,Email\nAnna,a@example.com\n")
    rows = read_rows(path)
    assert inspect.isgenerator(rows)
    assert next(rows) == (1, ["Anna", "a@example.com"], "")
    with path.open("ab") as file:  # appended after reading began: seen only when streaming
        file.write(b"Ben,b@example.com\n")
    assert list(rows) == [(2, ["Ben", "b@example.com"], "")]


def test_preview_returns_the_info_and_well_formed_rows_among_the_first(tmp_path: Path) -> None:
    data = b"Name,Email\n" + b"".join(b"P%d,p%d@example.com\n" % (i, i) for i in range(20))
    path = write(tmp_path, data.replace(b"P2,p2@example.com", b"P2"))
    info, rows = preview(path, limit=5)
    assert info.header == ["Name", "Email"]
    assert [r[0] for r in rows] == ["P0", "P1", "P3", "P4"]


# --- properties ------------------------------------------------------------------------------

_CP1252_CHARS = "".join(ch for b in range(1, 256) if (ch := bytes([b]).decode("cp1252", "ignore")))
_ANY_CHAR = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
_CHARS_OF = {
    "utf-8": _ANY_CHAR,
    "utf-8-sig": _ANY_CHAR,
    "utf-16": _ANY_CHAR,
    "cp1252": st.sampled_from(_CP1252_CHARS),
}
# cp1252 letters from 0xC0 up never form a UTF-8 sequence together. cp1252 text that does is
# valid UTF-8 too, and any detector reads it as UTF-8, so sniffing is tested without it.
_UNAMBIGUOUS_CP1252 = st.sampled_from(_CP1252_CHARS[:126] + "ÀÉàéüöäßçñ")


def _header_char(char: str) -> bool:
    """Real header names hold no delimiter candidate, quote, control character or BOM."""
    return char not in ',;|"\ufeff' and unicodedata.category(char) != "Cc"


@st.composite
def tables(
    draw: st.DrawFn, chars: st.SearchStrategy[str], min_width: int = 1
) -> tuple[list[str], list[list[str]]]:
    width = draw(st.integers(min_width, 5))
    name = st.text(chars.filter(_header_char), min_size=1, max_size=12).filter(str.strip)
    header = draw(st.lists(name, min_size=width, max_size=width))
    cell = st.text(chars, max_size=15)
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width), max_size=8))
    return header, rows


def write_table(
    path: Path, encoding: str, delimiter: str, header: list[str], rows: list[list[str]]
) -> None:
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)


def expected_rows(rows: list[list[str]]) -> list[tuple[int, list[str] | None, str]]:
    """Stripped rows numbered from 1, all-blank rows left out."""
    stripped = [[cell.strip() for cell in row] for row in rows]
    return [(n, row, "") for n, row in enumerate((r for r in stripped if any(r)), start=1)]


_PROPERTY = settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_PROPERTY
@given(st.data(), st.sampled_from(sorted(_CHARS_OF)), st.sampled_from(",;\t|"))
def test_read_rows_returns_exactly_the_table_csv_writer_wrote(
    tmp_path: Path, data: st.DataObject, encoding: str, delimiter: str
) -> None:
    header, rows = data.draw(tables(_CHARS_OF[encoding]))
    assume(not re.fullmatch("sep=.", delimiter.join(header), re.I))  # Excel's delimiter line
    path = tmp_path / "table.csv"
    write_table(path, encoding, delimiter, header, rows)
    reading = read_rows(path, CsvInfo(encoding, delimiter, header))
    if expected_rows(rows):
        assert list(reading) == expected_rows(rows)
    else:
        with pytest.raises(CsvError, match="no data rows"):
            list(reading)


@_PROPERTY
@given(st.data(), st.sampled_from(sorted(_CHARS_OF)), st.sampled_from(",;\t|"))
def test_sniff_finds_encoding_delimiter_and_header_of_any_table(
    tmp_path: Path, data: st.DataObject, encoding: str, delimiter: str
) -> None:
    chars = _UNAMBIGUOUS_CP1252 if encoding == "cp1252" else _CHARS_OF[encoding]
    header, rows = data.draw(tables(chars, min_width=2))  # one column: any delimiter fits
    assume(expected_rows(rows))
    path = tmp_path / "table.csv"
    write_table(path, encoding, delimiter, header, rows)
    content = path.read_bytes()
    assume(not content.startswith((b"%PDF", b"GIF8")))  # a header that spells a magic number
    info = sniff(path)
    ascii_cp1252 = encoding == "cp1252" and content.isascii()
    assert info.encoding == ("utf-8" if ascii_cp1252 else encoding)
    assert (info.delimiter, info.header) == (delimiter, [cell.strip() for cell in header])
    assert list(read_rows(path)) == expected_rows(rows)


def test_blocks_are_cut_between_records_rather_than_inside_quoted_values(tmp_path: Path) -> None:
    data = ("Name,Notes\n" + "".join(f'P{i},"line one\nline two\nline three"\n' for i in range(200))).encode()
    path = write(tmp_path, data)
    blocks = list(csvfile.read_blocks(path, 50))
    assert b"".join(blocks) == data and len(blocks) > 50
    fmt = csvfile.block_format(blocks[0], sniff(path))
    assert fmt is not None and fmt.width == 2
    parsed = [csvfile.parse_block(block, fmt, first=index == 0) for index, block in enumerate(blocks)]
    assert None not in parsed  # no block has to be parsed again with the next
    assert sum(len(rows) for rows in parsed) == 200


def test_a_block_cut_inside_a_quoted_value_is_reported_unfinished(tmp_path: Path) -> None:
    fmt = csvfile.BlockFormat("utf-8", ",", 2)
    assert csvfile.parse_block(b'Ann,"first line\n', fmt, first=False) is None
    assert csvfile.parse_block(b'Ann,"first line\nsecond"\n', fmt, first=False) == [
        (1, ["Ann", "first line\nsecond"], "")
    ]
    # At the end of the file, an open value ends there, as in one stream.
    assert csvfile.parse_block(b'Ann,"first line\n', fmt, first=False, last=True) == [(1, ["Ann", "first line"], "")]


def test_a_utf16_file_is_not_cut_into_blocks(tmp_path: Path) -> None:
    path = write(tmp_path, "Name,Email\nAnn,ann@example.org\n".encode("utf-16"))
    assert csvfile.block_format(next(csvfile.read_blocks(path)), sniff(path)) is None


def test_a_line_that_looks_like_a_block_end_marker_is_data(tmp_path: Path) -> None:
    fmt = csvfile.BlockFormat("utf-8", ",", 1)
    forged = "\ue000leadbase end of block 0123456789abcdef0123456789abcdef\ue000"
    rows = csvfile.parse_block(f"Ann\n{forged}\nBo\n".encode(), fmt, first=False)
    assert rows == [(1, ["Ann"], ""), (2, [forged], ""), (3, ["Bo"], "")]
