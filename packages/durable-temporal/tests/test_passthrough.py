"""The workflow sandbox passes through every module PydanticAI 2.68's own plugin passes through (issue 14, item 5)."""

from __future__ import annotations

import importlib
import importlib.util
import uuid

from _temporal_support import plugin_client_fixture  # noqa: F401
from _wf_passthrough import ImportsWorkflow
from durable_temporal import PASSTHROUGH_MODULES
from temporalio.client import Client
from temporalio.worker import Worker

PAI_PASSTHROUGH = [
    'pydantic_ai_harness',
    'opentelemetry',
    'stackone_defender',
    'pydantic_ai',
    'pydantic_graph',
    'pydantic',
    'pydantic_core',
    'annotated_types',
    'pydantic_monty',
    'logfire',
    'rich',
    'httpx',
    'anyio',
    'sniffio',
    'httpcore',
    'certifi',
    'fastmcp',
    'mcp',
    'anthropic',
    'openai',
    'google.auth',
    'beartype',
    'attrs',
    'numpy',
    'pandas',
    'genai_prices',
    'httpx2',
    'httpcore2',
    'truststore',
]
"""What the `PydanticAIPlugin` of pydantic-ai-slim 2.68 passes through (`_workflow_runner`), in its order."""


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # a submodule whose package is missing
        return False


INSTALLED = [name for name in PAI_PASSTHROUGH if _installed(name)]


def _covered(name: str) -> bool:
    return any(name == module or name.startswith(f'{module}.') for module in PASSTHROUGH_MODULES)


def test_every_installed_module_of_pydantic_ai_is_listed() -> None:
    assert {'rich', 'beartype', 'attrs'} <= set(INSTALLED)  # installed here, so the check below covers them
    assert [name for name in INSTALLED if not _covered(name)] == []


async def test_workflow_code_imports_the_hosts_modules(plugin_client: Client, task_queue: str) -> None:
    host = {name: id(importlib.import_module(name)) for name in INSTALLED}
    async with Worker(plugin_client, task_queue=task_queue, workflows=[ImportsWorkflow]):
        in_workflow = await plugin_client.execute_workflow(
            ImportsWorkflow.run, INSTALLED, id=f'passthrough-{uuid.uuid4()}', task_queue=task_queue
        )
    assert {name: value for name, value in in_workflow.items() if value != host[name]} == {}
