"""An agent with `DBOSDurability` created after `DBOS.launch()`, PydanticAI 2.68's or ours: does it run, what warns.

Usage: dbos_capability_late_agent.py IMPL DB_URL OUT_JSON, where IMPL is `pydantic_ai` (2.68's `durable_exec`) or
`ours`. The capability twin of `dbos_late_agent.py`: launch DBOS, then create the agent with the capability, run it
in the app's workflow (registered before launch) under a workflow id, and read its result back through DBOS's
handle; then create a second one with `register_legacy_workflows=True`, which registers the wrapper's workflow
(as the wrapper does, after launch). The report holds what the run returned, the workflow's status, its step names,
and the warnings raised on the way, per agent: Python warnings (other than 2.68's deprecations) and DBOS's log lines
at WARNING or above.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import warnings
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

from dbos import DBOS, SetWorkflowID, WorkflowHandleAsync  # noqa: E402
from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402

impl, db_url, out = sys.argv[1:4]
if impl == 'pydantic_ai':
    from pydantic_ai.durable_exec.dbos import DBOSDurability
else:
    from durable_dbos import DBOSDurability


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


late: Any = None


def warned(raised: list[warnings.WarningMessage]) -> list[dict[str, str]]:
    return [{'category': w.category.__name__, 'message': str(w.message)} for w in raised]


def create(report: dict[str, Any], key: str, **arguments: Any) -> Any:
    with warnings.catch_warnings(record=True) as raised:
        warnings.simplefilter('always')
        quiet_deprecations()
        try:
            return Agent(TestModel(), name=key, capabilities=[DBOSDurability(**arguments)])
        except Exception as error:
            report[f'{key}_error'] = f'{type(error).__name__}: {error}'
        finally:
            report[f'{key}_python_warnings'] = warned(raised)


@DBOS.workflow()
async def app_workflow(prompt: str) -> str:
    return (await late.run(prompt)).output


async def main() -> dict[str, Any]:
    global late
    DBOS.launch()
    logged = Collect()
    logging.getLogger('dbos').addHandler(logged)
    report: dict[str, Any] = {}
    late = create(report, 'late_agent')
    if late is not None:
        with warnings.catch_warnings(record=True) as raised:
            warnings.simplefilter('always')
            quiet_deprecations()
            with SetWorkflowID('late-1'):
                report['output'] = await app_workflow('Hi')
        report['run_warnings'] = warned(raised)
        status = await DBOS.get_workflow_status_async('late-1')
        report['status'] = status.status if status else None
        handle: WorkflowHandleAsync[str] = await DBOS.retrieve_workflow_async('late-1')
        report['retrieved'] = await handle.get_result()
        steps = await DBOS.list_workflow_steps_async('late-1')
        report['steps'] = [step['function_name'] for step in steps]
    report['late_agent_dbos_warnings'] = list(logged.messages)
    logged.messages.clear()
    create(report, 'late_legacy', register_legacy_workflows=True)
    report['late_legacy_dbos_warnings'] = logged.messages
    return report


DBOS(config={'name': 'capability-late-agent', 'system_database_url': db_url, 'log_level': 'WARNING'})
Path(out).write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
