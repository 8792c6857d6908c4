"""The use cases: refresh and validate (desk), add/log/import, report, summary, export, mail,
doctor, init and demo. Each reads through :mod:`sheetdesk.workbook`, applies :mod:`sheetdesk.rules` and
saves safely; the command line is a thin shell over these functions.
"""
