"""What ``pdffonts`` says about a PDF: its font rows, and whether a font is a CJK one."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

PDFFONTS = shutil.which("pdffonts")


def pdf_font_rows(pdf: Path) -> list[list[str]]:
    """``pdffonts`` rows of a PDF, split on blanks (name first, "emb" 5th from the end)."""
    assert PDFFONTS is not None
    listing = subprocess.run(
        [PDFFONTS, str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    return [line.split() for line in listing.splitlines()[2:] if line.strip()]


def is_cjk_font(name: str) -> bool:
    """A subset font name such as ``ONIMYD+Noto-Sans-SC`` or ``ABCDEF+NotoSansCJKsc-Regular``."""
    base = name.split("+", 1)[-1].replace("-", "").lower()
    return any(key in base for key in ("notosanssc", "notosanscjk", "sourcehansans"))


#: English a Chinese casebook keeps: abbreviations, units and codes of the standards, the site's
#: time zone, dose level and regimen names, drug names and the DLT definition's version name.
KEPT_IN_CHINESE = frozenset(
    [
        "NCT",
        "AE",
        "DLT",
        "BOR",
        "CRS",
        "ICANS",
        "GVHD",
        "MRD",
        "ECOG",
        "CAR",
        "CD",
        "SCT",
        "UTC",
        "ULN",
        "MFI",
        "BM",
        "CSF",
        "BUN",
        "MRI",
        "AIDS",
        "HIV",
        "PBMC",
        "CR",
        "CRi",
        "PR",
        "SD",
        "NR",
        "PD",
        "NE",
        "ASTCT",
        "CTCAE",
        "kg",
        "mL",
        "mg",
        "m2",
        "day",
        "mol",
        "mmol",
        "dosewise",
        "Asia",
        "Shanghai",
        "DL",
        "Flu",
        "Cy",
        "fludarabine",
        "cyclophosphamide",
        "template",
    ]
)
