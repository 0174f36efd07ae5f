"""The documentation tells the truth about the command line.

- Every ``ragops`` command in a bash block of ``README.md`` or ``docs/`` parses against the
  real CLI: the command exists, its options exist, its arguments have the right types.
- The command table of ``docs/cli.md`` lists every command, and every option it names exists.
- The commands of ``docs/quickstart.md`` ("Your own project") and of ``docs/cli.md``'s session
  run as written, in real processes of the installed ``ragops`` script, from a fresh project
  (``ragops init``): each exits 0, or with the status its ``# exits N`` comment documents.

So docs and behaviour cannot drift apart without a test failing.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer.main

from ragops.cli import app
from tests.openai_stub import OpenAIStub, openai_stub  # noqa: F401 (fixture)

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted((REPO / "docs").glob("*.md")) + [REPO / "README.md"]
EXPECTED_STATUS = re.compile(r"#.*\bexits (\d+)\b")
#: Lines of a documented block that set up the shell rather than call ragops: the test gives
#: the same effect (``ragops`` on PATH) itself.
SETUP_LINES = ("source .venv/bin/activate",)
#: ``make`` targets run the repository's own setup and suite: CI runs them, not this test.
NOT_RUN = ("make ",)


def bash_blocks(path: Path) -> list[list[str]]:
    """The lines of each fenced ``bash`` block in ``path``."""
    blocks, current = [], None
    for line in path.read_text(encoding="utf-8").splitlines():
        if current is None and line.strip() == "```bash":
            current = []
        elif current is not None and line.strip() == "```":
            blocks.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def section_block(path: Path, heading: str) -> list[str]:
    """The first bash block under the heading ``heading`` of ``path``."""
    text = path.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + len(heading) + 2)
    section = text[start : end if end != -1 else None]
    match = re.search(r"```bash\n(.*?)\n```", section, re.S)
    assert match, f"{path.name}: no bash block under {heading!r}"
    return match.group(1).splitlines()


def ragops_calls(line: str) -> list[list[str]]:
    """The argument lists of each ``ragops`` call in a shell line (``a && b`` included)."""
    calls = []
    for part in re.split(r"&&|\|\||;|\|", line.split(" #", 1)[0]):
        words = shlex.split(part, comments=True)
        if words and Path(words[0]).name == "ragops":
            calls.append(words[1:])
    return calls


# -- every documented command parses ---------------------------------------------------------


def resolve(args: list[str]) -> tuple[Any, list[str], str]:
    """The Click command ``args`` name, the arguments left for it, and its path."""
    command: Any = typer.main.get_command(app)
    path = ["ragops"]
    while args and args[0] in ("--config", "-c"):
        args = args[2:]
    while hasattr(command, "commands") and args:
        sub = command.get_command(None, args[0])
        assert sub is not None, f"no command `{' '.join([*path, args[0]])}`"
        command, path, args = sub, [*path, args[0]], args[1:]
    return command, args, " ".join(path)


def documented_lines() -> list[tuple[str, str]]:
    lines = []
    for path in DOCS:
        for block in bash_blocks(path):
            for line in block:
                if EXPECTED_STATUS.search(line):
                    continue  # documented to fail (a usage error among them)
                lines += [(path.name, line)] * bool(ragops_calls(line))
    return lines


@pytest.mark.parametrize(("page", "line"), documented_lines())
def test_every_documented_command_parses(page: str, line: str) -> None:
    for args in ragops_calls(line):
        command, rest, path = resolve(args)
        try:
            command.make_context(path, list(rest))
        except Exception as exc:  # Click's UsageError and BadParameter, vendored by Typer
            pytest.fail(f"{page}: `{line.strip()}` does not parse: {exc}")


def test_the_command_table_lists_every_command_with_real_options() -> None:
    table = [
        line.split("|")[1].strip().strip("`")
        for line in (REPO / "docs" / "cli.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `ragops ")
    ]
    listed = set()
    groups = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for row in table:
        words = row.split()
        if hasattr(groups[words[1]], "commands"):  # `ragops prompts list / show / ...`
            for name in row.split(words[1], 1)[1].split("/"):
                listed.add(f"ragops {words[1]} {name.strip().split()[0]}")
            continue
        command, _, path = resolve(words[1:2])
        listed.add(path)
        options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
        for option in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", row):
            assert option in options, f"docs/cli.md: `{path}` has no option {option}"

    def commands(command: Any, path: str) -> list[str]:
        if not hasattr(command, "commands"):
            return [path]
        return [
            found
            for name in command.list_commands(None)
            for found in commands(command.get_command(None, name), f"{path} {name}")
        ]

    missing = sorted(set(commands(typer.main.get_command(app), "ragops")) - listed)
    assert not missing, f"docs/cli.md's table does not list {missing}"


# -- the documented sessions run ---------------------------------------------------------------


def script_of(lines: list[str], after_first: str = "") -> str:
    """A bash script that runs ``lines`` one by one and checks each one's exit status."""
    steps = ["set -u"]
    for number, line in enumerate(lines):
        command = line.split(" #", 1)[0].strip()
        if not command or command.startswith(SETUP_LINES) or command.startswith(NOT_RUN):
            continue
        expected = EXPECTED_STATUS.search(line)
        status = int(expected.group(1)) if expected else 0
        quoted = shlex.quote(command)
        steps += [
            f"echo '$ '{quoted} >&2",
            command,
            f'status=$?; if [ $status -ne {status} ]; then echo "docs command failed: "{quoted}'
            f'" exited $status, the docs say {status}" >&2; exit 1; fi',
        ]
        if number == 0 and after_first:
            steps.append(after_first)
    return "\n".join(steps) + "\n"


def run_script(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "ragops").is_file(), "the ragops script is installed beside this Python"
    env = {**os.environ, "HOME": str(cwd), "PATH": f"{bin_dir}:/usr/bin:/bin"}
    env.pop("RAGOPS_CONFIG", None)
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


@pytest.mark.slow
def test_the_quickstart_runs_as_written(tmp_path: Path) -> None:
    lines = section_block(REPO / "docs" / "quickstart.md", "## Your own project")
    assert any("ragops init" in line for line in lines)
    result = run_script(script_of(lines), tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    assert "promoted version 1 to production" in result.stdout
    assert "welcome.md" in result.stdout.split("how do I add documents?")[-1]


@pytest.mark.slow
def test_the_cli_session_runs_as_written(tmp_path: Path, openai_stub: OpenAIStub) -> None:  # noqa: F811
    lines = section_block(REPO / "docs" / "cli.md", "## A session, from a new project")
    assert lines[0].startswith("ragops init "), "the session starts from a new project"
    # The one boundary faked: `ragops ask` talks to an OpenAI-protocol server on loopback.
    openai_stub.default = "Put the files in docs/ and run ragops run."
    llm = f"printf 'llm: {{base_url: \"{openai_stub.base_url}\", model: stub}}\\n' >> ragops.yaml"
    result = run_script(script_of(lines, after_first=llm), tmp_path)
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout
    assert "Put the files in docs/ and run ragops run." in out, "ask printed the LLM's answer"
    assert "production already at version 2; nothing recorded" in out
    assert "production rolled back from version 2 to 1" in out
    assert "restored docs version 2 as version 3" in out
    assert "error: Missing argument 'INDEX'" in result.stderr
    assert len(openai_stub.requests) == 1 and "welcome.md" in openai_stub.requests[0].prompt
