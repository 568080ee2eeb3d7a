"""The contract between durable-core and an engine package: what an engine subclasses, implements and calls.

`DurableAgent` owns every public entry point (`run`, `run_sync`, `iter`, `run_stream`, `run_stream_events`,
`override`) and every misuse guard. An engine package subclasses it, overrides none of them, and fills these hooks:

Required:
    `_in_durable_context()`: whether the caller is this agent's workflow (or flow) code.
    `_run_unit(call, execute)`: run `execute` as one durable unit (a step, a task, an activity) and return its JSON,
        or the journaled JSON on recovery.
    `_durable_run_id()`: a run id that is the same when the engine re-executes the run.
    `_start_durable_run(inputs)`: start a durable run from outside the agent's workflow code; its body calls
        `run_inputs(inputs)`. Not needed with `_starts_durable_runs = False`.

Optional:
    `_in_engine_code()`: whether the caller is in any workflow of the engine (default: `_in_durable_context()`).
    `_before_tool_calls(ctx, tool_call_ids)`: before a step's tool calls start, in call order.
    `_run_capabilities()`: capabilities added to each durable run.
    `_after_run(run_id)`: when a durable run ends, however it ends.
    `_toolset_unit_kinds(kind)`: which units an MCP, dynamic or other toolset has.
    `_wrap_io_toolset(leaf)`: the stand-in of an MCP or dynamic toolset in a run.
    `_prepare_model_string(model_id)`: before a model is built in durable code from an unregistered model string.
    `_durable_scope_for_iter()`: for `iter()` in engine code outside the agent's own (Prefect: any flow), a context
        that makes the caller's code the agent's durable code while the run lasts; `None` (the default) refuses it.

Class attributes: `engine_name`, `wrapper_name`, `container_noun`, `tool_config_argument` (for messages);
`_run_is_unit`, `_starts_durable_runs`, `_runs_in_durable_code_are_children`, `_streams_durable_runs`,
`_units_run_in_process`, `_refused_in_durable_code` and `_duplicate_name_reason` (behaviour; see `DurableAgent`).
An engine's `__init__` sets `unit_configs` (a `UnitConfigs` of its native configs), which checks every tool and
toolset name in it.

`DurabilityCapability` is the capability form (`Agent(..., capabilities=[DBOSDurability(...)])`): an engine subclass
passes its wrapper class and the wrapper's arguments, and the capability runs on that wrapper.

`UnitModel` is the base of a model whose calls are units of the user's own workflow code, outside any agent's run
(2.68's `DBOSModel`, `PrefectModel`): an engine fills `_unit_scope()` and `_run_model_unit()`.

See the "Adding an engine" page of the docs.
"""

from ._agent import (
    AGENT_TOOLSET_ID,
    DurabilityCapability,
    DurableAgent,
    DurableUnit,
    ParallelExecutionMode,
    RunInputs,
    ToolsetKind,
    ToolsetLeaf,
    UnitConfigs,
    stable_run_id,
)
from ._compat import agent_instruction_functions
from ._ids import UnitId, UnitKind
from ._tool_metadata import RunToolMetadataGuard, effective_metadata, set_tool_metadata
from ._tool_outcomes import replay_tool_call
from ._unit_model import ModelOperation, UnitModel
from ._units import (
    SECRET_MODEL_SETTINGS,
    EventInputs,
    ModelCancelInputs,
    ModelRequestInputs,
    ToolCallInputs,
    UnitCall,
    UnitInputs,
    execute_event_delivery,
    execute_model_cancel,
    execute_model_request,
    execute_tool_call,
    own_secret_settings,
    removed_tools_called,
    restore_secret_settings,
    run_model_key,
    withhold_secret_settings,
)

__all__ = [
    'AGENT_TOOLSET_ID',
    'SECRET_MODEL_SETTINGS',
    'DurabilityCapability',
    'DurableAgent',
    'DurableUnit',
    'EventInputs',
    'ModelCancelInputs',
    'ModelOperation',
    'ModelRequestInputs',
    'ParallelExecutionMode',
    'RunInputs',
    'RunToolMetadataGuard',
    'ToolCallInputs',
    'ToolsetKind',
    'ToolsetLeaf',
    'UnitCall',
    'UnitConfigs',
    'UnitId',
    'UnitInputs',
    'UnitKind',
    'UnitModel',
    'agent_instruction_functions',
    'effective_metadata',
    'execute_event_delivery',
    'execute_model_cancel',
    'execute_model_request',
    'execute_tool_call',
    'own_secret_settings',
    'removed_tools_called',
    'replay_tool_call',
    'restore_secret_settings',
    'run_model_key',
    'set_tool_metadata',
    'stable_run_id',
    'withhold_secret_settings',
]
