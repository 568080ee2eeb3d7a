"""Where the time of our runs goes, from a pyinstrument session.

Every sampled moment is charged to the innermost frame of ours (durable_core, durable_<engine>), the engine's SDK
or PydanticAI on its stack: the code that asked for that work. So serialization we call (pydantic TypeAdapters) is
charged to the function of ours that called it; a DBOS step's database write to DBOS, the agent graph to PydanticAI.
"""

from __future__ import annotations

from typing import Any

OWNERS = {
    'ours': ('/durable_core/', '/durable_dbos/', '/durable_temporal/', '/durable_prefect/'),
    'dbos': ('/dbos/',),
    'temporal': ('/temporalio/',),
    'prefect': ('/prefect/',),
    'pydantic_ai': ('/pydantic_ai/', '/pydantic_graph/'),
    # The event loop waiting in select(): for DBOS's database calls in threads, SQLite's fsync, Temporal's server
    # round trips and the like.
    'idle event loop': ('/selectors.py',),
}


IDLE = ('idle event loop', 'idle worker thread')


def _owner(file_path: str | None, frame: Any = None) -> str | None:
    if frame is not None and f'{frame.class_name}.{frame.function}'.endswith('SimpleQueue.get'):
        return 'idle worker thread'  # a thread pool's thread waiting for work (Temporal's workflow activations)
    if not file_path:
        return None
    for owner, markers in OWNERS.items():
        if any(marker in file_path for marker in markers):
            return owner
    return None


def _location(frame: Any) -> str:
    path: str = frame.file_path or '?'
    for marker in ('/src/', 'site-packages/'):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            break
    name = f'{frame.class_name}.{frame.function}' if frame.class_name else frame.function
    return f'{path}:{frame.line_no} {name}'


def our_hot_spots(session: Any, top: int = 12) -> dict[str, Any]:
    """Share of time per owner, and the functions of ours charged the most time."""
    root = session.root_frame()
    total = float(root.time) if root is not None else 0.0
    by_owner: dict[str, float] = {}
    by_function: dict[str, float] = {}
    inclusive: dict[str, float] = {}

    def walk(frame: Any, owner: str, our_frame: Any | None, our_stack: frozenset[str]) -> None:
        frame_owner = _owner(frame.file_path, frame)
        if frame_owner is not None:
            owner = frame_owner
            if frame_owner == 'ours':
                our_frame = frame
                location = _location(frame)
                if location not in our_stack:  # recursion: count a function's inclusive time once
                    inclusive[location] = inclusive.get(location, 0.0) + float(frame.time)
                    our_stack = our_stack | {location}
        # Own time: what the children do not account for (synthetic [self]/[await] children are leaves).
        self_time = float(frame.time) - sum(float(child.time) for child in frame.children)
        by_owner[owner] = by_owner.get(owner, 0.0) + self_time
        if owner == 'ours' and our_frame is not None:
            location = _location(our_frame)
            by_function[location] = by_function.get(location, 0.0) + self_time
        for child in frame.children:
            walk(child, owner, our_frame if owner == 'ours' else None, our_stack)

    if root is not None:
        walk(root, 'other', None, frozenset())

    def share(seconds: float) -> float:
        return seconds / total if total else 0.0

    busy = total - sum(seconds for owner, seconds in by_owner.items() if owner in IDLE)

    return {
        'total_s': total,
        'share_by_owner': {owner: share(seconds) for owner, seconds in sorted(by_owner.items(), key=lambda i: -i[1])},
        'busy_s': busy,
        # Shares of the time some thread was not idle: what the work is made of.
        'busy_share_by_owner': {
            owner: seconds / busy if busy else 0.0
            for owner, seconds in sorted(by_owner.items(), key=lambda i: -i[1])
            if owner not in IDLE
        },
        'ours_own_time': [
            {'where': where, 'seconds': seconds, 'share': share(seconds), 'busy_share': seconds / busy if busy else 0.0}
            for where, seconds in sorted(by_function.items(), key=lambda i: -i[1])[:top]
        ],
        'ours_inclusive_time': [
            {'where': where, 'seconds': seconds, 'share': share(seconds), 'busy_share': seconds / busy if busy else 0.0}
            for where, seconds in sorted(inclusive.items(), key=lambda i: -i[1])[:top]
        ],
    }
