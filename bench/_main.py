"""`bench/run`: ours against PydanticAI's `durable_exec`, every figure a ratio measured in the same run.

Each measurement runs in a subprocess (`bench._dbos`: DBOS is a process-wide singleton); within one, ours and the
competitor's runs are interleaved in a shuffled order on the same server and the same agent, so machine noise
hits both alike. Prints a table, writes JSON (default bench/results/latest.json).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from . import _coldstart, _report
from ._stats import median
from ._workload import ALL_VARIANTS, DURABLE_VARIANTS, OURS, PAI_CAPABILITY

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ('overhead', 'throughput', 'growth', 'memory', 'coldstart')

# Sizes of each mode. Default: under 10 minutes on an idle 2-core machine; quick: under 2 (CI keeps it working).
MODES: dict[str, dict[str, Any]] = {
    'default': {
        'overhead': {'shapes': {'A': 2, 'B': 10}, 'rounds': {'A': 30, 'B': 15}, 'warmup': 3},
        'throughput': {'concurrency': [20, 100], 'rounds': {'20': 3, '100': 2}, 'steps': 2},
        'growth': {'steps': [5, 10, 20, 40], 'payload': 2000},
        'memory': {'runs': 100, 'steps': 2, 'reps': 1, 'variants': list(ALL_VARIANTS), 'backends': None},
        'first_run': {'reps': 2, 'variants': list(DURABLE_VARIANTS), 'backends': None},
        'imports': {'reps': 3, 'cases': None},
    },
    'quick': {
        'overhead': {'shapes': {'A': 2, 'B': 10}, 'rounds': {'A': 3, 'B': 2}, 'warmup': 1},
        'throughput': {'concurrency': [20], 'rounds': {'20': 1}, 'steps': 2},
        'growth': {'steps': [5, 10], 'payload': 2000},
        'memory': {'runs': 20, 'steps': 2, 'reps': 1, 'variants': [OURS, PAI_CAPABILITY], 'backends': ['sqlite']},
        'first_run': {'reps': 1, 'variants': [OURS, PAI_CAPABILITY], 'backends': ['sqlite']},
        'imports': {'reps': 1, 'cases': ['durable_dbos', 'pai.dbos']},
    },
}

# Engines whose runs are benchmarked: the module with the tasks (inprocess, memory, first_run, profile). Temporal
# and Prefect are import-timed only so far (coldstart). To add one, write bench/_temporal.py or bench/_prefect.py
# with the tasks of bench/_dbos.py against durable_core.testing's TemporalDevServer / PrefectServer, list it here
# and loop over engines in Bench.run.
RUN_ENGINES = {'dbos': 'bench._dbos'}


class Bench:
    def __init__(self, mode: str, sections: tuple[str, ...], profile: bool, seed: int, work: Path) -> None:
        self.mode = mode
        self.config = MODES[mode]
        self.sections = sections
        self.profile = profile
        self.seed = seed
        self.work = work
        self.rng = random.Random(seed)
        self.errors: dict[str, str] = {}
        self.urls: dict[str, Callable[[str], str]] = {}
        self._counter = 0

    # ---- backends -------------------------------------------------------------------------------------------------

    def fresh_url(self, backend: str, label: str) -> str:
        """A new, empty system database on `backend`."""
        self._counter += 1
        return self.urls[backend](f'bench_{label}_{self._counter}')

    @contextmanager
    def backends(self) -> Iterator[list[str]]:
        """SQLite always; PostgreSQL when its binaries are found (a throw-away cluster for this run)."""
        self.urls['sqlite'] = lambda name: f'sqlite:///{self.work / name}.sqlite'
        available = ['sqlite']
        server: Any = None
        try:
            from durable_core.testing import PostgresServer, ServerStartError

            try:
                server = PostgresServer().start()
            except ServerStartError as error:
                self.errors['postgres'] = f'not measured: {error}'
            else:
                self.urls['postgres'] = server.create_database
                available.append('postgres')
            yield available
        finally:
            if server is not None:
                server.stop()

    # ---- subprocesses ---------------------------------------------------------------------------------------------

    def task(self, task: str, backend: str, url: str, params: dict[str, Any], timeout: float = 1800) -> dict[str, Any]:
        """Run one `bench._dbos` task in a fresh interpreter and return its JSON result."""
        self._counter += 1
        out = self.work / f'{task}_{backend}_{self._counter}.json'
        log = self.work / f'{task}_{backend}_{self._counter}.log'
        cmd = [sys.executable, '-m', RUN_ENGINES['dbos'], task, '--backend', backend, '--url', url, '--out', str(out)]
        cmd += ['--params', json.dumps(params)]
        with log.open('w') as log_file:
            completed = subprocess.run(
                cmd, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        if completed.returncode != 0 or not out.exists():
            tail = '\n'.join(log.read_text(errors='replace').splitlines()[-25:])
            raise RuntimeError(f'{task} on {backend} failed (exit {completed.returncode}):\n{tail}')
        return json.loads(out.read_text())

    def guarded(self, name: str, body: Callable[[], Any]) -> Any:
        """Run a section; a failure is recorded and the other sections still run."""
        start = time.monotonic()
        print(f'-- {name} ...', flush=True)
        try:
            return body()
        except Exception as error:  # the bench reports every section it can
            self.errors[name] = f'{type(error).__name__}: {error}'
            print(f'!! {name} failed: {error}', flush=True)
            return None
        finally:
            print(f'   {name}: {time.monotonic() - start:.0f}s', flush=True)

    # ---- sections -------------------------------------------------------------------------------------------------

    def inprocess(self, backend: str) -> dict[str, Any]:
        sections = ['journal', *(s for s in ('overhead', 'throughput', 'growth') if s in self.sections)]
        params = {
            'variants': list(ALL_VARIANTS),
            'sections': sections,
            'seed': self.seed,
            **{key: self.config[key] for key in ('overhead', 'throughput', 'growth')},
        }
        return self.task('inprocess', backend, self.fresh_url(backend, 'inprocess'), params)

    def per_variant(self, task: str, backends: list[str], cfg: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
        """One subprocess per (variant, backend, repetition); variants shuffled within each repetition."""
        wanted = [b for b in backends if cfg['backends'] is None or b in cfg['backends']]
        out: dict[str, Any] = {backend: {name: [] for name in cfg['variants']} for backend in wanted}
        for _ in range(cfg['reps']):
            for backend in wanted:
                order = list(cfg['variants'])
                self.rng.shuffle(order)
                for name in order:
                    url = self.fresh_url(backend, task)
                    spawned = time.time()
                    result = self.task(task, backend, url, {'variant': name, **extra})
                    result['spawned_at'] = spawned
                    out[backend][name].append(result)
        return out

    def memory(self, backends: list[str]) -> dict[str, Any]:
        cfg = self.config['memory']
        raw = self.per_variant('memory', backends, cfg, {'runs': cfg['runs'], 'steps': cfg['steps']})
        return {
            backend: {
                name: {
                    'runs': cfg['runs'],
                    'per_run_bytes': median([r['per_run_bytes'] for r in results]),
                    'heap_per_run_bytes': median([r['heap_per_run_bytes'] for r in results]),
                    'samples': [
                        {key: r[key] for key in ('per_run_bytes', 'heap_per_run_bytes', 'baseline_rss', 'held_rss')}
                        for r in results
                    ],
                }
                for name, results in variants.items()
            }
            for backend, variants in raw.items()
        }

    def first_run(self, backends: list[str]) -> dict[str, Any]:
        raw = self.per_variant('first_run', backends, self.config['first_run'], {})

        def phases(r: dict[str, Any]) -> dict[str, float]:
            return {
                'total_s': r['done_at'] - r['spawned_at'],
                'python_and_imports_s': r['built_at'] - r['spawned_at'],
                'launch_s': r['launched_at'] - r['built_at'],
                'first_run_s': r['done_at'] - r['launched_at'],
            }

        out: dict[str, Any] = {}
        for backend, variants in raw.items():
            out[backend] = {}
            for name, results in variants.items():
                samples = [phases(r) for r in results]
                out[backend][name] = {key: median([s[key] for s in samples]) for key in samples[0]} | {
                    'samples': samples
                }
        return out

    def imports(self) -> dict[str, Any]:
        cfg = self.config['imports']
        cases = [c for c in _coldstart.CASES if cfg['cases'] is None or c.key in cfg['cases']]
        return _coldstart.measure(cfg['reps'], cases, seed=self.seed)

    def profile_ours(self, backends: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for backend in backends:
            text_out = ROOT / 'bench' / 'results' / f'profile-dbos-{backend}.txt'
            params = {
                'steps': 10,
                'runs': 5 if self.mode == 'quick' else 20,
                'text_out': str(text_out),
                'session_out': str(text_out.with_suffix('.pyisession')),
            }
            out[backend] = self.task('profile', backend, self.fresh_url(backend, 'profile'), params)
            out[backend]['text'] = str(text_out.relative_to(ROOT))
        return out

    def run(self) -> dict[str, Any]:
        results: dict[str, Any] = {}
        with self.backends() as available:
            if {'overhead', 'throughput', 'growth'} & set(self.sections):
                results['inprocess'] = {
                    backend: self.guarded(
                        f'overhead/throughput/growth on {backend}', lambda b=backend: self.inprocess(b)
                    )
                    for backend in available
                }
            if 'memory' in self.sections:
                results['memory'] = self.guarded('memory', lambda: self.memory(available))
            if 'coldstart' in self.sections:
                results['first_run'] = self.guarded('first run', lambda: self.first_run(available))
                results['imports'] = self.guarded('imports', self.imports)
            if self.profile:
                results['profile'] = self.guarded('profile', lambda: self.profile_ours(available))
        return results


def _versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for dist in ('pydantic-ai-slim', 'dbos', 'temporalio', 'prefect', 'durable-core', 'durable-dbos'):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = 'missing'
    return versions


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True, check=False
        )
    except OSError:
        return None
    return out.stdout.strip() or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='bench/run', description=__doc__.splitlines()[0])
    parser.add_argument('--quick', action='store_true', help='small sizes, under 2 minutes (CI)')
    parser.add_argument('--profile', action='store_true', help='also profile our DBOS path with pyinstrument')
    parser.add_argument('--only', default=','.join(SECTIONS), help=f'comma-separated subset of {",".join(SECTIONS)}')
    parser.add_argument('--out', default=str(ROOT / 'bench' / 'results' / 'latest.json'), help='JSON output path')
    parser.add_argument('--seed', type=int, default=0, help='seed of the interleaving order')
    args = parser.parse_args(argv)
    sections = tuple(s for s in args.only.split(',') if s)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f'unknown sections {sorted(unknown)}; choose from {",".join(SECTIONS)}')
    mode = 'quick' if args.quick else 'default'

    load_start = os.getloadavg()
    started = time.time()
    print(f'bench ({mode}): load average at start {_report.load(load_start)} on {os.cpu_count()} CPUs', flush=True)
    (ROOT / 'bench' / 'results').mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix='durable-bench-'))
    try:
        bench = Bench(mode, sections, args.profile, args.seed, work)
        results = bench.run()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()
    meta = {
        'mode': mode,
        'sections': list(sections),
        'started_at': time.strftime('%Y-%m-%dT%H:%M:%S%z', time.localtime(started)),
        'seconds': time.time() - started,
        'load_start': load_start,
        'load_end': load_end,
        'cpus': os.cpu_count(),
        'python': platform.python_version(),
        'platform': platform.platform(),
        'versions': _versions(),
        'git_commit': _git_commit(),
        'config': MODES[mode],
    }
    document = {'meta': meta, 'results': results, 'errors': bench.errors}
    document['summary'] = _report.summarize(document)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(document, indent=1, default=str) + '\n')
    print(_report.render(document), flush=True)
    print(f'JSON: {os.path.relpath(args.out)}', flush=True)
    failed = {name: error for name, error in bench.errors.items() if not error.startswith('not measured')}
    return 1 if failed else 0
