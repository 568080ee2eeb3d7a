"""Misuse gets a clear error, raised early, naming the fix; inside a workflow it fails the workflow at once."""

from __future__ import annotations

import re
import uuid
import warnings
from datetime import timedelta

import pytest
from _temporal_support import plugin_client_fixture  # noqa: F401
from _wf_misuse import MisuseWorkflow
from durable_core import DurableNameError, DurableUsageError, NotDurableWarning, StepPolicy
from durable_temporal import LocalActivity, PydanticAIPlugin, PydanticAIWorkflow, TemporalAgent
from pydantic_ai import Agent
from pydantic_ai.capabilities import ProcessHistory
from pydantic_ai.messages import ModelMessage
from pydantic_ai.models.test import TestModel
from pydantic_ai.toolsets import FunctionToolset
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker


def _sync_tool() -> str:
    return 'sync'


async def _async_tool() -> str:
    return 'async'


def test_missing_agent_name() -> None:
    with pytest.raises(DurableNameError, match=r"Agent\(\.\.\., name='my_agent'\)"):
        TemporalAgent(Agent(TestModel()))


def test_missing_toolset_id() -> None:
    agent = Agent(TestModel(), name='no_toolset_id', toolsets=[FunctionToolset([_sync_tool])])
    with pytest.raises(DurableNameError, match=r"FunctionToolset\(\.\.\., id='my_toolset'\)"):
        TemporalAgent(agent)


def test_duplicate_toolset_id() -> None:
    toolsets = [FunctionToolset([_sync_tool], id='tools'), FunctionToolset([_async_tool], id='tools')]
    with pytest.raises(DurableNameError, match="both 'tools'"):
        TemporalAgent(Agent(TestModel(), name='dup_toolset_id', toolsets=toolsets))


def test_reserved_model_key() -> None:
    with pytest.raises(DurableNameError, match="'default' is reserved"):
        TemporalAgent(Agent(TestModel(), name='reserved_key'), models={'default': TestModel()})


def test_sync_tool_cannot_run_in_the_workflow() -> None:
    agent = Agent(TestModel(), name='sync_inline', tools=[_sync_tool, _async_tool])
    with pytest.raises(DurableUsageError, match=r"'_sync_tool' is a sync function.*async def"):
        TemporalAgent(agent, tool_activity_config={'agent': {'_sync_tool': False}})
    TemporalAgent(agent, tool_activity_config={'agent': {'_async_tool': False}})  # async: allowed


def _sync_history_processor(messages: list[ModelMessage]) -> list[ModelMessage]:
    return messages


async def _async_history_processor(messages: list[ModelMessage]) -> list[ModelMessage]:
    return messages


def _sync_instructions() -> str:
    return 'Be brief.'


async def _async_instructions() -> str:
    return 'Be brief.'


def test_sync_history_processor_or_instructions_refused_naming_async_def() -> None:
    """PydanticAI runs them in a thread, which workflow code cannot wait for: the workflow would hang."""
    sync_processor = Agent(TestModel(), name='sync_hp', capabilities=[ProcessHistory(_sync_history_processor)])
    with pytest.raises(DurableUsageError, match=r"history processor '_sync_history_processor'.*sync.*`async def`"):
        TemporalAgent(sync_processor)
    with pytest.raises(DurableUsageError, match=r"instructions function '_sync_instructions'.*`async def`"):
        TemporalAgent(Agent(TestModel(), name='sync_instructions', instructions=['Static.', _sync_instructions]))
    decorated = Agent(TestModel(), name='sync_decorated')
    decorated.instructions(_sync_instructions)
    with pytest.raises(DurableUsageError, match=r"instructions function '_sync_instructions'"):
        TemporalAgent(decorated)
    # async ones, and static instructions, are fine
    TemporalAgent(
        Agent(
            TestModel(),
            name='async_callbacks',
            instructions=['Static.', _async_instructions],
            capabilities=[ProcessHistory(_async_history_processor)],
        )
    )


