"""What a `DBOSAgent` workflow returns to DBOS, and how DBOS reads it back, in any process that defines the agent.

Journal format of a run's result (part of the durable format: changing it breaks recorded runs):

- With DBOS's default serializer (pickle), the output of the agent's workflow `<agent>.run` is a
  `JournaledRunResult`, which pickles as the call `durable_dbos._journal.rebuild_run_result(agent_name, json_text)`:
  the pickle holds only that import path, the agent's name and the result as durable-core's codec JSON
  (`DurableAgent.encode_result`). No PydanticAI object is pickled.
- Unpickling calls `rebuild_run_result`, which finds the `DBOSAgent` of that name created in the process and
  decodes the JSON with it, so the output comes back as the agent's `output_type`.
- With any other serializer (DBOS's portable JSON), the output is the codec's JSON text itself: DBOS re-serializes
  a result with the app's serializer whenever a handle reads it, and that serializer could not write the pickled
  form. Runs journaled by earlier builds hold that JSON text too; `result_from_journal` reads both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from durable_core import DurableUsageError
from pydantic_ai.agent import AgentRunResult

if TYPE_CHECKING:
    from ._agent import DBOSAgent

__all__ = ['JournaledRunResult', 'rebuild_run_result', 'result_from_journal']


def _agent_named(name: str) -> DBOSAgent[Any, Any] | None:
    """The `DBOSAgent` named `name` in this process (agent names are unique: durable-core refuses a second one)."""
    from ._agent import DBOSAgent

    return cast('DBOSAgent[Any, Any] | None', DBOSAgent.named(name))


class JournaledRunResult(AgentRunResult[Any]):
    """An `AgentRunResult` that DBOS pickles as its agent's name and the codec's JSON of it."""

    _journal_agent_name: str

    def __reduce__(self) -> tuple[Any, tuple[str, str]]:
        """Pickle as `rebuild_run_result(agent_name, json_text)`; the JSON is made once, by the agent's codec.

        DBOS pickles a result more than once (when it records the workflow's output, and again when a handle reads
        it), so the JSON is kept on the result.
        """
        json_text = self.__dict__.get('_journal_json')
        if json_text is None:
            agent = _agent_named(self._journal_agent_name)
            assert agent is not None  # only an agent's own workflow makes a JournaledRunResult
            json_text = self.__dict__['_journal_json'] = agent.encode_result(_retyped(self, AgentRunResult))
        return rebuild_run_result, (self._journal_agent_name, json_text)


def journaled(agent_name: str, result: AgentRunResult[Any]) -> JournaledRunResult:
    """`result` (the same fields) as the `JournaledRunResult` of the agent named `agent_name`."""
    wrapped = _retyped(result, JournaledRunResult)
    wrapped._journal_agent_name = agent_name  # pyright: ignore[reportPrivateUsage]
    return wrapped


def rebuild_run_result(agent_name: str, json_text: str) -> JournaledRunResult:
    """Read back a journaled run result: what unpickling a `JournaledRunResult` calls (a stable import path).

    Raises:
        DurableUsageError: No `DBOSAgent` named `agent_name` was created in this process.
    """
    agent = _agent_named(agent_name)
    if agent is None:
        raise DurableUsageError(
            f'The result of a run of the DBOSAgent {agent_name!r} was read, but no DBOSAgent named {agent_name!r} '
            'exists in this process, so its output type is unknown. Create the DBOSAgent named '
            f'{agent_name!r} at import time in this process (as the worker that runs it does) before reading '
            'its results.'
        )
    return journaled(agent_name, agent.decode_result(json_text))


def result_from_journal(agent_name: str, value: object) -> AgentRunResult[Any]:
    """A run's result as DBOS returned it: live or unpickled (`AgentRunResult`), or JSON text (older runs)."""
    if isinstance(value, AgentRunResult):
        return value  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, str):
        return rebuild_run_result(agent_name, value)
    raise DurableUsageError(
        f'The workflow of the DBOSAgent {agent_name!r} returned a {type(value).__qualname__}, not a run result: '
        'is another workflow registered under its name? Give each workflow a unique name.'
    )


_R = TypeVar('_R', bound=AgentRunResult[Any])


def _retyped(result: AgentRunResult[Any], cls: type[_R]) -> _R:
    # A shallow copy of the result's fields, as another AgentRunResult class (no field is added or lost).
    copy = cls.__new__(cls)
    copy.__dict__.update(result.__dict__)
    copy.__dict__.pop('_journal_agent_name', None)
    copy.__dict__.pop('_journal_json', None)
    return copy
