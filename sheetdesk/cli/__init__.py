"""The ``sheetdesk`` command: one module per command, each a thin click shell over :mod:`sheetdesk.app`.

The options every command shares are declared once in :mod:`sheetdesk.cli.options`; what the
commands print is in :mod:`sheetdesk.cli.console`. This module holds the group and registers the
commands.
"""

from __future__ import annotations

import click

from sheetdesk import __version__
from sheetdesk.cli import add, demo, doctor, export, importing, init, log, refresh, report, restore, summary
from sheetdesk.cli import schedule as schedule_cli
from sheetdesk.cli.console import setup_streams


class _Main(click.Group):
    def main(self, *args, **kwargs):
        setup_streams()  # before anything is printed, --help included
        return super().main(*args, **kwargs)


@click.group(cls=_Main, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sheetdesk")
def main() -> None:
    """sheetdesk：把共享的 Excel 工作簿变成售后客户问题反馈处理及跟踪台。

    An after-sales feedback desk kept in a shared Excel workbook.
    """


for _command in (init.init, demo.demo, refresh.refresh, refresh.validate, add.add, log.log, summary.summary,
                 report.report, doctor.doctor, restore.restore, export.export, importing.import_,
                 schedule_cli.schedule_):
    main.add_command(_command)
