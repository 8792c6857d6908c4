"""Text people typed is printed as it is: rich markup in a cell ('[/]', '[bold]') is never interpreted."""

from __future__ import annotations

NOW = "2026-11-23 09:00"


def test_markup_in_cells_and_paths_is_printed_literally(make_desk, cli, tmp_path):
    desk = make_desk([{"received": "2026-11-20 10:00", "channel": "[/]抖音", "customer": "[bold]王[/bold]",
                       "description": "无法开机 [red]"}], name="desk[1].xlsx")
    for command in ("refresh", "validate"):
        result = cli(command, desk, "--now", NOW)
        assert result.exit_code == 0, result.output
        assert "[/]抖音" in result.output and "desk[1].xlsx" in result.output
