"""Lints the local cloud's Python with pyflakes, each script as the runner runs it: the moto
sidecar is four scripts run as one (`infra/local/src/cloud/mod.rs` joins them in this order), so
each sees the names the scripts before it define, and nothing else.

Usage: python lint.py   (exit 1 with pyflakes' findings, if any)
"""
import ast
import os
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent
# Each list is one program, in the order its scripts run.
PROGRAMS = (
    ("limits_layer.py", "iam_layer.py", "faults_layer.py", "moto_sidecar.py"),
    ("localstripe_sidecar.py",),
    ("sam_roles.py",),
    ("lint.py",),
) + tuple((f"tests/{test.name}",) for test in sorted((HERE / "tests").glob("*.py")))


def top_level_names(path):
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def main():
    listed = {name for program in PROGRAMS for name in program}
    unlisted = sorted(
        str(path.relative_to(HERE)) for path in HERE.rglob("*.py") if str(path.relative_to(HERE)) not in listed
    )
    if unlisted:
        print(f"lint.py does not know how these run: {', '.join(unlisted)}")
        return 1
    failed = False
    for program in PROGRAMS:
        defined = set()
        for name in program:
            env = dict(os.environ, PYFLAKES_BUILTINS=",".join(sorted(defined)))
            result = subprocess.run([sys.executable, "-m", "pyflakes", str(HERE / name)], env=env, check=False)
            failed |= result.returncode != 0
            defined |= top_level_names(HERE / name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
