"""A durable agent created after `DBOS.launch()`, PydanticAI 2.68's or ours, in either form: does it run, what warns.

Usage: dbos_late_agent.py FORM IMPL DB_URL OUT_JSON, where FORM is `wrapper` (`DBOSAgent`) or `capability`
(`DBOSDurability` on the agent) and IMPL is `pydantic_ai` (2.68's `durable_exec`) or `ours`. The program is the same
for all four: launch DBOS, then create the durable agent, run it under a workflow id (the wrapper's own workflow, or
the app's, registered before launch, with the capability), and read its result back through DBOS's handle. In the
capability form it then creates a second one with `register_legacy_workflows=True`, which registers the wrapper's
workflow (as the wrapper does, after launch). The report holds what the run returned, the workflow's status, its
step names, and the warnings raised on the way, per agent: Python warnings (other than 2.68's deprecations) and
DBOS's log lines at WARNING or above.
"""

from __future__ import annotations

import asyncio
import json
import logging
import warnings
from pathlib import Path
from typing import Any

from _pai import quiet_deprecations

quiet_deprecations()

from _dbos_program import durability, durable, program_arguments  # noqa: E402
from dbos import DBOS, SetWorkflowID, WorkflowHandleAsync  # noqa: E402
from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402

form, impl, db_url, out = program_arguments()


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
            return durable(impl, form, Agent(TestModel(), name=key, capabilities=durability(impl, form, **arguments)))
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
                # The wrapper's run is a workflow of its own; the capability runs in the app's.
                report['output'] = (await late.run('Hi')).output if form == 'wrapper' else await app_workflow('Hi')
        report['run_warnings'] = warned(raised)
        status = await DBOS.get_workflow_status_async('late-1')
        report['status'] = status.status if status else None
        handle: WorkflowHandleAsync[Any] = await DBOS.retrieve_workflow_async('late-1')
        result = await handle.get_result()
        # The wrapper's workflow returns the run's result; the app's workflow, its output.
        report['retrieved'] = result.output if form == 'wrapper' else result
        steps = await DBOS.list_workflow_steps_async('late-1')
        report['steps'] = [step['function_name'] for step in steps]
    report['late_agent_dbos_warnings'] = list(logged.messages)
    if form == 'capability':  # the wrapper's workflows, registered on request: the wrapper form registered them above
        logged.messages.clear()
        create(report, 'late_legacy', register_legacy_workflows=True)
        report['late_legacy_dbos_warnings'] = logged.messages
    return report


DBOS(config={'name': f'{form}-late-agent', 'system_database_url': db_url, 'log_level': 'WARNING'})
Path(out).write_text(json.dumps(asyncio.run(main())))
DBOS.destroy()