def test_unknown_toolset_or_tool_in_config() -> None:
    agent = Agent(TestModel(), name='unknown_config', tools=[_async_tool])
    with pytest.raises(DurableNameError, match=r"'nope'.*toolset ids are \['agent'\]"):
        TemporalAgent(agent, toolset_activity_config={'nope': {}})
    with pytest.raises(DurableNameError, match=r"tools are \['_async_tool'\]"):
        TemporalAgent(agent, tool_activity_config={'agent': {'typo': False}})
    with pytest.raises(DurableUsageError, match='unknown ActivityConfig keys'):
        TemporalAgent(agent, activity_config={'start_to_close': timedelta(seconds=1)})  # type: ignore[typeddict-unknown-key]
    TemporalAgent(agent, activity_config=StepPolicy(retries=2, timeout=30))


def test_local_activity_config_takes_local_activity_keys_only() -> None:
    agent = Agent(TestModel(), name='local_config', tools=[_async_tool])
    with pytest.raises(DurableUsageError, match=r"unknown LocalActivityConfig keys \['task_queue'\]"):
        TemporalAgent(agent, tool_activity_config={'agent': {'_async_tool': LocalActivity({'task_queue': 'q'})}})
    TemporalAgent(agent, tool_activity_config={'agent': {'_async_tool': LocalActivity(StepPolicy(retries=2))}})


def test_plugin_rejects_a_plain_agent_and_two_agents_with_one_name() -> None:
    class PlainAgentListed(PydanticAIWorkflow):
        __pydantic_ai_agents__ = [Agent(TestModel(), name='plain')]  # type: ignore[list-item]

    with pytest.raises(DurableUsageError, match=r'nor an agent with TemporalDurability: wrap it first'):
        PydanticAIPlugin().configure_worker({'workflows': [PlainAgentListed]})

    class TwoSameNames(PydanticAIWorkflow):
        __pydantic_ai_agents__ = [
            TemporalAgent(Agent(TestModel(), name='twin')),
            TemporalAgent(Agent(TestModel(), name='twin')),
        ]

    with pytest.raises(DurableNameError, match=r"both have the activity 'twin\.model_request'"):
        PydanticAIPlugin().configure_worker({'workflows': [TwoSameNames]})


async def test_outside_a_workflow_it_runs_like_the_plain_agent_and_warns_once() -> None:
    temporal_agent = TemporalAgent(Agent(TestModel(custom_output_text='plain'), name='outside'))
    with pytest.warns(NotDurableWarning, match='not durable') as caught:
        assert (await temporal_agent.run('hi')).output == 'plain'
    assert issubclass(caught[0].category, UserWarning)  # filterable, and not a RuntimeWarning
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert (await temporal_agent.run('again')).output == 'plain'
        async with temporal_agent.run_stream('streamed') as stream:
            assert await stream.get_output() == 'plain'


FIX = 'TemporalAgent(agent, event_stream_handler=handler)'
WORKFLOW_MISUSE = [
    ('event_handler', 'DurableUsageError', r'event_stream_handler passed to run\(\).*' + re.escape(FIX)),
    (
        'run_sync',
        'NotInDurableUnitError',
        r'run_sync\(\) is not supported inside a Temporal workflow: it would block.*await agent.run',
    ),
    ('run_stream', 'NotInDurableUnitError', r'run_stream\(\) is not supported inside a Temporal.*event_stream_handler'),
    ('run_stream_events', 'NotInDurableUnitError', r'run_stream_events\(\) is not supported.*event_stream_handler'),
    ('override_model', 'NotInDurableUnitError', r'override\(model=\.\.\., toolsets=\.\.\.\) is not.*models='),
    ('override_toolsets', 'NotInDurableUnitError', r'override\(model=\.\.\., toolsets=\.\.\.\) is not supported'),
    ('unregistered_model', 'DurableUsageError', r'TestModel.*was not registered.*models=\{"my_model": model\}'),
    ('unserializable_deps', 'UnserializableError', r'deps of type Unserializable cannot be serialized to JSON'),
    ('image_output', 'UnserializableError', r'Image output is not supported by TemporalAgent'),
    ('headers_in_settings', 'DurableUsageError', r'headers often hold secrets.*default_headers'),
    # The server would refuse to schedule it, failing the workflow task on every retry.
    ('oversize_input', 'PayloadTooLargeError', r"'misuse.model_request' is 3,0\d\d,\d\d\d bytes.*history processor"),
]


