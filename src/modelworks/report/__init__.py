"""HTML reports built from independent sections, with PNG plots."""

from modelworks.report._report import Report, Section, save_figure

__all__ = ["Report", "Section", "save_figure"]
