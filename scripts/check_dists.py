"""Build each package's sdist and wheel, check them, and install each wheel into an empty venv (tox env `build`).

For each of durable-core, durable-temporal, durable-dbos, durable-prefect: `uv build` makes the sdist, then the
wheel from the sdist (so the sdist is checked too); both must carry the package's version; the wheel must hold
`py.typed` and no tests. `twine check --strict` reads every file. Then each wheel (with durable-core's) is installed
into an empty venv at the versions of uv.lock, imported from outside the checkout, and that venv must hold its own
engine only.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / 'dist'
PACKAGES = {
    'durable-core': ('shared', []),
    'durable-temporal': ('packages/durable-temporal', ['temporalio']),
    'durable-dbos': ('packages/durable-dbos', ['dbos']),
    'durable-prefect': ('packages/durable-prefect', ['prefect']),
}
UV = [sys.executable, '-m', 'uv']


def run(*args: str | Path, cwd: Path = ROOT) -> bool:
    """Run a command, its output to ours; whether it succeeded."""
    # twine prints through rich: one line per file, not wrapped at 80 columns.
    env = {**os.environ, 'COLUMNS': '200'}
    return subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, stdin=subprocess.DEVNULL).returncode == 0


def dists(out: Path) -> list[Path]:
    """The wheels and sdists in an output folder (uv build also writes a .gitignore there)."""
    return sorted([*out.glob('*.whl'), *out.glob('*.tar.gz')])


def version_of(package_dir: Path) -> str:
    (version_file,) = package_dir.glob('src/*/version.py')
    namespace: dict[str, object] = {}
    exec(version_file.read_text(), namespace)
    return str(namespace['__version__'])


def build(name: str, package_dir: Path) -> list[str]:
    """Build one package; the problems found."""
    out = DIST / name
    if not run(*UV, 'build', '-q', '--out-dir', out, package_dir):
        return [f'{name}: uv build failed']
    version = version_of(package_dir)
    wheels = sorted(out.glob(f'*-{version}-py3-none-any.whl'))
    sdists = sorted(out.glob(f'*-{version}.tar.gz'))
    print(f'{name}: {", ".join(path.name for path in dists(out))}')
    if not (wheels and sdists):
        return [f'{name}: built files do not carry version {version}']
    names = zipfile.ZipFile(wheels[0]).namelist()
    problems = []
    if not any(member.endswith('/py.typed') for member in names):
        problems.append(f'{wheels[0].name}: no py.typed')
    if any(member.startswith('tests/') for member in names):
        problems.append(f'{wheels[0].name}: tests/ leaked into the wheel')
    if not problems:
        print(f'{wheels[0].name}: {len(names)} files, py.typed ok')
    return problems


def install_and_import(name: str, engines: list[str], locked: Path, work: Path) -> list[str]:
    """Install the wheel (and durable-core's) into an empty venv at the locked versions and import it from there."""
    venv = work / name
    python = venv / 'bin' / 'python'
    wheels = sorted((DIST / 'durable-core').glob('*.whl'))
    if name != 'durable-core':
        wheels += sorted((DIST / name).glob('*.whl'))
    if not (
        run(*UV, 'venv', '-q', '--python', sys.executable, venv)
        and run(*UV, 'pip', 'install', '-q', '--python', python, '--constraint', locked, *wheels)
    ):
        return [f'{name}: wheel install failed']
    module = name.replace('-', '_')
    check = (
        f'import importlib; m = importlib.import_module({module!r}); '
        f"assert 'site-packages' in m.__file__, m.__file__; print({name!r}, m.__version__, 'imports from', m.__file__)"
    )
    problems = []
    if not run(python, '-I', '-c', check, cwd=venv):
        problems.append(f'{name}: import from the wheel failed')
    if not run(python, '-I', ROOT / 'scripts' / 'assert_engines.py', *engines, cwd=venv):
        problems.append(f'{name}: wrong engines in its venv')
    return problems


def main() -> int:
    shutil.rmtree(DIST, ignore_errors=True)
    problems: list[str] = []
    for name, (package_dir, _) in PACKAGES.items():
        problems += build(name, ROOT / package_dir)
    twine = [sys.executable, '-m', 'twine', '--no-color', 'check', '--strict']
    if not problems and not run(*twine, *[path for out in sorted(DIST.iterdir()) for path in dists(out)]):
        problems.append('twine check failed')
    with tempfile.TemporaryDirectory(prefix='durable-wheel-venvs-') as tmp:
        work = Path(tmp)
        locked = work / 'locked.txt'
        if not problems and not run(
            *UV, 'export', '-q', '--frozen', '--all-packages', '--no-hashes', '--no-emit-workspace', '-o', locked
        ):
            problems.append('uv export of the locked versions failed')
        if not problems:
            for name, (_, engines) in PACKAGES.items():
                problems += install_and_import(name, engines, locked, work)
    for problem in problems:
        print(f'!! {problem}')
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
