"""Every fenced code block of README.md and docs/*.md runs as written.

- ```python blocks run in order, in one namespace per file, in a temporary directory (one per
  file, shared with its command blocks). Where a top-level ``print(...)`` has a comment, its
  output must begin that comment (``print(len(x))  # 3``).
- ```bash and ```console blocks: every command (a line of a bash block, a ``$ `` line of a
  console block; ``&&`` separates commands) that starts with ``fastgrad`` runs through the CLI
  (``python -m fastgrad``) and must exit 0. Installing (``pip install``) and the developer's
  commands (``python -m pytest``, ``python bench/...``) are shown, not run; any other command
  fails the test, so that nothing documented goes unrun by accident. Other lines of a console
  block are output.
- Other languages (``text``) are output and are not run, except a ``text`` block whose first
  line is ``$ fastgrad ... --help``: the rest must be that command's help, as it prints now.
- An HTML comment on the line before a block marks it: ``<!-- slow -->`` (minutes, or a Dask
  cluster: run only in the slow tier), ``<!-- file: NAME -->`` (written to NAME in the
  temporary directory, for the blocks after it, instead of run).
- ``<!-- generated: COMMAND -->`` ... ``<!-- end generated -->`` holds what COMMAND (run from
  the repository root) prints, byte for byte.

``python tests/test_docs.py`` rewrites the help blocks and generated sections from the code.
"""
import ast
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```(\S*)\s*$")
MARK = re.compile(r"^<!--\s*(.*?)\s*-->\s*$")
GENERATED = re.compile(r"(<!-- generated: (.*?) -->\n)(.*?)(<!-- end generated -->)", re.S)
NOT_RUN = ("python -m pip install", "pip install", "python -m pytest", "python bench/")


@dataclass
class Block:
    path: Path
    line: int          # 1-based line of the opening fence
    language: str
    text: str
    slow: bool
    file: str | None   # write the block to this file instead of running it


def blocks(path):
    """The fenced blocks of a Markdown file, with the marks of the comment before each."""
    found, lines, i = [], path.read_text().splitlines(), 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        end = next((j for j in range(i + 1, len(lines)) if lines[j].rstrip() == "```"), None)
        assert end is not None, f"{path.name}:{i + 1}: a code fence that is never closed"
        mark = MARK.match(lines[i - 1]) if i else None
        words = mark.group(1) if mark else ""
        name = re.search(r"file:\s*(\S+)", words)
        found.append(Block(path, i + 1, fence.group(1), "\n".join(lines[i + 1:end]) + "\n",
                           "slow" in words.split(), name.group(1) if name else None))
        i = end + 1
    return found


def commands(block):
    """The commands of a bash or console block, each a list of words."""
    lines = block.text.splitlines()
    if block.language == "console":
        lines = [line[2:] for line in lines if line.startswith("$ ")]
    out = []
    for line in lines:
        for part in line.split("&&"):
            words = shlex.split(part, comments=True)
            if words:
                out.append(words)
    return out


def cli_env():
    """The environment of a CLI run: this checkout first on the path, a fixed help width."""
    env = dict(os.environ, COLUMNS="80")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def run_cli(words, cwd):
    """Run ``fastgrad WORDS...`` through ``python -m fastgrad``; the completed process."""
    return subprocess.run([sys.executable, "-m", "fastgrad", *words[1:]], cwd=cwd, env=cli_env(),
                          capture_output=True, text=True, timeout=900)


def help_text(words):
    """What ``fastgrad ... --help`` prints, named as the console script names itself."""
    done = run_cli(words, ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.replace("Usage: python -m fastgrad", "Usage: fastgrad")


def run_command(words, block, cwd):
    where = f"{block.path.name}:{block.line}: {shlex.join(words)}"
    if words[0] == "fastgrad":
        done = run_cli(words, cwd)
        assert done.returncode == 0, f"{where} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    else:
        assert shlex.join(words).startswith(NOT_RUN), f"{where}: not a command the docs test runs or skips"


def expected_prints(source):
    """The comment after each top-level ``print(...)`` of ``source`` (None where there is none)."""
    comments = {tok.start[0]: tok.string[1:].strip()
                for tok in tokenize.generate_tokens(io.StringIO(source).readline) if tok.type == tokenize.COMMENT}
    return [comments.get(node.end_lineno) for node in ast.parse(source).body
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and getattr(node.value.func, "id", None) == "print"]


def check_printed(block, lines):
    """Each top-level print's output line must begin its comment, as in ``print(x)  # 3.0``."""
    expected = expected_prints(block.text)
    if not any(expected):
        return
    where = f"{block.path.name}:{block.line}"
    assert len(lines) == len(expected), f"{where}: {len(expected)} prints gave {len(lines)} lines: {lines}"
    for line, comment in zip(lines, expected):
        assert comment is None or comment.startswith(line.strip()), \
            f"{where}: printed {line!r}, the comment says {comment!r}"


def run_block(block, namespace, cwd):
    if block.file is not None:
        (cwd / block.file).write_text(block.text)
    elif block.language == "python":
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block.text, f"{block.path.name}:{block.line}", "exec"), namespace)
        check_printed(block, printed.getvalue().splitlines())
    elif block.language in ("bash", "console"):
        for words in commands(block):
            run_command(words, block, cwd)
    elif block.text.startswith("$ fastgrad") and block.text.split("\n", 1)[0].endswith("--help"):
        first, rest = block.text.split("\n", 1)
        assert rest == help_text(shlex.split(first[2:])), \
            f"{block.path.name}:{block.line}: the help has changed; run python tests/test_docs.py"


