"""Writing CSV and XLSX exports safely: the one place every export's cells go through.

Formula injection (CSV injection, OWASP): a spreadsheet treats a cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return as a formula, so a customer name such as
``=HYPERLINK("http://x","y")`` typed at intake would run in the office's Excel. OWASP's rule is applied
to every *text* cell: such a value is prefixed with a single quote ``'``, which spreadsheets show as text.
Real numbers (``int``/``Decimal``/``float`` amounts and counts), dates and times are written as what they
are, so a negative amount stays a number a spreadsheet can sum.

In XLSX a text cell is always written with ``data_type = "s"`` (openpyxl otherwise turns any string that
starts with ``=`` into a formula), and characters XML cannot hold (control characters) are dropped rather
than failing the whole export.

Use :func:`safe_cell` for one value, :func:`safe_row` for a row, :func:`csv_stream` for a streamed CSV,
:class:`XlsxWriter` (``append`` then ``to_bytes``) for a workbook.
"""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_TYPES = (bool, int, float, Decimal, datetime.date, datetime.time, datetime.timedelta)


def safe_cell(value):
    """The value as an export cell: numbers and dates unchanged, text neutralised (``'`` before a formula)."""
    if value is None:
        return ""
    if isinstance(value, _PLAIN_TYPES):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def safe_row(values) -> list:
    return [safe_cell(v) for v in values]


class _Echo:
    def write(self, value):
        return value


class CsvRowWriter:
    """A ``csv.writer`` whose rows are neutralised; ``writerow`` returns the line (for streaming) when
    ``stream`` is ``None``, or writes it to ``stream`` (a response or a buffer)."""

    def __init__(self, stream=None):
        self._writer = csv.writer(stream if stream is not None else _Echo())

    def writerow(self, values):
        return self._writer.writerow(safe_row(values))

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def csv_stream(header, rows, *, bom: bool = True):
    """Yield a CSV file line by line: an optional BOM (Excel opens UTF-8 with one), the header, the rows."""
    writer = CsvRowWriter()
    if bom:
        yield "\ufeff"
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow(row)


class XlsxWriter:
    """A write-only workbook of one sheet whose text cells are always text (never formulas)."""

    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def __init__(self, title: str):
        import openpyxl

        self._book = openpyxl.Workbook(write_only=True)
        self._sheet = self._book.create_sheet(title=str(title)[:31])

    def append(self, values) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        cells = []
        for value in values:
            if value is not None and not isinstance(value, _PLAIN_TYPES):
                value = ILLEGAL_CHARACTERS_RE.sub("", str(value))  # before the check: what is left is written
            value = safe_cell(value)
            if isinstance(value, str):
                cell = WriteOnlyCell(self._sheet, value=value)
                cell.data_type = "s"
            else:
                cell = WriteOnlyCell(self._sheet, value=value)
            cells.append(cell)
        self._sheet.append(cells)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        self._book.save(buffer)
        return buffer.getvalue()


def csv_response(filename: str, header, rows):
    """A streamed CSV download (BOM, neutralised cells) named ``<filename>-<timestamp>.csv``."""
    from django.http import StreamingHttpResponse
    from django.utils import timezone

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(csv_stream([str(h) for h in header], rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response
