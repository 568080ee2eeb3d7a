"""`LogfirePlugin`: Logfire spans of workflows, activities and agent runs, none duplicated by replays.

Logfire's set-up is process-wide (`logfire.configure()`, PydanticAI's instrumentation), so each case runs in a
process of its own: `_logfire_run.py` runs a workflow on the session's dev server. Without `logfire` installed (hidden
with a `None` entry in `sys.modules`), building the plugin raises at once, naming the install.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from durable_core.testing import TemporalDevServer, aborted_in_temporal_finalization

TESTS = Path(__file__).parent

# One run of GeographyWorkflow: two model requests and one tool call, each an activity; the agent run's span
# (`invoke_agent`) is made in workflow code, the model's and tool's (`chat`, `execute_tool`) around the activities.
EXPECTED = {
    'StartWorkflow:GeographyWorkflow': 1,
    'RunWorkflow:GeographyWorkflow': 1,
    'CompleteWorkflow:GeographyWorkflow': 1,
    'StartActivity:geography.model_request': 2,
    'RunActivity:geography.model_request': 2,
    'StartActivity:geography.tool_call.agent.get_weather': 1,
    'RunActivity:geography.tool_call.agent.get_weather': 1,
    'invoke_agent geography': 1,
    'chat scripted': 2,
    'execute_tool get_weather': 1,
}


def _python(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=TESTS,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, 'LOGFIRE_SEND_TO_LOGFIRE': 'false', 'LOGFIRE_CONSOLE': 'false', **(env or {})},
    )


def _run(target: str, mode: str) -> dict[str, Any]:
    done = _python('_logfire_run.py', target, mode)
    if not aborted_in_temporal_finalization(done):  # after it printed its report: temporalio/sdk-python#300
        assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_spans_once_each_although_workflow_code_replays(temporal_dev_server: TemporalDevServer) -> None:
    report = _run(temporal_dev_server.target, 'replay-safe')
    assert report['output'] == 'It is sunny in Mexico City.'
    assert report['after_run'] == EXPECTED
    assert report['after_replay'] == EXPECTED  # the Replayer made no span either
    assert report['traces'] == 1  # client, workflow, activities and agent in one trace
    assert report['setups'] == 1  # replay-safe, `setup_logfire` runs once for client, worker and replayer


def test_without_replay_safety_replays_duplicate_the_agent_spans(temporal_dev_server: TemporalDevServer) -> None:
    # The control: the same run with `replay_safe=False` shows what the default prevents.
    report = _run(temporal_dev_server.target, 'unsafe')
    assert report['output'] == 'It is sunny in Mexico City.'
    assert report['after_run']['invoke_agent geography'] > 1
    assert report['after_replay']['invoke_agent geography'] > report['after_run']['invoke_agent geography']


_DEFAULT_SETUP = """
import logfire
from _wf_agent import GeographyWorkflow
from durable_temporal import LogfirePlugin
from opentelemetry.sdk.trace import TracerProvider
from temporalio.worker import Replayer

proxy = logfire.DEFAULT_LOGFIRE_INSTANCE.config.get_tracer_provider()
if HOST_CONFIGURES:
    logfire.configure(send_to_logfire=False, console=False)
host_provider = proxy.provider
Replayer(workflows=[GeographyWorkflow], plugins=[LogfirePlugin(metrics=False)])  # runs the plugin's set-up
wrapped = proxy.provider.wrapped
print(type(host_provider).__name__, wrapped is host_provider, isinstance(wrapped, TracerProvider))
"""


def test_by_default_the_hosts_logfire_set_up_is_kept() -> None:
    done = _python('-c', _DEFAULT_SETUP.replace('HOST_CONFIGURES', 'True'))
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.split() == ['TracerProvider', 'True', 'True']  # wrapped to be replay-safe, not replaced


def test_by_default_an_unconfigured_logfire_is_configured() -> None:
    done = _python('-c', _DEFAULT_SETUP.replace('HOST_CONFIGURES', 'False'))
    assert done.returncode == 0, done.stderr[-4000:]
    assert done.stdout.split() == ['NoOpTracerProvider', 'False', 'True']


_WITHOUT_LOGFIRE = """
import sys
sys.modules['logfire'] = None  # as if not installed
import durable_temporal
from pydantic_ai import UserError
try:
    durable_temporal.LogfirePlugin()
except ImportError as error:
    print(isinstance(error, UserError))
    print(error)
else:
    print('no error')
"""


def test_without_logfire_the_error_names_the_install() -> None:
    done = _python('-c', _WITHOUT_LOGFIRE)
    assert done.returncode == 0, done.stderr[-4000:]
    first, message = done.stdout.splitlines()[:2]
    assert first == 'True'  # a PydanticAI UserError, and an ImportError as PydanticAI 2.68's
    assert message.startswith('LogfirePlugin needs logfire')
    assert "pip install 'durable-temporal[logfire]'" in message