async def test_graph_run_sync_in_a_workflow_fails_it_at_once(plugin_client: Client, task_queue: str) -> None:
    """pydantic_graph's `UnsupportedEventLoopError` fails the workflow, instead of its task being retried forever."""
    async with Worker(plugin_client, task_queue=task_queue, workflows=[MisuseWorkflow]):
        with pytest.raises(WorkflowFailureError) as failure:
            await plugin_client.execute_workflow(
                MisuseWorkflow.run,
                'graph_run_sync',
                id=f'misuse-graph-run-sync-{uuid.uuid4()}',
                task_queue=task_queue,
                run_timeout=timedelta(seconds=15),
            )
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == 'UnsupportedEventLoopError'
    assert 'does not implement `run_until_complete()`' in cause.message


@pytest.mark.parametrize(('case', 'error_type', 'message'), WORKFLOW_MISUSE)
async def test_misuse_inside_a_workflow_fails_it_at_once(
    plugin_client: Client, task_queue: str, case: str, error_type: str, message: str
) -> None:
    async with Worker(plugin_client, task_queue=task_queue, workflows=[MisuseWorkflow]):
        if case == 'event_handler':  # the same workflow without misuse succeeds
            ok = await plugin_client.execute_workflow(
                MisuseWorkflow.run, 'ok', id=f'misuse-ok-{uuid.uuid4()}', task_queue=task_queue
            )
            assert ok == 'fine'
        with pytest.raises(WorkflowFailureError) as failure:
            await plugin_client.execute_workflow(
                MisuseWorkflow.run,
                case,
                id=f'misuse-{case}-{uuid.uuid4()}',
                task_queue=task_queue,
                run_timeout=timedelta(seconds=60),
            )
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    # Recognizable as PydanticAI's `UserError`, as 2.68's errors are; our class is named in the details.
    assert (cause.type, cause.details, cause.non_retryable) == ('UserError', (error_type,), True)
    assert cause.message is not None
    assert re.search(message, cause.message, re.DOTALL), cause.message


async def _failed_activity(plugin_client: Client, task_queue: str, case: str) -> tuple[ApplicationError, list[int]]:
    """Run the misuse `case`, whose activity fails: the activity's failure, and the attempts the activity made."""
    async with Worker(plugin_client, task_queue=task_queue, workflows=[MisuseWorkflow]):
        handle = await plugin_client.start_workflow(
            MisuseWorkflow.run,
            case,
            id=f'misuse-{case}-{uuid.uuid4()}',
            task_queue=task_queue,
            run_timeout=timedelta(seconds=60),
        )
        with pytest.raises(WorkflowFailureError) as failure:
            await handle.result()
    activity_error = failure.value.cause
    assert isinstance(activity_error, ActivityError)
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    attempts = [
        event.activity_task_started_event_attributes.attempt
        async for event in handle.fetch_history_events()
        if event.HasField('activity_task_started_event_attributes')
    ]
    return cause, attempts


async def test_misuse_in_an_activity_fails_it_as_a_user_error_at_once(plugin_client: Client, task_queue: str) -> None:
    cause, attempts = await _failed_activity(plugin_client, task_queue, 'tool_result')
    assert (cause.type, cause.details, cause.non_retryable) == ('UserError', ('UnserializableError',), True)
    assert re.search(r'could not be encoded as JSON.*unknown type.*Unserializable', cause.message), cause.message
    assert set(attempts) == {1}  # no activity was retried


async def test_a_result_over_the_payload_limit_fails_at_once_naming_the_activity(
    plugin_client: Client, task_queue: str
) -> None:
    """Temporal would refuse the 3 MB result and retry the activity, repeating the model request each time."""
    cause, attempts = await _failed_activity(plugin_client, task_queue, 'oversize_output')
    assert cause.type == 'PayloadTooLargeError'
    assert cause.non_retryable
    assert re.search(r"'misuse_oversize.model_request' is 3,0\d\d,\d\d\d bytes.*max_tokens", cause.message)
    assert attempts == [1]
