"""Build the sdist and the wheel, and check them as PyPI and a user will see them.

    python .ci/check_dist.py [OUTDIR]      (tox -e static; OUTDIR defaults to a temporary folder)

1. ``python -m build``: the sdist, then the wheel built from it (what a user gets from PyPI); its isolated
   build environments made by uv where it is installed (tox -e static: two thirds of the check's time was
   pip making them), by pip elsewhere (release.yml).
2. ``twine check --strict``: the metadata and the README render as PyPI requires.
3. ``check-wheel-contents``: no stray top-level modules, no duplicates, no empty or missing packages.
4. Every classifier is one PyPI knows (trove-classifiers): PyPI rejects the upload else.
5. The sdist holds the packages, pyproject.toml, README.md, LICENSE and the build's own files, and nothing
   else (MANIFEST.in leaves the test suites out: they need the whole repository).
6. Both carry the LICENSE file.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
#: What the sdist's top folder may hold: the packages and what the build reads or writes.
SDIST_TOP = {
    "chat",
    "bots",
    "chat_testing",
    "chat_classic.egg-info",
    "pyproject.toml",
    "README.md",
    "LICENSE",
    "MANIFEST.in",
    "PKG-INFO",
    "setup.cfg",
}


class CheckFailed(Exception):
    """A build or check command failed; it has printed why."""


def run(*argv: str) -> None:
    print("+", " ".join(argv), flush=True)
    if subprocess.run(argv, check=False).returncode != 0:
        raise CheckFailed(f"{' '.join(argv)} failed")


def classifier_problems(wheel: Path) -> list[str]:
    """The wheel's classifiers (its METADATA, what PyPI reads) that PyPI does not know."""
    from trove_classifiers import classifiers as known  # only here: the checks' own dependency

    with zipfile.ZipFile(wheel) as whl:
        metadata = next(name for name in whl.namelist() if name.endswith(".dist-info/METADATA"))
        lines = whl.read(metadata).decode("utf-8").splitlines()
    listed = [line.removeprefix("Classifier: ") for line in lines if line.startswith("Classifier: ")]
    return [f"{wheel.name}: {c!r} is not a classifier PyPI accepts" for c in listed if c not in known]


def sdist_problems(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as tar:
        names = [name.split("/", 1)[1] for name in tar.getnames() if "/" in name]
    tops = {name.split("/", 1)[0] for name in names}
    problems = [
        f"{sdist.name} holds {top}, which is not part of the package" for top in sorted(tops - SDIST_TOP)
    ]
    if "LICENSE" not in names:
        problems.append(f"{sdist.name} lacks LICENSE")
    return problems


def wheel_problems(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as whl:
        if not any(name.endswith(".dist-info/licenses/LICENSE") for name in whl.namelist()):
            return [f"{wheel.name} lacks .dist-info/licenses/LICENSE"]
    return []


def main(argv: list[str]) -> int:
    with tempfile.TemporaryDirectory(prefix="chat-dist-") as tmp:
        out = Path(argv[0]) if argv else Path(tmp)
        installer = ["--installer=uv"] if importlib.util.find_spec("uv") else []
        run(sys.executable, "-m", "build", *installer, "--outdir", str(out), str(REPO))
        sdists, wheels = sorted(out.glob("*.tar.gz")), sorted(out.glob("*.whl"))
        if len(sdists) != 1 or len(wheels) != 1:
            print(f"check_dist: expected one sdist and one wheel in {out}", file=sys.stderr)
            return 1
        run(sys.executable, "-m", "twine", "check", "--strict", str(sdists[0]), str(wheels[0]))
        run("check-wheel-contents", str(wheels[0]))
        problems = classifier_problems(wheels[0]) + sdist_problems(sdists[0]) + wheel_problems(wheels[0])
        for problem in problems:
            print(f"check_dist: {problem}", file=sys.stderr)
        if not problems:
            print(f"check_dist: {sdists[0].name} and {wheels[0].name} are ready for PyPI")
        return 1 if problems else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except CheckFailed as exc:
        sys.exit(f"check_dist: {exc}")
