"""Reports and exports: the protocol design report now; DSMB, ClinicalTrials.gov, SDTM, ODM later.

Every report is computed by the same core functions the rest of dosewise uses, then rendered
from Jinja2 templates (``templates/``) in English or Simplified Chinese (:mod:`.i18n`) to HTML,
and to PDF through WeasyPrint (:mod:`.render`). Figures are Matplotlib PNGs embedded as data
URIs (:mod:`.figures`), so an HTML report is a single self-contained file.

Names load on first use (PEP 562): ``dosewise report dsmb`` does not import the simulation
engine the design report needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dosewise.report.design_defaults import DEFAULT_SEED, DEFAULT_TRIALS
    from dosewise.report.design_report import (
        DesignReport,
        build_design_report,
        design_report_html,
        write_design_report,
    )
    from dosewise.report.i18n import LANGS, Translator, check_lang
    from dosewise.report.render import html_to_pdf, output_kind, render_html, write_document

_HOME = {
    "DEFAULT_SEED": "dosewise.report.design_defaults",
    "DEFAULT_TRIALS": "dosewise.report.design_defaults",
    "DesignReport": "dosewise.report.design_report",
    "build_design_report": "dosewise.report.design_report",
    "design_report_html": "dosewise.report.design_report",
    "write_design_report": "dosewise.report.design_report",
    "LANGS": "dosewise.report.i18n",
    "Translator": "dosewise.report.i18n",
    "check_lang": "dosewise.report.i18n",
    "html_to_pdf": "dosewise.report.render",
    "output_kind": "dosewise.report.render",
    "render_html": "dosewise.report.render",
    "write_document": "dosewise.report.render",
}

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_TRIALS",
    "LANGS",
    "DesignReport",
    "Translator",
    "build_design_report",
    "check_lang",
    "design_report_html",
    "html_to_pdf",
    "output_kind",
    "render_html",
    "write_design_report",
    "write_document",
]


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first access."""
    try:
        module = _HOME[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
