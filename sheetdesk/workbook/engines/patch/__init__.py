"""The package-patching save engine: rewrite only the cells sheetdesk owns, copy every other part.

openpyxl rebuilds the whole file — slow on a big register, and it drops what it does not model
(charts, pictures, x14 extensions). This engine streams the XML of the sheets sheetdesk edits, splices
new ``<c>`` elements into the rows that change (:mod:`.splice`, :mod:`.cells`), adds the few cell
formats it needs to styles.xml (:mod:`.styles`), regenerates its own sheets (:mod:`.generated`), and
copies every other part of the zip byte for byte — so images, charts, pivot tables, macros and
unknown extensions survive by construction. :mod:`.plan` decides the edits, :mod:`.verify` checks
the new package before it replaces the desk.

It handles the files sheetdesk itself and the office suites write. Anything unexpected (a row or
cell without its ``r`` address, edits in rows that cannot be placed) raises
:class:`PatchUnsupported` and the caller falls back to the openpyxl engine.
"""

from sheetdesk.workbook.engines.patch.plan import Patch, plan_patch
from sheetdesk.workbook.engines.patch.unsupported import PatchUnsupported
from sheetdesk.workbook.engines.patch.verify import verify_patch

__all__ = ["Patch", "PatchUnsupported", "plan_patch", "verify_patch"]
