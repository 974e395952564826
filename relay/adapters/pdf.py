"""A small PDF writer for documents such as evidence packs: headings, paragraphs, label/value
rows and tables, in any script DejaVu Sans covers (Cyrillic, Latin, Kazakh letters).

fpdf2 with a TrueType font: the core PDF fonts know no Cyrillic. The font comes from Debian's
`fonts-dejavu-core` (/usr/share/fonts/truetype/dejavu, installed by
.ci/install-system-packages.sh) or RELAY_PDF_FONT_DIR. Characters the font lacks (emoji) are
left out of the PDF; the JSON beside it keeps them.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FONT_DIRS = (
    os.environ.get("RELAY_PDF_FONT_DIR", ""),
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts/dejavu",
)
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"


class FontMissing(RuntimeError):
    """No TrueType font with Cyrillic was found."""


def font_dir() -> Path:
    """Where DejaVu Sans is."""
    for folder in FONT_DIRS:
        if folder and (Path(folder) / REGULAR).is_file():
            return Path(folder)
    raise FontMissing(
        "DejaVu Sans not found: install Debian's fonts-dejavu-core or set RELAY_PDF_FONT_DIR"
    )


def _clean(text: Any) -> str:
    """Printable text: control characters (NUL …) become spaces."""
    value = "" if text is None else str(text)
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n" else ch for ch in value
    )


class PdfDocument:
    """A portrait A4 document written top to bottom."""

    def __init__(self, title: str, footer: str = "") -> None:
        from fpdf import FPDF

        logging.getLogger("fontTools").setLevel(logging.ERROR)
        logging.getLogger("fpdf").setLevel(logging.ERROR)
        folder = font_dir()
        footer_text = _clean(footer)

        class _Pdf(FPDF):
            def footer(self) -> None:
                self.set_y(-12)
                self.set_font("DejaVu", size=7)
                self.cell(0, 5, f"{footer_text}  {self.page_no()}/{{nb}}", align="C")

        pdf = _Pdf(format="A4")
        pdf.set_title(_clean(title))
        pdf.add_font("DejaVu", "", str(folder / REGULAR))
        bold = folder / BOLD
        pdf.add_font("DejaVu", "B", str(bold if bold.is_file() else folder / REGULAR))
        pdf.set_auto_page_break(True, margin=15)
        pdf.alias_nb_pages()
        pdf.add_page()
        self.pdf = pdf
        self.heading(title, size=15)

    def heading(self, text: str, size: int = 12) -> None:
        """A bold heading."""
        self.pdf.ln(2)
        self.pdf.set_font("DejaVu", "B", size)
        self.pdf.multi_cell(0, size * 0.5, _clean(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def para(self, text: str, size: int = 9) -> None:
        """A paragraph, wrapped."""
        self.pdf.set_font("DejaVu", "", size)
        self.pdf.multi_cell(0, 4.5, _clean(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def rows(self, pairs: Iterable[tuple[str, Any]], size: int = 8) -> None:
        """Label: value lines (values wrap; None is shown as a dash)."""
        width = self.pdf.epw
        for label, value in pairs:
            self.pdf.set_font("DejaVu", "B", size)
            self.pdf.cell(width * 0.28, 4.2, _clean(label))
            self.pdf.set_font("DejaVu", "", size)
            shown = "—" if value in (None, "") else _clean(value)
            self.pdf.multi_cell(width * 0.72, 4.2, shown, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)

    def table(self, header: Sequence[str], body: Iterable[Sequence[Any]], size: int = 7) -> None:
        """A simple table with wrapped cells."""
        from fpdf.fonts import FontFace

        self.pdf.set_font("DejaVu", "", size)
        with self.pdf.table(
            headings_style=FontFace(emphasis="BOLD"),
            line_height=3.6,
            text_align="LEFT",
            first_row_as_headings=True,
        ) as table:
            row = table.row()
            for cell in header:
                row.cell(_clean(cell))
            for values in body:
                row = table.row()
                for cell in values:
                    row.cell("—" if cell in (None, "") else _clean(cell))
        self.pdf.ln(2)

    def rule(self) -> None:
        """A thin line across the page."""
        y = self.pdf.get_y() + 1
        self.pdf.line(self.pdf.l_margin, y, self.pdf.w - self.pdf.r_margin, y)
        self.pdf.ln(3)

    def output(self) -> bytes:
        """The PDF file."""
        return bytes(self.pdf.output())
