"""`continue_as_new='auto'`: each run in a child workflow of its own, which continues as new by itself.

`run()` in a workflow starts the child workflow `durable_agents.AgentRun` on the workflow's task queue and returns
its result. The child runs the agent from its journaled inputs (`RunInputs`). Before a model request, when Temporal
suggests continuing as new, it continues as new with the run's messages (the request about to be sent last) as the
message history, with the run's usage and run id and the same other inputs; the next workflow run sends that request.
The result the caller gets is the whole run's: all its messages, `new_messages()` from where the caller's run began,
its usage.

The child workflow is not sandboxed: it runs the agents the worker registered (the host's objects), as the activities
do. The agent loop is the same deterministic workflow code as in a sandbox (the workflow clock, `workflow.uuid4()`).
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import durable_core
import pydantic_ai.exceptions
from durable_core import DurableUsageError, decode
from durable_core.engine import DurableAgent, RunInputs
from pydantic import BaseModel
from pydantic_ai import RunContext
from pydantic_ai.capabilities import AbstractCapability
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models import ModelRequestContext
from temporalio import activity, workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from ._converter import RawJson
from ._failures import PAYLOAD_LIMIT_BYTES, USER_ERROR_TYPE, PayloadTooLargeError
from ._history import (
    EarlierMessages,
    chain_of,
    earlier_messages_json,
    sent_prefix,
    split_json_list,
    start_continued,
)
from ._registry import registered_agent

__all__ = [
    'AGENT_RUN_WORKFLOW',
    'AgentRunWorkflow',
    'AutoContinueAsNew',
    'Continuation',
    'EarlierReference',
    'current_segment',
    'load_messages',
    'start_agent_run',
]

AGENT_RUN_WORKFLOW = 'durable_agents.AgentRun'
"""The type of the child workflow of a run with `continue_as_new='auto'`."""

_CARRY_LIMIT_BYTES = PAYLOAD_LIMIT_BYTES - 64 * 1024
"""The largest inputs a run continues as new with: under the server's payload limit, with room for the rest."""


class EarlierReference(BaseModel):
    """The first `count` messages a model request of another workflow run sent."""

    workflow_id: str | None = None
    """The workflow of that run, if not the one that reads them (the parent reads its child's)."""
    workflow_run: str
    run: str
    """The agent run id of that workflow run."""
    count: int
    digest: str
    """The digest chain's value over them (`_history`)."""
    sizes: list[int]
    """Each message's JSON size: the workflow reads them in parts under the payload limit."""


class Continuation(BaseModel):
    """What a continued workflow run of an agent run knows of the run so far, besides its inputs."""

    new_message_index: int
    """Where the caller's run began in the messages: the result's `new_messages()` start there."""
    run_id: str
    """The run id of the first workflow run: the result and every message of the run carry it."""
    continued: int
    """How many times the run has continued as new before this workflow run."""
    earlier: EarlierReference | None = None
    """The first messages of the conversation, when the inputs do not carry them: the last model request of the
    workflow run this one continued sent them, and `durable_agents.load_messages` reads them from its history."""


@dataclass(frozen=True)
class Segment:
    """One workflow run of an agent run that continues as new: what the next one starts from."""

    agent: DurableAgent[Any, Any]
    inputs: RunInputs
    new_message_index: int
    continuation: Continuation | None
    """`None` in the first workflow run of the agent run."""


_SEGMENT: ContextVar[Segment | None] = ContextVar('durable_temporal_segment', default=None)


def current_segment(agent: DurableAgent[Any, Any]) -> Segment | None:
    """The segment `agent` runs in, if this is its `durable_agents.AgentRun` workflow."""
    segment = _SEGMENT.get()
    return segment if segment is not None and segment.agent is agent else None


async def start_agent_run(agent: DurableAgent[Any, Any], inputs: RunInputs) -> str:
    """Run `agent` in a child `durable_agents.AgentRun` workflow of the calling workflow; its result's JSON."""
    info = workflow.info()
    child_id = f'{info.workflow_id}-{agent.name}-{workflow.uuid4()}'
    try:
        result = await workflow.execute_child_workflow(
            AGENT_RUN_WORKFLOW,
            args=[agent.name, RawJson(agent.encode_inputs(inputs)), None],
            id=child_id,
            task_queue=info.task_queue,
            result_type=RawJson,
        )
    except ChildWorkflowError as error:
        raise _as_raised_in_the_run(error) from error
    text = str(result)
    if not text.startswith(_BY_REFERENCE):
        return text
    # A result over the payload limit: its first messages stay in the child's history, read back here in parts.
    data = json.loads(text)
    encoded, _ = await _load_earlier(EarlierReference.model_validate(data['earlier']))
    run_result = data['result']
    body = run_result['result'] if 'output_member' in run_result else run_result
    body['messages'] = [*(json.loads(message_json) for message_json in encoded), *body['messages']]
    if data['one_run'] is not None:
        _as_one_run(body, Continuation.model_validate(data['one_run']))
    return json.dumps(run_result, separators=(',', ':'), ensure_ascii=False)


