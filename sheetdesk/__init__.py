"""sheetdesk: an after-sales feedback desk kept in a shared Excel workbook."""

__version__ = "0.1.0"
