"""CSV files open safely in a spreadsheet whatever separator it splits on: no cell ever starts a formula."""

import csv
import io
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from app.services.spreadsheet import neutralise, to_csv

FORMULA = tuple("=+-@")
DELIMITERS = (",", ";", "\t")
NASTY = [
    '=HYPERLINK("http://evil.example","Click")',
    "+1",
    "-2",
    "@SUM(A1:A9)",
    "Ann;=HYPERLINK(\"http://evil.example\")",
    "Ann,=1+1",
    "Ann\t=1+1",
    "Ann; =1+1",
    'Ann;"=1+1"',
    "Ann\n=1+1",
    "Ann\r\n@SUM(1)",
    ' "=1',
    "\t=1",
]


def _starts_formula(cell: str) -> bool:
    """Whether a spreadsheet could read the cell as a formula: its first character that counts is one."""
    # A quote a reader keeps shows the cell as text; spaces and quotes it may drop do not.
    stripped = cell.lstrip(" \t\r\n\"\x0b\x0c\u00a0")
    return stripped[:1] in FORMULA


def _cells(data: bytes) -> list[str]:
    """Every cell a spreadsheet or a naive program may find in the file, whatever it splits on."""
    text = data.decode("utf-8-sig")
    cells = []
    for delimiter in DELIMITERS:
        for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            cells.extend(row)
    # Naive splitting: lines first (any line break), then any separator.
    for line in re.split(r"\r\n|\r|\n", text):
        cells.extend(re.split(r"[,;\t]", line))
    return cells


def assert_safe(data: bytes) -> None:
    """No cell of the file, however it is split, starts with a formula character."""
    dangerous = [cell for cell in _cells(data) if _starts_formula(cell)]
    assert not dangerous, dangerous


def test_the_known_attacks_are_defused_under_every_separator():
    data = to_csv([["Name", "Score"], *([name, 3] for name in NASTY)])
    assert_safe(data)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [row[0] for row in rows[1:]] == [neutralise(name) for name in NASTY]
    # What the reader sees is the person's text with a quote in front of each formula start.
    assert rows[5][0] == "Ann;'=HYPERLINK(\"http://evil.example\")"
    assert rows[1][0] == "'" + NASTY[0]


def test_a_semicolon_spreadsheet_no_longer_finds_a_formula_cell():
    """The bug: a cell split at its semicolon gave the spreadsheet a second cell starting with '='."""
    data = to_csv([["Ann;=SUM(A1:A9)", "Ward 7"]])
    for row in csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"):
        assert not any(_starts_formula(cell) for cell in row), row


def test_every_cell_is_quoted_and_the_file_is_excel_friendly():
    data = to_csv([["a", 1, 2.5, None, ""], ["b", 0.3333333, 10.0, "x", "y"]])
    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig") == '"a","1","2.5","",""\r\n"b","0.3333","10","x","y"\r\n'


@pytest.mark.parametrize(
    ("value", "shown"),
    [("\tx", "'\tx"), ("\rx", "'\rx"), ("a=b", "a=b"), ("", ""), (3, 3), (2.5, "2.5"), ("Ann, Bob", "Ann, Bob")],
)
def test_plain_values_are_kept_as_they_were(value, shown):
    assert neutralise(value) == shown


@settings(max_examples=400, deadline=None, database=None)
@given(st.lists(st.lists(st.text(max_size=40), min_size=1, max_size=4), min_size=1, max_size=4))
@example([["=1", "a;=1", "a,\"=1", "a\t -1", "a\u2028=1", "a\x1c@x"]])
@example([['"=cmd|"/C calc"!A0', "x;\n+1"]])
def test_no_text_ever_becomes_a_formula_cell(rows):
    data = to_csv(rows)
    assert_safe(data)
    # The comma reader gets back exactly the neutralised cells, and each keeps the person's text.
    read = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert read == [[neutralise(cell) for cell in row] for row in rows]
    for row, original in zip(read, rows, strict=True):
        for cell, text in zip(row, original, strict=True):
            assert cell.replace("'", "") == text.replace("'", "")  # only quotes were added


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from(list("=+-@,;\t\r\n \"'ab")), max_size=30))
def test_cells_made_only_of_separators_and_formula_starts_stay_safe(text):
    assert_safe(to_csv([[text, text]]))
