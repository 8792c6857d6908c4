"""The per-ticket result report (售后服务反馈及处理结果报告) as data: every field of the template,
already in the desk's language. :mod:`sheetdesk.app.reports` fills it from a run; the workbook layer
writes it; the archive compares its :meth:`Report.digest`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime


@dataclass
class Step:
    time: datetime
    step: str
    by: str
    note: str


@dataclass
class Stage:
    name: str
    due: datetime | None
    done: datetime | None
    met: bool | None
    #: nobody logged this step: closing the ticket completed it (the report says so, not a time)
    with_close: bool = False


@dataclass
class Report:
    """Every field of the seeds' report template, already in the desk's language."""
    lang: str
    id: str
    customer: str
    contact: str
    received: datetime
    channel: str
    product: str
    description: str
    expectation: str
    category: str
    priority: str
    escalation: str
    department: str
    owner: str
    resolution_due: datetime | None
    steps: list[Step] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    result: str = ""
    satisfaction: str = ""
    comment: str = ""
    prepared_by: str = ""
    prepared_on: date | None = None
    reviewer: str = ""
    reviewed_on: date | None = None
    remarks: str = ""
    external: bool = False
    #: the stages that missed their deadline and 处理结果's 超时原因
    late_stages: str = ""
    overdue_reason: str = ""
    #: the manager's second review of a major problem (复核人, 复核日期)
    second_reviewer: str = ""
    second_reviewed_on: date | None = None

    def digest(self) -> str:
        """The content hash the archive compares (independent of file timestamps). Fields at their
        defaults that older reports did not have are left out, so an unchanged ticket still hashes
        as its archived report did and is not written again."""
        data = asdict(self)
        for key in _LATER_FIELDS:
            if not data[key]:
                del data[key]
        for stage in data["stages"]:
            if not stage["with_close"]:
                del stage["with_close"]
        return hashlib.sha256(json.dumps(data, default=str, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


_LATER_FIELDS = ("late_stages", "overdue_reason", "second_reviewer", "second_reviewed_on")