def _as_raised_in_the_run(error: ChildWorkflowError) -> BaseException:
    """What the run raised in its child workflow, as the caller's workflow code would have seen it in its own.

    An error the agent loop raised (PydanticAI's `UsageLimitExceeded`, a `UserError`, our misuse errors) failed the
    child as an `ApplicationError` named after its class: it is raised again as that class, so code that catches it
    around `run()` catches it with or without `continue_as_new='auto'`. A failed activity is its `ActivityError`, as
    in the caller's own workflow; anything else stays the `ChildWorkflowError`.
    """
    cause = error.cause
    if isinstance(cause, ApplicationError):
        details = cause.details
        name = str(details[0]) if cause.type == USER_ERROR_TYPE and details else cause.type
        known = getattr(durable_core, name or '', None) or getattr(pydantic_ai.exceptions, name or '', None)
        if name == PayloadTooLargeError.__name__:
            known = PayloadTooLargeError
        if isinstance(known, type) and issubclass(known, Exception) and not (name or '').startswith('_'):
            try:
                return known(cause.message)
            except TypeError:  # a constructor that takes more than the message
                return cause
        return cause
    if isinstance(cause, ActivityError):
        return cause
    return error


_BY_REFERENCE = '{"earlier":'
"""How a child's result that refers to its first messages starts (a run result's JSON never does)."""

LOAD_MESSAGES_ACTIVITY = 'durable_agents.load_messages'
_LOAD_PART_BYTES = 1024 * 1024
"""At most this much message JSON per `load_messages` result (or one message, if larger)."""

_LOADED: dict[tuple[str, str, str, int, str], list[bytes]] = {}
"""The messages the last `load_messages` read, for the next parts of the same load."""


@activity.defn(name=LOAD_MESSAGES_ACTIVITY)
async def load_messages(reference: EarlierReference, start: int, stop: int) -> RawJson:
    """Messages `start..stop` of those `reference` names, each its JSON as sent, as a JSON list."""
    workflow_id = reference.workflow_id or activity.info().workflow_id or ''
    key = (workflow_id, reference.workflow_run, reference.run, reference.count, reference.digest)
    encoded = _LOADED.get(key)
    if encoded is None:
        earlier = EarlierMessages(
            reference.run, reference.count, reference.digest, (reference.workflow_run, reference.run)
        )
        encoded = await earlier_messages_json(workflow_id, earlier)
        _LOADED.clear()
        _LOADED[key] = encoded
    return RawJson(b''.join((b'[', b','.join(encoded[start:stop]), b']')).decode())


async def _load_earlier(reference: EarlierReference) -> tuple[list[bytes], list[str]]:
    """In the workflow: the messages `reference` names, each its JSON, and their digest chain, checked."""
    encoded: list[bytes] = []
    start = 0
    while start < reference.count:
        stop, part_bytes = start, 0
        while stop < reference.count and (stop == start or part_bytes + reference.sizes[stop] <= _LOAD_PART_BYTES):
            part_bytes += reference.sizes[stop]
            stop += 1
        part = await workflow.execute_activity(
            LOAD_MESSAGES_ACTIVITY,
            args=[reference, start, stop],
            result_type=RawJson,
            start_to_close_timeout=timedelta(minutes=1),
        )
        encoded.extend(split_json_list(part.encode(), reference.sizes[start:stop]))
        start = stop
    digests = chain_of(encoded)
    if (digests[-1] if digests else '') != reference.digest:
        raise ApplicationError(
            'The messages read back from the continued workflow run do not match the digest it sent.',
            type='StaleModelRequestError',
            non_retryable=True,
        )
    return encoded, digests


@workflow.defn(name=AGENT_RUN_WORKFLOW, sandboxed=False)
class AgentRunWorkflow:
    """Runs one agent run of a `continue_as_new='auto'` agent, continuing as new when Temporal suggests it."""

    @workflow.run
    async def run(self, agent_name: str, inputs: RawJson, continuation: Continuation | None) -> RawJson:
        """Run the agent from `inputs`; `continuation` is `None` in the first workflow run of the agent run."""
        agent = registered_agent(agent_name, workflow.info().task_queue)
        if agent is None:
            raise DurableUsageError(
                f'No worker of the task queue {workflow.info().task_queue!r} in this process registered the agent '
                f'{agent_name!r}, whose run this workflow is: list it in the `__pydantic_ai_agents__` of a workflow '
                'the worker runs, or add `AgentPlugin(agent)` to the worker.'
            )
        run_inputs = agent.decode_inputs(inputs)
        if continuation is not None and continuation.earlier is not None:
            earlier = continuation.earlier
            encoded, digests = await _load_earlier(earlier)
            start_continued(encoded, digests, {'workflow_run': earlier.workflow_run, 'run': earlier.run})
            loaded = [decode(message_json, ModelMessage) for message_json in encoded]
            run_inputs = run_inputs.model_copy(
                update={'message_history': [*loaded, *(run_inputs.message_history or ())]}
            )
        new_message_index = (
            len(run_inputs.message_history or ()) if continuation is None else continuation.new_message_index
        )
        token = _SEGMENT.set(Segment(agent, run_inputs, new_message_index, continuation))
        try:
            result = await agent.run_inputs(run_inputs)
        finally:
            _SEGMENT.reset(token)
        encoded = agent.encode_result(result)
        data = json.loads(encoded)
        body = data['result'] if 'output_member' in data else data
        if continuation is not None:
            _as_one_run(body, continuation)
        encoded = json.dumps(data, separators=(',', ':'), ensure_ascii=False)
        if len(encoded.encode()) > _CARRY_LIMIT_BYTES:
            encoded = _by_reference(agent, result, continuation)
        size = len(encoded.encode())
        if size > PAYLOAD_LIMIT_BYTES:
            raise PayloadTooLargeError(
                f'The result of the run of {agent_name!r} is {size:,} bytes of JSON, over the '
                f'{PAYLOAD_LIMIT_BYTES:,}-byte payload limit of a Temporal server, so its child workflow cannot '
                'return it. Keep the conversation smaller (have tools store large data elsewhere and return a '
                "reference to it), or run the agent in your workflow itself, without continue_as_new='auto'."
            )
        return RawJson(encoded)


