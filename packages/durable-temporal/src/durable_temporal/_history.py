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
last request had, checked against the digest; on a miss (another worker, or a restarted one), from the workflow's
own history: the run's earlier model-request inputs, as scheduled, rebuild each request's list in turn, and the
digest picks the one referred to. So the design needs no storage of its own, is right with any number of workers
and after any of them dies, needs no workflow worker to answer (a query would replay the workflow, and through the
code of whatever version serves it: after a deploy that changed the instructions, not the messages the request was
scheduled with), and the workflow's code does the same on replay.

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
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from ._converter import RawJson

__all__ = [
    'EarlierMessages',
    'chain_of',
    'earlier_messages_json',
    'forget_run',
    'messages_argument',
    'resolve_messages',
    'sent_prefix',
    'split_json_list',
    'split_messages_argument',
    'start_continued',
]

_EARLIER = b'{"earlier":'
_MESSAGES = b',"messages":'

CACHED_RUNS = 256
"""How many runs' messages one worker process keeps for their next request (least recently used go first)."""
CACHED_BYTES = 64 * 1024 * 1024
"""And at most about this much of their JSON: a long run's conversation can be tens of megabytes."""


def _chain(previous: str, message_json: bytes) -> str:
    return hashlib.sha256(previous.encode() + b'\n' + message_json).hexdigest()


# ---- workflow side -------------------------------------------------------------------------------------------


@dataclass
class _Sent:
    """What one agent run's last model request sent: each message's JSON and the digest chain over them."""

    encoded: list[bytes] = field(default_factory=list[bytes])
    digests: list[str] = field(default_factory=list[str])
    source: dict[str, str] | None = None
    """For the messages a continued workflow run starts with: the request of the workflow run it continued that sent
    them (`{"workflow_run": ..., "run": ...}`); the next request refers to them there."""


_CONTINUED = ''
"""The key of the messages a continued workflow run starts with, until its agent run's first request takes them."""


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
    return sent


def messages_argument(run_id: str | None, messages: Sequence[ModelMessage]) -> RawJson:
    """The messages argument of a model-request activity of run `run_id`, in workflow code."""
    sent = _sent_in_this_workflow() if run_id is not None else None
    if sent is None or run_id is None:
        return RawJson(encode_messages(list(messages)).decode())  # the form before this module
    encoded = [encode(message, ModelMessage) for message in messages]
    previous = sent.get(run_id) or sent.pop(_CONTINUED, None) or _Sent()
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
    reference: dict[str, Any] = {
        'run': run_id,
        'count': common,
        'digest': digests[common - 1] if common else '',
        'sizes': [len(message_json) for message_json in rest],
    }
    if common and previous.source is not None:
        reference['from'] = previous.source
    earlier = json.dumps(reference, separators=(',', ':')).encode()
    return RawJson(b''.join((_EARLIER, earlier, _MESSAGES, b'[', b','.join(rest), b']}')).decode())


def sent_prefix(run_id: str, messages: Sequence[ModelMessage]) -> tuple[list[bytes], list[str]]:
    """The JSON and digests of the first of `messages` that run `run_id`'s last request sent as they are now."""
    sent = _sent_in_this_workflow()
    previous = sent.get(run_id) if sent is not None else None
    if previous is None:
        return [], []
    common: list[bytes] = []
    for old, message in zip(previous.encoded, messages, strict=False):
        if old != encode(message, ModelMessage):
            break
        common.append(old)
    return common, previous.digests[: len(common)]


def chain_of(encoded: Sequence[bytes]) -> list[str]:
    """The digest chain over messages' JSON: `[i]` covers messages `0..i`."""
    digests: list[str] = []
    for message_json in encoded:
        digests.append(_chain(digests[-1] if digests else '', message_json))
    return digests


def start_continued(encoded: list[bytes], digests: list[str], source: dict[str, str]) -> None:
    """In a continued workflow run: its agent run starts with these messages, which `source`'s request sent."""
    sent = _sent_in_this_workflow()
    if sent is not None:
        sent[_CONTINUED] = _Sent(encoded, digests, source)


