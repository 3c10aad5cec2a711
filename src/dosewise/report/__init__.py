"""Reports and exports: the protocol design report now; DSMB, ClinicalTrials.gov, SDTM, ODM later.

Every report is computed by the same core functions the rest of dosewise uses, then rendered
from Jinja2 templates (``templates/``) in English or Simplified Chinese (:mod:`.i18n`) to HTML,
and to PDF through WeasyPrint (:mod:`.render`). Figures are Matplotlib PNGs embedded as data
URIs (:mod:`.figures`), so an HTML report is a single self-contained file.
"""

from dosewise.report.design_report import (
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    DesignReport,
    build_design_report,
    design_report_html,
    write_design_report,
)
from dosewise.report.i18n import LANGS, Translator, check_lang
from dosewise.report.render import (
    html_to_pdf,
    output_kind,
    render_html,
    write_document,
)

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
