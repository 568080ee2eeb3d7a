"""How PrefectAgent behaves with N concurrent runs on a Prefect server: wall time, and exactly-once counts.

Usage: prefect_concurrent_runs.py [--runs 20] [--server standalone|ephemeral] [--home DIR]
Each run: 3 model requests (scripted FunctionModel) and 2 tool calls, so 5 tasks plus the flow.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

parser = argparse.ArgumentParser()
parser.add_argument('--runs', type=int, default=20)
parser.add_argument('--server', choices=['standalone', 'ephemeral', 'postgres'], default='standalone')
args = parser.parse_args()

home = tempfile.mkdtemp(prefix='bench-prefect-')
os.environ.update(PREFECT_HOME=home, PREFECT_SERVER_ANALYTICS_ENABLED='false', DO_NOT_TRACK='1')
os.environ['PREFECT_LOGGING_LEVEL'] = 'WARNING'
os.environ.pop('PREFECT_API_URL', None)

import asyncio  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from durable_core.testing import DurableCallCounter, ScriptedModel, ToolCall  # noqa: E402
from durable_core.testing._servers import PrefectServer  # noqa: E402
from durable_prefect import PrefectAgent  # noqa: E402
from pydantic_ai import Agent, RunContext  # noqa: E402


async def main() -> None:
    counter = DurableCallCounter(Path(home) / 'calls.log')

    class Counting(ScriptedModel):
        def _take_step(self, messages: Any) -> Any:
            counter.record('model')
            return super()._take_step(messages)

    model = Counting(
        [[ToolCall('lookup', {'key': 'a'})], [ToolCall('lookup', {'key': 'b'})], 'done'], position='history'
    )
    agent = Agent(model, name='bench')

    @agent.tool
    def lookup(ctx: RunContext[Any], key: str) -> str:
        counter.record('tool')
        return key

    prefect_agent = PrefectAgent(agent)
    started = time.perf_counter()
    await prefect_agent.run('warm up')
    single = time.perf_counter() - started
    counter.clear()
    started = time.perf_counter()
    results = await asyncio.gather(*(prefect_agent.run(f'run {i}') for i in range(args.runs)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    failures = [r for r in results if isinstance(r, BaseException)]
    print(
        f'server={args.server} runs={args.runs} single_run={single:.2f}s concurrent_wall={elapsed:.2f}s '
        f'per_run={elapsed / args.runs:.2f}s failures={len(failures)} counts={counter.counts()}'
    )
    for failure in failures[:3]:
        print('  failure:', repr(failure)[:300])


if args.server == 'postgres':
    from durable_core.testing._servers import PostgresServer

    with PostgresServer(database='prefect') as postgres:
        url = postgres.url.replace('postgresql://', 'postgresql+asyncpg://', 1)
        env = {'PREFECT_API_DATABASE_CONNECTION_URL': url}
        with PrefectServer(home=os.path.join(home, 'server'), extra_env=env) as server:
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
                asyncio.run(main())
elif args.server == 'standalone':
    with PrefectServer(home=os.path.join(home, 'server')) as server:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
            asyncio.run(main())
else:
    asyncio.run(main())