def forget_run(run_id: str) -> None:
    """Drop what run `run_id` sent, when it ends (in workflow code)."""
    if workflow.in_workflow() and (sent := _sent_in_this_workflow()) is not None:
        sent.pop(run_id, None)


# ---- worker side ---------------------------------------------------------------------------------------------


@dataclass
class _Known:
    messages: list[ModelMessage]
    digests: list[str]
    size: int
    """The bytes of the messages' JSON."""
    encoded: list[bytes] = field(default_factory=list[bytes])
    """Each message's JSON as sent: what a continued workflow run reads back (`earlier_messages_json`)."""

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
    source: tuple[str, str] | None = None
    """Where they were sent, when not by this workflow run: (workflow run id, agent run id) of a request of the
    workflow run this one continued."""

    def key(self, workflow_id: str, workflow_run_id: str) -> tuple[str, str, str]:
        """The cache key of the run whose request sent them, seen from workflow run `workflow_run_id`."""
        return (workflow_id, *(self.source or (workflow_run_id, self.run_id)))


def split_messages_argument(data: str) -> tuple[EarlierMessages | None, list[ModelMessage]]:
    """The reference to earlier messages (`None`: the argument is the whole list) and the messages carried."""
    earlier, carried = _split(data)
    return earlier, [message for message, _ in carried]


def _split(data: str) -> tuple[EarlierMessages | None, list[tuple[ModelMessage, bytes]]]:
    """As `split_messages_argument`, with each carried message's JSON (`b''` for the plain list's)."""
    raw = data.encode()
    if not raw.startswith(_EARLIER):
        return None, [(message, b'') for message in decode_messages(raw)]
    earlier, carried = _split_raw(raw)
    return earlier, [(decode(message_json, ModelMessage), message_json) for message_json in carried]


def split_json_list(raw: bytes, sizes: Sequence[int]) -> list[bytes]:
    """Each element's JSON of the JSON list `raw` starts with, whose elements have these byte sizes."""
    elements: list[bytes] = []
    offset = 1  # after the list's `[`
    for size in sizes:
        elements.append(raw[offset : offset + size])
        offset += size + 1  # and the `,` or `]` after it
    return elements


def _split_raw(raw: bytes) -> tuple[EarlierMessages, list[bytes]]:
    """The reference and each carried message's JSON, of a messages argument in the new form."""
    head, _, rest = raw[len(_EARLIER) :].partition(_MESSAGES)
    reference = json.loads(head)
    source = reference.get('from')
    earlier = EarlierMessages(
        str(reference['run']),
        int(reference['count']),
        str(reference['digest']),
        None if source is None else (str(source['workflow_run']), str(source['run'])),
    )
    sizes = [int(size) for size in reference['sizes']]
    carried = split_json_list(rest, sizes)
    offset = 1 + sum(size + 1 for size in sizes)  # past the last element and the `,` or `]` after it
    if rest[offset - 1 :] != b']}' and not (offset == 1 and rest == b'[]}'):
        raise ValueError('The messages argument of a model request does not match the sizes it gives.')
    return earlier, carried


async def resolve_messages(data: str) -> list[ModelMessage]:
    """The whole message list of a model-request activity from its messages argument, in the activity."""
    earlier, carried = _split(data)
    if earlier is None:
        return [message for message, _ in carried]
    info = activity.info()
    workflow_id, workflow_run_id = info.workflow_id or '', info.workflow_run_id or ''
    known = _KNOWN.get(earlier.key(workflow_id, workflow_run_id))
    before: list[ModelMessage]
    digests: list[str]
    encoded: list[bytes]
    if earlier.count == 0:
        before, digests, encoded, size = [], [], [], 0
    elif known is not None and known.covers(earlier):
        # Copies; a run's requests usually only add to the messages, so the size of the ones kept is about right.
        count = earlier.count
        before, digests, encoded = known.messages[:count], known.digests[:count], known.encoded[:count]
        size = known.size
    else:
        before, digests, encoded = await _read_history(info, earlier)
        size = sum(len(message_json) for message_json in encoded)
    messages = [*before, *(message for message, _ in carried)]
    for _, message_json in carried:
        digests.append(_chain(digests[-1] if digests else '', message_json))
        encoded.append(message_json)
        size += len(message_json)
    # A copy: a model that changes the list it is given must not change what the next request is rebuilt from.
    _remember((workflow_id, workflow_run_id, earlier.run_id), _Known(list(messages), digests, size, encoded))
    return messages


