"""Every command the README shows for the local site works as written after `make run`.

A local command is a line of one of the README's ```sh blocks that starts with `make manage` or
`DJANGO_DEBUG=1 .venv/bin/python manage.py`, with the lines it continues on (a trailing `\\`).
Each runs in a shell from the repository, as a new user would type it, against its own copy of
one SQLite database made the way `make run` makes it (migrate, load_demo,
ensure_local_organiser). The environment holds nothing of the developer's or CI's (DJANGO_DEBUG
from the Makefile, DATABASE_URL from the PostgreSQL step): only what a fresh terminal has.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
LOCAL_COMMAND = re.compile(r"^(make manage\b|DJANGO_DEBUG=1 \.venv/bin/python manage\.py )")
# What a new user reaches for first (issue 17); the README must keep showing each.
REQUIRED = ("copy_programme", "load_demo --as-held", "create_scanner_device", "create_api_token")
REQUIRED_ROSTER = re.compile(r"import_roster \S+ \S+\.csv")


def shell_block_lines(text: str) -> list[str]:
    """The lines of the ```sh blocks, without their indentation."""
    lines, inside = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            inside = not inside and stripped == "```sh"
        elif inside:
            lines.append(stripped)
    return lines


def local_commands(text: str) -> list[str]:
    commands: list[str] = []
    continued = False
    for line in shell_block_lines(text):
        if continued:
            commands[-1] += "\n" + line
        elif LOCAL_COMMAND.match(line):
            commands.append(line)
        else:
            continue
        continued = line.endswith("\\")
    return commands


def command_id(command: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]+", "-", command)[:60].strip("-")


COMMANDS = local_commands(README.read_text(encoding="utf-8"))


def fresh_terminal(var_dir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(var_dir)),
        "LANG": "C.UTF-8",
        "JUBILEUM_VAR_DIR": str(var_dir),
    }


def run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory) -> Path:
    """The var/ folder `make run` leaves behind; made once, copied for each command."""
    var_dir = tmp_path_factory.mktemp("make-run")
    env = {**fresh_terminal(var_dir), "DJANGO_DEBUG": "1"}
    for step in (["migrate", "--no-input"], ["load_demo"], ["ensure_local_organiser"]):
        result = run([sys.executable, "manage.py", *step], env)
        assert result.returncode == 0, result.stdout + result.stderr
    return var_dir


def test_readme_shows_the_local_commands_people_need():
    for needed in REQUIRED:
        assert any(needed in command for command in COMMANDS), needed
    assert any(REQUIRED_ROSTER.search(command) for command in COMMANDS)


def test_readme_runs_manage_py_in_a_shell_only_in_a_form_that_works():
    # `.venv/bin/python manage.py ...` alone stops with "SECRET_KEY is not set"; commands for a
    # server are written `manage.py ...`, to run with the app servers' environment.
    for line in shell_block_lines(README.read_text(encoding="utf-8")):
        if "python manage.py" in line:
            assert LOCAL_COMMAND.match(line), line


@pytest.mark.parametrize("command", COMMANDS, ids=[command_id(c) for c in COMMANDS])
def test_local_command_works_as_written(command, demo_site, tmp_path):
    var_dir = tmp_path / "var"
    shutil.copytree(demo_site, var_dir)
    # `make manage` depends on `install`, which reinstalls into .venv when pyproject.toml is newer
    # than the last install (a fresh checkout beside a shared .venv); a test never installs.
    as_written = re.sub(r"^make ", "make -o .venv/.installed ", command)

    result = run(["bash", "-c", as_written], fresh_terminal(var_dir))

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Traceback" not in output, output


def test_manage_py_without_the_local_environment_says_how_to_run_it(tmp_path):
    result = run(
        [sys.executable, "manage.py", "create_api_token", "organisator"], fresh_terminal(tmp_path)
    )

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert 'make manage cmd="<command> ..."' in result.stderr
    assert "DJANGO_DEBUG=1 .venv/bin/python manage.py" in result.stderr
