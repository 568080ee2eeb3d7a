"""Linear workflow history: a model-request activity carries only the messages its run has not sent before.

Without this, each model request of a run carries the whole conversation, so a workflow's history grows as the
square of its steps and a long run reaches the server's history limit (50 MB) after a few hundred tool calls.

Workflow side (`messages_argument`): per agent run, the workflow keeps the JSON of each message it last sent and a
digest chain over them (`digests[i]` covers messages `0..i`). A request whose messages begin with ones already sent
carries only the rest, after a reference to the earlier ones (their count and digest) and the byte size of each
message it carries: `{"earlier":{"run":RUN_ID,"count":N,"digest":HEX,"sizes":[...]},"messages":[...the others...]}`
(the first request of a run: count 0, digest ""). Each carried message is its own codec JSON, byte for byte what the
workflow hashed, so the worker's digests are the workflow's. Without a run id (none in workflow code), a request
carries the plain list, as every request did before this module.

Worker side (`resolve_messages`): the earlier messages come from a per-process cache of the messages each run's
last request had, checked against the digest; on a miss (another worker, or a restarted one), from the workflow
itself, by the query `QUERY`, which returns the JSON the workflow kept (in answers of about 1 MB, under the
server's 2 MB limit). So the design needs no storage of its own,
is right with any number of workers and after any of them dies, and the workflow's code does the same on replay.

Old histories replay unchanged: the activity's name, argument count and scheduling are as before; only what the
messages argument holds differs, and Temporal does not compare arguments on replay. A worker of this version
serves requests written by the previous one (a plain list) as before; a worker of the previous version cannot
read the new form and fails the attempt (retried, until a worker of this version takes it), never reading a
part of the messages as the whole.
"""

from __future__ import annotations

import hashlib
import json
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from durable_core import decode, decode_messages, encode, encode_messages
from pydantic_ai.messages import ModelMessage
from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

from ._converter import RawJson

__all__ = ['QUERY', 'EarlierMessages', 'forget_run', 'messages_argument', 'resolve_messages', 'split_messages_argument']

QUERY = 'durable_agents.model_messages'
"""The workflow query that returns the JSON of the first messages a run sent, a part at a time (argument:
`{"run", "count", "digest", "start"}`; result: `{"messages": [each message's JSON, as text], "end": index}`)."""

_ANSWER_BYTES = 1024 * 1024
"""About how much message JSON one query answer holds (at least one message): the server caps a payload at 2 MB."""

_EARLIER = b'{"earlier":'
_MESSAGES = b',"messages":'

CACHED_RUNS = 256
"""How many runs' messages one worker process keeps for their next request (least recently used go first)."""


def _chain(previous: str, message_json: bytes) -> str:
    return hashlib.sha256(previous.encode() + b'\n' + message_json).hexdigest()


# ---- workflow side -------------------------------------------------------------------------------------------


@dataclass
class _Sent:
    """What one agent run's last model request sent: each message's JSON and the digest chain over them."""

    encoded: list[bytes] = field(default_factory=list[bytes])
    digests: list[str] = field(default_factory=list[str])


_SENT_BY_WORKFLOW: weakref.WeakKeyDictionary[Any, dict[str, _Sent]] = weakref.WeakKeyDictionary()
"""Per workflow instance (so it goes with the instance when the worker evicts it), per agent run id."""


def _sent_in_this_workflow() -> dict[str, _Sent] | None:
    instance = workflow.instance()
    try:
        sent = _SENT_BY_WORKFLOW.get(instance)
    except TypeError:  # a workflow class with __slots__ and no __weakref__: send whole histories
        return None
    if sent is None:
        sent = _SENT_BY_WORKFLOW[instance] = {}
        workflow.set_query_handler(QUERY, _answer_query)  # pyright: ignore[reportUnknownMemberType]
    return sent


def messages_argument(run_id: str | None, messages: Sequence[ModelMessage]) -> RawJson:
    """The messages argument of a model-request activity of run `run_id`, in workflow code."""
    sent = _sent_in_this_workflow() if run_id is not None else None
    if sent is None or run_id is None:
        return RawJson(encode_messages(list(messages)).decode())  # the form before this module
    encoded = [encode(message, ModelMessage) for message in messages]
    previous = sent.get(run_id) or _Sent()
    # Earlier requests' messages are usually the start of this one's; a history processor may change any of them.
    common = 0
    for old, new in zip(previous.encoded, encoded, strict=False):
        if old != new:
            break
        common += 1
    digests = previous.digests[:common]
    for message_json in encoded[common:]:
        digests.append(_chain(digests[-1] if digests else '', message_json))
    sent[run_id] = _Sent(encoded, digests)
    rest = encoded[common:]
    reference = {
        'run': run_id,
        'count': common,
        'digest': digests[common - 1] if common else '',
        'sizes': [len(message_json) for message_json in rest],
    }
    earlier = json.dumps(reference, separators=(',', ':')).encode()
    return RawJson(b''.join((_EARLIER, earlier, _MESSAGES, b'[', b','.join(rest), b']}')).decode())


def forget_run(run_id: str) -> None:
    """Drop what run `run_id` sent, when it ends (in workflow code)."""
    if workflow.in_workflow() and (sent := _sent_in_this_workflow()) is not None:
        sent.pop(run_id, None)


