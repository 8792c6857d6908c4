"""The rules of the desk: pure functions and data, records in, writes and problems out.

No I/O and no workbook library here: what is read from a workbook arrives as
:class:`sheetdesk.rules.records.Table` records, and what the rules decide leaves as data.
"""
