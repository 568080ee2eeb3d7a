"""A `DBOSAgent` created after `DBOS.launch()`, with PydanticAI 2.68's wrapper or ours: does it run, and what warns.

Usage: dbos_late_agent.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`. The
program is the same for both: launch DBOS, then wrap an agent, run it under a workflow id, read its result back
through DBOS's handle. The report holds what it returned, the workflow's status, and the warnings raised on the way:
Python warnings (other than 2.68's deprecation of its wrapper) and DBOS's log lines at WARNING or above.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any, cast

from _pai import quiet_deprecations

quiet_deprecations()

from dbos import DBOS, SetWorkflowID, WorkflowHandleAsync  # noqa: E402
from pydantic_ai import Agent, AgentRunResult  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402

impl, db_url, out = sys.argv[1:4]
if impl == 'pydantic_ai':
    from pydantic_ai.durable_exec.dbos import DBOSAgent  # pyright: ignore[reportDeprecated]
else:
    from durable_dbos import DBOSAgent


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


async def main() -> dict[str, Any]:
    DBOS.launch()
    logged = Collect()
    logging.getLogger('dbos').addHandler(logged)
    report: dict[str, Any] = {}
    late: Any = None
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter('always')
        quiet_deprecations()
        try:
            late = DBOSAgent(Agent(TestModel(), name='late_agent'))  # pyright: ignore[reportDeprecated]
        except Exception as error:
            report['error'] = f'{type(error).__name__}: {error}'
    report['python_warnings'] = [{'category': w.category.__name__, 'message': str(w.message)} for w in raised]
    if late is not None:
        with SetWorkflowID('late-1'):
            report['output'] = (await late.run('Hi')).output
        status = await DBOS.get_workflow_status_async('late-1')
        report['status'] = status.status if status else None
        handle: WorkflowHandleAsync[Any] = await DBOS.retrieve_workflow_async('late-1')
        report['retrieved'] = cast(AgentRunResult[str], await handle.get_result()).output
    report['dbos_warnings'] = logged.messages
    return report


DBOS(config={'name': 'late-agent', 'system_database_url': db_url, 'log_level': 'WARNING'})
Path(out).write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
