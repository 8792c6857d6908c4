"""The exceptions that stop a command. Each carries its message in Chinese and English.

Row-level problems are not exceptions (they are :class:`sheetdesk.validation.Problem` data); these are
the file-level reasons a command cannot do its job, rendered by the CLI as one line, no traceback.
"""

from __future__ import annotations


class SheetdeskError(Exception):
    """Base: a failure with a one-line message in both languages."""

    exit_code = 1

    def __init__(self, zh: str, en: str | None = None):
        super().__init__(zh)
        self.zh = zh
        self.en = en if en is not None else zh

    def render(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


class BookNotFound(SheetdeskError):
    """The workbook file does not exist."""

    @classmethod
    def at(cls, path: object, *, suggest_init: bool = False) -> BookNotFound:
        """The one wording of "workbook not found"; ``suggest_init`` adds how to make a desk, for the
        commands a first-time user runs on a desk that is not there yet (refresh, add, import)."""
        return cls(f"找不到工作簿 {path}" + ("（可用 sheetdesk init 新建）" if suggest_init else ""),
                   f"workbook not found: {path}" + (" (create one with sheetdesk init)" if suggest_init else ""))


class BookUnreadable(SheetdeskError):
    """Not an xlsx, truncated, corrupt or password protected."""


class BookLocked(SheetdeskError):
    """An office program (Excel, WPS, LibreOffice) holds the workbook open."""


class BookBusy(SheetdeskError):
    """Another sheetdesk run is writing the workbook."""


class BookChanged(SheetdeskError):
    """The file changed on disk between reading and writing; nothing was written."""


class StructureError(SheetdeskError):
    """A sheet or a required header is missing: nothing is written."""


class UnsupportedContent(SheetdeskError):
    """The workbook holds parts the save engine cannot carry; refusing instead of dropping them."""


class SettingsError(SheetdeskError):
    """sheetdesk.toml is malformed."""


class InputError(SheetdeskError):
    """A command-line value is invalid (add/log)."""

    exit_code = 2


class WriteFailed(SheetdeskError):
    """The new file could not be written or verified; the original is untouched."""
