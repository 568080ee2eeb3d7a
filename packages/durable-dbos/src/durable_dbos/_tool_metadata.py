"""The `dbos` tool metadata the capability form reads: a tool's own, and what `SetToolMetadata` capabilities set.

Read when the agent is created (DBOS registers a child workflow before `DBOS.launch()`) and again at its first
run. A `SetToolMetadata` is applied as PydanticAI applies it to a run's tool definitions, for the selectors that need
no run: `'all'`, tool names, and metadata to match. A selector function, which sees the run, is refused when it sets
`dbos`: what it would select is not known when the workflows are registered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from durable_core import DurableUsageError
from durable_core.engine import AGENT_TOOLSET_ID, effective_metadata, set_tool_metadata
from pydantic_ai.agent import AbstractAgent
from pydantic_ai.capabilities import SetToolMetadata
from pydantic_ai.tools import Tool
from pydantic_ai.toolsets import AbstractToolset, FunctionToolset, WrapperToolset

from ._dropin import ChildWorkflowConfig

__all__ = ['DBOS_METADATA_KEY', 'ChildWorkflowSelection', 'child_workflow_selections']

DBOS_METADATA_KEY = 'dbos'
"""The tool `metadata` key of DBOS's per-tool settings, as 2.68's: `{'dbos': {'child_workflow': ...}}`."""

_CHILD_WORKFLOW_KEYS = frozenset(ChildWorkflowConfig.__annotations__)


@dataclass(frozen=True)
class ChildWorkflowSelection:
    """A function tool whose calls run as DBOS child workflows."""

    toolset_id: str
    tool_name: str
    config: ChildWorkflowConfig


def child_workflow_selections(agent: AbstractAgent[Any, Any], *, all_tools: bool) -> list[ChildWorkflowSelection]:
    """The agent's function tools whose metadata selects a child workflow, checked; misuse raises now, naming the fix.

    `all_tools`: the agent has all its tools (at its first run); when it is created, `@agent.tool` may add more.
    """
    set_metadata = set_tool_metadata(agent, DBOS_METADATA_KEY)
    selections: list[ChildWorkflowSelection] = []
    other_toolsets: list[AbstractToolset[Any]] = []
    function_tools: set[str] = set()

    def visit(leaf: AbstractToolset[Any]) -> None:
        if isinstance(leaf, WrapperToolset):
            return
        if not isinstance(leaf, FunctionToolset):
            other_toolsets.append(leaf)
            return
        for name, tool in leaf.tools.items():
            function_tools.add(name)
            metadata = effective_metadata(tool.tool_def, set_metadata)
            if _selects_child_workflow(metadata):
                selections.append(_selection(leaf, name, tool, metadata[DBOS_METADATA_KEY]))

    for toolset in agent.toolsets:
        toolset.apply(visit)
    for capability in set_metadata:
        if _selects_child_workflow(capability.metadata):
            _refuse_selecting_other_tools(capability, other_toolsets, function_tools if all_tools else None)
    return selections


def _selects_child_workflow(metadata: Mapping[str, Any] | None) -> bool:
    config = (metadata or {}).get(DBOS_METADATA_KEY)
    return isinstance(config, Mapping) and 'child_workflow' in config


def _selection(
    leaf: FunctionToolset[Any], name: str, tool: Tool[Any], dbos: Mapping[str, Any]
) -> ChildWorkflowSelection:
    where = f"The tool {name!r}'s metadata[{DBOS_METADATA_KEY!r}]"
    if set(dbos) != {'child_workflow'}:
        raise DurableUsageError(
            f"{where} has the keys {sorted(dbos)}: 'child_workflow' must be its only key, "
            "{'dbos': {'child_workflow': ChildWorkflowConfig(workflow_timeout_sec=...)}}."
        )
    config: Any = dbos['child_workflow']
    if not isinstance(config, Mapping):
        raise DurableUsageError(
            f"{where}['child_workflow'] must be a ChildWorkflowConfig, got {type(config).__name__}: "
            'ChildWorkflowConfig(workflow_timeout_sec=...), or {} for no timeout.'
        )
    given = dict(cast(Mapping[str, Any], config))
    unknown = set(given) - _CHILD_WORKFLOW_KEYS
    if unknown:
        raise DurableUsageError(
            f'{where} has unknown ChildWorkflowConfig keys {sorted(unknown)}; the keys are '
            f'{sorted(_CHILD_WORKFLOW_KEYS)}.'
        )
    timeout: Any = given.get('workflow_timeout_sec')
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0):
        raise DurableUsageError(f'{where}: workflow_timeout_sec must be a positive number of seconds, got {timeout!r}.')
    if not tool.function_schema.is_async:
        raise DurableUsageError(
            f'{where} selects a child workflow, but only an async function tool can run as one: make it '
            f'`async def {name}(...)`.'
        )
    if leaf.id is None:
        raise DurableUsageError(
            f"{where} selects a child workflow, whose name needs its toolset's id: give the toolset an id, "
            "FunctionToolset(..., id='my_toolset')."
        )
    toolset_id = AGENT_TOOLSET_ID if leaf.id == '<agent>' else leaf.id
    return ChildWorkflowSelection(toolset_id, name, cast(ChildWorkflowConfig, given))


def _refuse_selecting_other_tools(
    capability: SetToolMetadata[Any], other_toolsets: Sequence[AbstractToolset[Any]], function_tools: set[str] | None
) -> None:
    """Refuse a `SetToolMetadata` child workflow for tools that are not function tools (MCP, dynamic, ...)."""
    selector: Any = capability.tools
    names = [selector] if isinstance(selector, str) and selector != 'all' else selector
    if isinstance(names, Sequence) and not isinstance(names, str):
        if function_tools is None:
            return
        missing = sorted(set(cast(Sequence[str], names)) - function_tools)
        if not missing:
            return
        what = f'names {missing}, which are not function tools of the agent'
    elif other_toolsets:
        labels = sorted(toolset.label for toolset in other_toolsets)
        what = f'selects the tools of {labels} too'
    else:
        return
    raise DurableUsageError(
        f'A SetToolMetadata that selects a DBOS child workflow {what}: only async function tools run as child '
        "workflows (an MCP or dynamic toolset's calls are steps). Select function tools by name: "
        "SetToolMetadata(tools=['my_tool'], dbos={'child_workflow': ChildWorkflowConfig(...)})."
    )
