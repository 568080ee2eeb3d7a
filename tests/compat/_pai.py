"""What the comparison drivers share: `tests/` and `tests/engines/` on sys.path, and 2.68's deprecation warnings off.

PydanticAI 2.68 deprecates its `DBOSAgent`, `PrefectAgent` and `TemporalAgent` wrappers in favour of capabilities;
users still run them, and these drivers compare them with ours, so their warnings are filtered here.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

for _path in (Path(__file__).parents[1], Path(__file__).parents[1] / 'engines'):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from pydantic_ai import PydanticAIDeprecationWarning  # noqa: E402


def quiet_deprecations() -> None:
    """Filter the deprecation warnings of 2.68's wrappers, in this process."""
    warnings.filterwarnings('ignore', category=PydanticAIDeprecationWarning)
    warnings.filterwarnings('ignore', category=DeprecationWarning, module='pydantic_ai')
    warnings.filterwarnings('ignore', message='.*deprecated.*', category=DeprecationWarning)
