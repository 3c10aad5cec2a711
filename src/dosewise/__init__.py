"""dosewise: design, simulate and run BOIN12 / TITE-BOIN12 phase I/II dose-finding trials."""

__version__ = "0.1.0"
