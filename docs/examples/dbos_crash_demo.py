"""durable-agents demo: a DBOS agent on SQLite is SIGKILLed mid-run, restarts, and finishes.

Run it with `./scripts/demo` from the repository root (it sets up its own virtualenv). No API key is
needed: a scripted model stands in, unless OPENAI_API_KEY is set, in which case OpenAI answers.

The parent process starts a worker that runs the agent as a DBOS workflow, kills it with SIGKILL
while a tool is running, starts a second worker, and prints a timeline of every step: which ones
the second worker replayed from the durable log, and which ones it ran.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()


# --------------------------------------------------------------------------- the worker


def build_agent(log: Path, first_worker: bool) -> Any:
    """The travel agent, wrapped in a DBOSAgent; every execution of a step is logged with its step id."""
    from dbos import DBOS
    from durable_core import without_sdk_retries
    from durable_core.testing import ScriptedModel, ToolCall
    from durable_dbos import DBOSAgent, StepConfig
    from pydantic_ai import Agent
    from pydantic_ai.models.wrapper import WrapperModel

    def record(what: str) -> None:
        with log.open('a') as file:
            file.write(json.dumps({'pid': os.getpid(), 'step_id': DBOS.step_id, 'what': what}) + '\n')
            file.flush()
            os.fsync(file.fileno())

    class LoggedModel(WrapperModel):
        async def request(self, *args: Any, **kwargs: Any) -> Any:
            record('model request')
            return await super().request(*args, **kwargs)

    if os.environ.get('OPENAI_API_KEY'):
        # Engine retries replace the SDK's own, so a failed request is retried once, as a step.
        model: Any = without_sdk_retries('openai:gpt-4.1-mini')
    else:
        model = ScriptedModel(
            [
                [ToolCall('get_weather', {'city': 'Lisbon'})],
                [ToolCall('find_flight', {'city': 'Lisbon'})],
                [ToolCall('book_hotel', {'city': 'Lisbon', 'nights': 3})],
                'Lisbon is sunny: flight TP 1234 is booked for Friday, and Hotel Miradouro for three nights.',
            ],
            position='history',  # a restarted worker answers from where the conversation is
        )

    agent = Agent(
        LoggedModel(model),
        name='travel_agent',
        instructions='Plan the trip: check the weather, then find a flight, then book a hotel, one tool at a time.',
    )

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """The weather in a city."""
        record(f'tool get_weather({city})')
        return f'sunny, 24°C in {city}'

    @agent.tool_plain
    def find_flight(city: str) -> str:
        """Find a flight to a city."""
        record(f'tool find_flight({city})')
        return 'TP 1234, Friday 09:05'

    @agent.tool_plain
    async def book_hotel(city: str, nights: int) -> str:
        """Book a hotel: slow, and in the first worker it never finishes, because the demo kills it."""
        record(f'tool book_hotel({city}, {nights})')
        if first_worker:
            await asyncio.sleep(600)
        return f'Hotel Miradouro, {nights} nights'

    return DBOSAgent(agent, tool_step_config=StepConfig(retries=2), model_step_config=StepConfig(retries=1))


def worker(database: Path, log: Path, workflow_id: str, first_worker: bool) -> None:
    """Run (first worker) or recover (second worker) the agent's workflow."""
    from dbos import DBOS, SetWorkflowID

    dbos_agent = build_agent(log, first_worker)
    DBOS(config={'name': 'durable-agents-demo', 'system_database_url': f'sqlite:///{database}', 'log_level': 'WARNING'})

    async def main() -> None:
        DBOS.launch()  # the second worker's launch recovers the interrupted workflow
        if first_worker:
            with SetWorkflowID(workflow_id):
                await dbos_agent.run('Plan a 3-night trip to Lisbon.')
            return
        handle = await DBOS.retrieve_workflow_async(workflow_id)
        result = await handle.get_result()  # an AgentRunResult, rebuilt by the agent created above
        steps = [
            {'step_id': step['function_id'], 'name': step['function_name']}
            for step in await DBOS.list_workflow_steps_async(workflow_id)
        ]
        print(json.dumps({'output': result.output, 'steps': steps}), flush=True)

    asyncio.run(main())
    DBOS.destroy()