async def earlier_messages_json(workflow_id: str, earlier: EarlierMessages) -> list[bytes]:
    """Each message's JSON, as sent, of the messages `earlier` refers to (its `source` names the workflow run)."""
    assert earlier.source is not None, 'a reference from a continued workflow run names the run it continued'
    cached = _cached(workflow_id, earlier)
    if cached is not None:
        return cached[0]
    encoded, _ = await _rebuild(activity.client(), workflow_id, earlier.source[0], earlier)
    return encoded


def _cached(workflow_id: str, earlier: EarlierMessages) -> tuple[list[bytes], list[str]] | None:
    """The JSON and digests of the messages `earlier` (with a `source`) refers to, if this worker has them."""
    assert earlier.source is not None
    known = _KNOWN.get((workflow_id, *earlier.source))
    if known is None or not known.covers(earlier) or len(known.encoded) < earlier.count:
        return None
    return known.encoded[: earlier.count], known.digests[: earlier.count]


def _remember(key: tuple[str, str, str], known: _Known) -> None:
    _KNOWN[key] = known
    _KNOWN.move_to_end(key)
    total = sum(entry.size for entry in _KNOWN.values())
    while len(_KNOWN) > 1 and (len(_KNOWN) > CACHED_RUNS or total > CACHED_BYTES):
        total -= _KNOWN.popitem(last=False)[1].size


async def _read_history(
    info: activity.Info, earlier: EarlierMessages
) -> tuple[list[ModelMessage], list[str], list[bytes]]:
    """The messages `earlier` refers to, their digests and each one's JSON, rebuilt from the workflow's history."""
    workflow_run_id = earlier.source[0] if earlier.source else info.workflow_run_id or ''
    encoded, digests = await _rebuild(activity.client(), info.workflow_id or '', workflow_run_id, earlier)
    return [decode(message_json, ModelMessage) for message_json in encoded], digests, encoded


async def _rebuild(
    client: Client, workflow_id: str, workflow_run_id: str, earlier: EarlierMessages
) -> tuple[list[bytes], list[str]]:
    """Each message's JSON and the digest chain of the messages `earlier` refers to, from a workflow run's history.

    The run's model-request inputs rebuild each request's list in turn, until one begins with them. A request that
    refers to a request of the workflow run it continued is rebuilt from that run's history first.
    """
    run_id = earlier.source[1] if earlier.source else earlier.run_id
    handle = client.get_workflow_handle(workflow_id, run_id=workflow_run_id)
    codec = client.data_converter.payload_codec
    sent: list[bytes] = []  # each message's JSON, as the run's latest request so far had them
    digests: list[str] = []
    async for event in handle.fetch_history_events():
        if not event.HasField('activity_task_scheduled_event_attributes'):
            continue
        scheduled = event.activity_task_scheduled_event_attributes
        if not scheduled.activity_type.name.endswith('.model_request') or not scheduled.input.payloads:
            continue
        payload = scheduled.input.payloads[0]
        data = (await codec.decode([payload]))[0].data if codec is not None else payload.data
        if not data.startswith(_EARLIER):
            continue  # a request of the previous release: the whole list, of no run it names
        reference, carried = _split_raw(data)
        if reference.run_id != run_id:
            continue
        if reference.source is not None:  # the first request of a continued run: its earlier messages are there
            sent, digests = _cached(workflow_id, reference) or await _rebuild(
                client, workflow_id, reference.source[0], reference
            )
        elif reference.count > len(sent):
            continue
        del sent[reference.count :], digests[reference.count :]
        for message_json in carried:
            sent.append(message_json)
            digests.append(_chain(digests[-1] if digests else '', message_json))
        if len(digests) >= earlier.count and digests[earlier.count - 1] == earlier.digest:
            return sent[: earlier.count], digests[: earlier.count]
    raise ApplicationError(
        f'The workflow history has no model request of the agent run {run_id!r} whose messages this request refers to.',
        type='StaleModelRequestError',
        non_retryable=True,
    )
