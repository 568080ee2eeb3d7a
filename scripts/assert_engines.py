"""Check that this environment can import exactly the engines named (each package is tested in isolation).

Usage: python scripts/assert_engines.py [ENGINE...]   (ENGINE: temporalio, dbos, prefect; none: no engine at all)
"""

import importlib.util
import sys

ENGINES = ('temporalio', 'dbos', 'prefect')


def main(allowed: list[str]) -> int:
    unknown = sorted(set(allowed) - set(ENGINES))
    if unknown:
        print(f'unknown engine(s) {unknown}: choose from {list(ENGINES)}')
        return 2
    present = {engine for engine in ENGINES if importlib.util.find_spec(engine) is not None}
    missing = sorted(set(allowed) - present)
    extra = sorted(present - set(allowed))
    for engine in missing:
        print(f'!! {sys.prefix}: engine {engine} missing')
    for engine in extra:
        print(f'!! {sys.prefix}: engine {engine} must not be installed here')
    if missing or extra:
        return 1
    print(f'engines ok: {", ".join(sorted(present)) or "none"}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