# --------------------------------------------------------------------------- the demo


def read_log(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def say(text: str = '') -> None:
    print(text, flush=True)


def demo() -> int:
    state = Path(os.environ.get('DEMO_DIR', Path.cwd() / '.demo'))
    state.mkdir(parents=True, exist_ok=True)
    database, log = state / 'demo.sqlite', state / 'executions.log'
    for path in (database, log):
        path.unlink(missing_ok=True)
    workflow_id = f'trip-{uuid.uuid4().hex[:8]}'
    model = 'OpenAI gpt-4.1-mini' if os.environ.get('OPENAI_API_KEY') else 'scripted (set OPENAI_API_KEY for OpenAI)'
    say('durable-agents demo: a PydanticAI agent made durable with DBOS on SQLite')
    say(f'  database: {database}\n  model:    {model}\n  run:      {workflow_id}\n')

    command = [sys.executable, str(HERE), '--worker', str(database), str(log), workflow_id]
    first = subprocess.Popen([*command, '--first'])
    say(f'▶ worker 1 (pid {first.pid}) starts the run')
    deadline = time.monotonic() + 120
    shown = 0
    while not any(entry['what'].startswith('tool book_hotel') for entry in read_log(log)):
        entries = read_log(log)
        for entry in entries[shown:]:
            say(f'    ran      {entry["what"]}')
        shown = len(entries)
        if first.poll() is not None or time.monotonic() > deadline:
            say('worker 1 ended before the demo could kill it')
            return 1
        time.sleep(0.05)
    for entry in read_log(log)[shown:]:
        running = '   (running...)' if entry['what'].startswith('tool book_hotel') else ''
        say(f'    ran      {entry["what"]}{running}')
    in_flight_step = read_log(log)[-1]['step_id']
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    say('✖ worker 1 killed with SIGKILL in the middle of book_hotel\n')

    say('▶ worker 2 starts: DBOS.launch() finds the interrupted run and resumes it')
    second = subprocess.run(command, capture_output=True, text=True, timeout=300)
    if second.returncode != 0:
        say(second.stderr[-2000:])
        return 1
    report = json.loads(second.stdout.strip().splitlines()[-1])
    executions = read_log(log)

    say('\nTimeline of the run, step by step:')
    replayed = ran_now = completed_twice = 0
    for number, step in enumerate(report['steps'], start=1):
        runs = [entry for entry in executions if entry['step_id'] == step['step_id']]
        workers = {1 if entry['pid'] == first.pid else 2 for entry in runs}
        label = runs[0]['what'] if runs else step['name']
        if workers == {1}:
            replayed += 1
            mark = 'replayed from the log: ran in worker 1, not again'
        elif workers == {2}:
            ran_now += 1
            mark = 'ran now, in worker 2'
        elif step['step_id'] == in_flight_step:
            mark = 'ran again: it was in flight when worker 1 died'
        else:
            completed_twice += 1
            mark = 'RAN TWICE although it had completed'
        say(f'  {number}. {label:<28} {mark}')
    say(f'\nResult: {report["output"]}')
    say(
        f'\n{len(report["steps"])} steps: {replayed} replayed from the durable log, {ran_now} ran after the restart, '
        f'1 was in flight at the crash and ran again. Completed steps that ran twice: {completed_twice}.'
    )
    return 0 if completed_twice == 0 else 1


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--worker', nargs=3, metavar=('DATABASE', 'LOG', 'WORKFLOW_ID'))
    parser.add_argument('--first', action='store_true')
    arguments = parser.parse_args()
    if arguments.worker:
        database_arg, log_arg, workflow_arg = arguments.worker
        worker(Path(database_arg), Path(log_arg), workflow_arg, arguments.first)
    else:
        sys.exit(demo())
