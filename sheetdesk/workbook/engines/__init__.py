"""The two save engines: ``patch`` splices sheetdesk's cells into the package and copies every other
part as it is; ``openpyxl`` loads and rebuilds the whole workbook, for what the patch engine cannot splice."""