def _answer_query(request: RawJson) -> RawJson:
    wanted = json.loads(str(request))
    run_id, count, digest = str(wanted['run']), int(wanted['count']), str(wanted['digest'])
    start = int(wanted.get('start', 0))
    sent = _SENT_BY_WORKFLOW.get(workflow.instance(), {}).get(run_id)
    if sent is None or not 0 <= start < count <= len(sent.digests) or sent.digests[count - 1] != digest:
        # The run has moved past the request asking (it can only be a stale attempt): nothing to hand back.
        raise ApplicationError(
            f'The workflow no longer has the first {count} messages of the agent run {run_id!r} that a model request '
            'asked for.',
            type='StaleModelRequestError',
            non_retryable=True,
        )
    texts: list[str] = []
    size = 0
    end = start
    while end < count and (not texts or size + len(sent.encoded[end]) <= _ANSWER_BYTES):
        texts.append(sent.encoded[end].decode())
        size += len(sent.encoded[end])
        end += 1
    return RawJson(json.dumps({'messages': texts, 'end': end}))


# ---- worker side ---------------------------------------------------------------------------------------------


@dataclass
class _Known:
    messages: list[ModelMessage]
    digests: list[str]

    def covers(self, earlier: EarlierMessages) -> bool:
        """Whether these messages begin with the ones `earlier` refers to."""
        return len(self.digests) >= earlier.count and self.digests[earlier.count - 1] == earlier.digest


_KNOWN: OrderedDict[tuple[str, str, str], _Known] = OrderedDict()
"""Each run's messages as its last request had them, by (workflow id, workflow run id, agent run id)."""


@dataclass(frozen=True)
class EarlierMessages:
    """The reference a model request's messages argument makes to the messages its run sent before."""

    run_id: str
    """The agent run's id."""
    count: int
    """How many messages come before the ones the argument carries."""
    digest: str
    """The digest chain's value over them (`""` when there are none)."""


def split_messages_argument(data: str) -> tuple[EarlierMessages | None, list[ModelMessage]]:
    """The reference to earlier messages (`None`: the argument is the whole list) and the messages carried."""
    earlier, carried = _split(data)
    return earlier, [message for message, _ in carried]


def _split(data: str) -> tuple[EarlierMessages | None, list[tuple[ModelMessage, bytes]]]:
    """As `split_messages_argument`, with each carried message's JSON (`b''` for the plain list's)."""
    raw = data.encode()
    if not raw.startswith(_EARLIER):
        return None, [(message, b'') for message in decode_messages(raw)]
    head, _, rest = raw[len(_EARLIER) :].partition(_MESSAGES)
    reference = json.loads(head)
    earlier = EarlierMessages(str(reference['run']), int(reference['count']), str(reference['digest']))
    carried: list[tuple[ModelMessage, bytes]] = []
    offset = 1  # after the list's `[`
    for size in reference['sizes']:
        message_json = rest[offset : offset + int(size)]
        carried.append((decode(message_json, ModelMessage), message_json))
        offset += int(size) + 1  # and the `,` or `]` after it
    if rest[offset - 1 :] != b']}' and not (offset == 1 and rest == b'[]}'):
        raise ValueError('The messages argument of a model request does not match the sizes it gives.')
    return earlier, carried


async def resolve_messages(data: str) -> list[ModelMessage]:
    """The whole message list of a model-request activity from its messages argument, in the activity."""
    earlier, carried = _split(data)
    if earlier is None:
        return [message for message, _ in carried]
    info = activity.info()
    key = (info.workflow_id or '', info.workflow_run_id or '', earlier.run_id)
    known = _KNOWN.get(key)
    before: list[ModelMessage]
    digests: list[str]
    if earlier.count == 0:
        before, digests = [], []
    elif known is not None and known.covers(earlier):
        before, digests = known.messages[: earlier.count], known.digests[: earlier.count]  # copies
    else:
        before, digests = await _ask_workflow(info, earlier)
    messages = [*before, *(message for message, _ in carried)]
    for _, message_json in carried:
        digests.append(_chain(digests[-1] if digests else '', message_json))
    # A copy: a model that changes the list it is given must not change what the next request is rebuilt from.
    _remember(key, list(messages), digests)
    return messages


def _remember(key: tuple[str, str, str], messages: list[ModelMessage], digests: list[str]) -> None:
    _KNOWN[key] = _Known(messages, digests)
    _KNOWN.move_to_end(key)
    while len(_KNOWN) > CACHED_RUNS:
        _KNOWN.popitem(last=False)


async def _ask_workflow(info: activity.Info, earlier: EarlierMessages) -> tuple[list[ModelMessage], list[str]]:
    handle = activity.client().get_workflow_handle(info.workflow_id or '', run_id=info.workflow_run_id)
    digests: list[str] = []
    messages: list[ModelMessage] = []
    while len(messages) < earlier.count:
        request = {'run': earlier.run_id, 'count': earlier.count, 'digest': earlier.digest, 'start': len(messages)}
        answer = json.loads(str(await handle.query(QUERY, RawJson(json.dumps(request)), result_type=RawJson)))
        texts: list[str] = answer['messages']
        if not texts:
            break
        for text in texts:
            message_json = text.encode()
            digests.append(_chain(digests[-1] if digests else '', message_json))
            messages.append(decode(message_json, ModelMessage))
    if len(messages) != earlier.count or digests[-1] != earlier.digest:
        raise ApplicationError(
            f'The workflow answered a model request of the agent run {earlier.run_id!r} with messages that do not '
            'match the ones the request refers to.',
            type='StaleModelRequestError',
            non_retryable=True,
        )
    return messages, digests