def cases():
    """(file, tier) pairs: the quick tier runs a file's quick blocks, the slow tier all of them."""
    params = []
    for path in DOCS:
        found = blocks(path)
        name = str(path.relative_to(ROOT))
        if any(not b.slow for b in found):
            params.append(pytest.param(path, False, id=f"{name}-quick"))
        if any(b.slow for b in found):
            params.append(pytest.param(path, True, id=f"{name}-slow", marks=pytest.mark.slow))
    return params


@pytest.mark.parametrize("path, slow", cases())
def test_blocks_run_as_written(path, slow, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [str(tmp_path), *sys.path])
    namespace = {"__name__": "__docs__"}
    for block in blocks(path):
        if slow or not block.slow:
            run_block(block, namespace, tmp_path)


def regenerated(text):
    """``text`` with every generated section replaced by its command's output now."""
    def fill(match):
        words = shlex.split(match.group(2))
        assert words[:2] == ["python", "bench/report.py"], f"not a generating command: {match.group(2)}"
        done = subprocess.run([sys.executable, *words[1:]], cwd=ROOT, env=cli_env(),
                              capture_output=True, text=True, check=True)
        return match.group(1) + done.stdout + match.group(4)
    return GENERATED.sub(fill, text)


@pytest.mark.parametrize("path", [p for p in DOCS if GENERATED.search(p.read_text())],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_generated_sections_are_current(path):
    text = path.read_text()
    assert regenerated(text) == text, f"{path.name}: a generated section is stale; run python tests/test_docs.py"


def test_readme_is_a_short_page():
    assert len((ROOT / "README.md").read_bytes()) <= 12_000


def test_blocks_are_found_and_marked():
    """The parser sees the README's blocks, and a slow mark only where a block follows it."""
    readme = blocks(ROOT / "README.md")
    assert {"python", "bash"} <= {b.language for b in readme}
    for path in DOCS:
        lines = path.read_text().splitlines()
        for i, line in enumerate(lines[:-1]):
            if MARK.match(line) and "generated" not in line and not lines[i + 1].startswith("```"):
                pytest.fail(f"{path.name}:{i + 1}: a block mark not followed by a block")


def anchors(path):
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    headings = [line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")]
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("path", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_lead_somewhere(path):
    """Every relative link names a file that exists, and a heading of it where it names one."""
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        name, _, anchor = target.partition("#")
        linked = (path.parent / name).resolve() if name else path
        assert linked.exists(), f"{path.name}: a link to {target}, which does not exist"
        if anchor:
            assert anchor in anchors(linked), f"{path.name}: a link to {target}, a heading it lacks"


@pytest.mark.parametrize("language, text, error", [
    ("python", "print(np.pi)\n", NameError),                              # the old README's bug
    ("python", "print(1 + 1)  # 3\n", AssertionError),                    # a comment that lies
    ("bash", "fastgrad train --steps 0\n", AssertionError),               # exit 2
    ("console", "$ rm -rf build\n", AssertionError),                      # a command never run
    ("text", "$ fastgrad info --help\nUsage: fastgrad info\n", AssertionError),  # stale help
])
def test_a_failing_block_fails(language, text, error, tmp_path):
    block = Block(tmp_path / "doc.md", 1, language, text, False, None)
    with pytest.raises(error):
        run_block(block, {}, tmp_path)


def rewrite():
    """Refresh the help blocks and generated sections of every file from the code."""
    for path in DOCS:
        text = regenerated(path.read_text())
        for block in blocks(path):
            first = block.text.split("\n", 1)[0]
            if block.language == "text" and first.startswith("$ fastgrad") and first.endswith("--help"):
                fresh = first + "\n" + help_text(shlex.split(first[2:]))
                text = text.replace(f"```text\n{block.text}```", f"```text\n{fresh}```", 1)
        path.write_text(text)


if __name__ == "__main__":
    rewrite()
