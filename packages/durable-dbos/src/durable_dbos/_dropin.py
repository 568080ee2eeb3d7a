"""Names of PydanticAI 2.68's `durable_exec.dbos` that 2.68 code imports, beyond `DBOSAgent` and `StepConfig`.

`DBOSModel` works as 2.68's does: a model whose requests are DBOS steps. `ChildWorkflowConfig` is 2.68's config
shape, which `DBOSDurability` runs. `DBOSOperationNamer` (2.68's namer of the capability's steps) is not provided:
building one raises a `DurableUsageError` that names `durable_unit_names()`, so 2.68 code fails where it starts,
not in a run.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypedDict, cast

from dbos import DBOS, StepOptions
from durable_core import DurableUsageError
from durable_core.engine import ModelOperation, UnitModel
from pydantic_ai.agent import EventStreamHandler
from pydantic_ai.models import KnownModelName, Model

from ._config import StepConfigLike, step_options

__all__ = ['ChildWorkflowConfig', 'DBOSModel', 'DBOSOperationNamer']


class DBOSModel(UnitModel):
    """A model whose requests are DBOS steps in workflow code: PydanticAI 2.68's `DBOSModel`, journaled as JSON.

    `DBOSAgent` makes its model's requests steps itself (`<agent>.model_request`); this class is for 2.68 code that
    builds one, for instance to give a plain `Agent` run in your own `@DBOS.workflow` durable model requests. In
    workflow code, `request()` and `request_stream()` run as the step `<step_name_prefix>__model.request` (or
    `__model.request_stream`, whose handler from `get_event_stream_handler` gets the live stream inside the step),
    and `cancel_suspended_response()` (a background response a run gives up on) as
    `<step_name_prefix>__model.cancel_suspended_response`, so that a recovered workflow neither sends a request
    nor cancels a job twice. Outside workflow code, and inside a step, they call the wrapped model directly. The
    step names are 2.68's; the step results are durable-core's JSON of the response, where 2.68 pickles it.
    """

    keeps_unit_values = True  # a step's first execution hands back the very text it returned

    def __init__(
        self,
        model: Model | KnownModelName | str,
        *,
        step_name_prefix: str,
        step_config: StepConfigLike | None = None,
        get_event_stream_handler: Callable[[], EventStreamHandler[Any] | None] | None = None,
    ) -> None:
        """Wrap `model`.

        Args:
            model: The model that sends the requests, or its name.
            step_name_prefix: The start of the step names, such as the agent's name.
            step_config: Retries and timeout of the steps (a `StepConfig`, or a durable-core `StepPolicy`).
            get_event_stream_handler: Called in each streamed request's step for the handler that receives the
                live stream (`None`: no handler).
        """
        super().__init__(model, get_event_stream_handler=get_event_stream_handler)
        self.step_config: StepConfigLike = step_config or {}
        self._step_name_prefix = step_name_prefix
        step_options(f'{step_name_prefix}__model.request', self.step_config)  # refuses unknown keys now

    def _unit_scope(self) -> bool | None:
        return True if DBOS.workflow_id is not None and DBOS.step_id is None else None

    async def _run_model_unit(
        self,
        scope: Any,
        operation: ModelOperation,
        key_inputs: list[Any],
        execute: Callable[[], Coroutine[Any, Any, str]],
    ) -> str:
        options = step_options(f'{self._step_name_prefix}__model.{operation}', self.step_config)
        return await DBOS.run_step_async(cast(StepOptions, options), execute)


class ChildWorkflowConfig(TypedDict, total=False):
    """The config of a tool call run as a DBOS child workflow: `metadata={'dbos': {'child_workflow': ...}}`.

    As 2.68's: `DBOSDurability` runs each call of an async function tool whose metadata (its own, or set by a
    `SetToolMetadata` capability) selects one as a child workflow of the run's workflow, registered when the agent is
    created, as `<agent>.child_workflow.<toolset id>`. 2.68's `DBOSAgent` ignores the metadata, and so does ours
    (parity: a deploy between the two forms must not change how a tool runs behind the user's back): every tool call
    of a `DBOSAgent` that is journaled is a step (`tool_step_config=`, `tool_step_config_by_name=`).
    """

    workflow_timeout_sec: float
    """Seconds before DBOS cancels the child workflow (2.68: passed to DBOS's `SetWorkflowTimeout`)."""


class DBOSOperationNamer:
    """PydanticAI 2.68's namer of DBOS step names: not provided. Building one raises `DurableUsageError`.

    Our step and workflow names are fixed, derived from the agent's name and its toolset ids
    (`<agent>.model_request`, `<agent>.run`, ...), and listed by `DBOSAgent.durable_unit_names()`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Refuse, naming `durable_unit_names()`."""
        raise DurableUsageError(
            'durable_dbos has no DBOSOperationNamer: a DBOSAgent names its workflow and steps after the agent '
            '(`name=`) and its toolset ids; `dbos_agent.durable_unit_names()` lists them. Choose the names there.'
        )