class AutoContinueAsNew(AbstractCapability[Any]):
    """Before a model request, continue the workflow as new when Temporal suggests it (not before the first one)."""

    def __init__(self, segment: Segment) -> None:
        self._segment = segment
        self._requests = 0
        self._warned = False

    async def before_model_request(self, ctx: RunContext[Any], request_context: ModelRequestContext) -> Any:
        self._requests += 1
        # Never at a workflow run's first request: a run whose messages alone trip the suggestion would loop.
        if self._requests > 1 and workflow.info().is_continue_as_new_suggested():
            self._continue(ctx)
        return request_context

    def _continue(self, ctx: RunContext[Any]) -> None:
        segment = self._segment
        # The messages the last request sent stay in this history: the next workflow run reads them from there.
        sent, digests = sent_prefix(ctx.run_id or '', ctx.messages)
        earlier = (
            EarlierReference(
                workflow_run=workflow.info().run_id,
                run=ctx.run_id or '',
                count=len(sent),
                digest=digests[-1],
                sizes=[len(message_json) for message_json in sent],
            )
            if sent
            else None
        )
        inputs = segment.inputs.model_copy(
            update={
                'user_prompt': None,
                'message_history': list(ctx.messages[len(sent) :]),
                'deferred_tool_results': None,
                'usage': ctx.usage,
                'conversation_id': ctx.conversation_id,
                'run_id': None,  # PydanticAI gives each run its own; the result gets the first one's back
            }
        )
        encoded = segment.agent.encode_inputs(inputs)
        if len(encoded.encode()) > _CARRY_LIMIT_BYTES:
            if not self._warned:
                self._warned = True
                workflow.logger.warning(
                    'The run of %r does not continue as new although Temporal suggests it: its messages are '
                    '%s bytes of JSON, over what a new workflow run can start with. It goes on in this history.',
                    segment.agent.name,
                    f'{len(encoded):,}',
                )
            return
        # Raises `ContinueAsNewError` (a BaseException): it ends this workflow run; the next one sends the request.
        previous = segment.continuation
        continuation = Continuation(
            new_message_index=segment.new_message_index,
            run_id=(ctx.run_id or '') if previous is None else previous.run_id,
            continued=1 if previous is None else previous.continued + 1,
            earlier=earlier,
        )
        workflow.continue_as_new(args=[segment.agent.name, RawJson(encoded), continuation])


def _by_reference(agent: DurableAgent[Any, Any], result: Any, continuation: Continuation | None) -> str:
    """A result too large to return: the messages its run's last request sent stay in this history, referred to."""
    sent, digests = sent_prefix(result.run_id, result.all_messages())
    data = json.loads(agent.encode_result(result))
    body = data['result'] if 'output_member' in data else data
    body['messages'] = body['messages'][len(sent) :]
    earlier = EarlierReference(
        workflow_id=workflow.info().workflow_id,
        workflow_run=workflow.info().run_id,
        run=result.run_id,
        count=len(sent),
        digest=digests[-1] if digests else '',
        sizes=[len(message_json) for message_json in sent],
    )
    reference = {
        'earlier': earlier.model_dump(),  # first: the caller tells this form by how it starts (`_BY_REFERENCE`)
        'one_run': None if continuation is None else continuation.model_dump(),
        'result': data,
    }
    return json.dumps(reference, separators=(',', ':'), ensure_ascii=False)


def _as_one_run(body: dict[str, Any], continuation: Continuation) -> None:
    """Make a continued run's result JSON (`body`) the whole run's.

    Its `new_messages()` start where the caller's run began, and the result and every message the run made carry the
    first workflow run's run id.
    """
    body['new_message_index'] = continuation.new_message_index
    body['run_id'] = continuation.run_id
    for message in body['messages'][continuation.new_message_index :]:
        if message.get('run_id') is not None:
            message['run_id'] = continuation.run_id
