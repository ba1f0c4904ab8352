"""Shell scripts: ``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR:?}`` expansions.

Environment variables are told apart from script variables by convention and by use:
only upper-case names count, not names the script assigns itself (``NAME=``,
``export NAME=``, ``read NAME``, ``for NAME in``), and not the shell's own (``HOME``,
``PATH``, ``PWD``, ``RANDOM``…). ``${VAR:?}`` is required, ``${VAR:-d}`` has a default,
and a plain ``$VAR`` is required once the script has run ``set -u``. Single-quoted
text, quoted here-documents and comments are not expanded, so they are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from gonogo.config.scanners.interface import FileInput, FileScan, Read, Source

NAME = r"[A-Z_][A-Z0-9_]*"
_EXPANSION = re.compile(
    r"(?<!\$)\$(?:\{#?(?P<braced>" + NAME + r")(?P<op>:?[-=?+]|[%#/^,:@])?(?P<word>[^}]*)\}"
    r"|(?P<plain>" + NAME + r"))"
)
_ASSIGNED = re.compile(
    r"(?:^|[;&|({]\s*|\b(?:export|local|readonly|declare|typeset)(?:\s+-\w+)*\s+)"
    r"(?P<name>" + NAME + r")\+?="
)
_READ = re.compile(r"\bread\b(?:\s+-\w+(?:\s+\S+)?)*\s+(?P<names>[A-Z_][A-Z0-9_ ]*)")
_FOR = re.compile(r"\bfor\s+(?P<name>" + NAME + r")\s+in\b")
_NOUNSET = re.compile(r"^\s*set\s+(?:-[a-zA-Z]*u[a-zA-Z]*\b|-o\s+nounset\b|.*\s-o\s+nounset\b)")
_HEREDOC = re.compile(r"<<-?\s*(?P<q>['\"]?)(?P<tag>\w+)(?P=q)")
_SHELL_OWN = frozenset(
    {
        "HOME", "PATH", "PWD", "OLDPWD", "USER", "LOGNAME", "SHELL", "TERM", "LANG",
        "LANGUAGE", "IFS", "RANDOM", "LINENO", "SECONDS", "HOSTNAME", "HOSTTYPE", "UID",
        "EUID", "PPID", "OSTYPE", "MACHTYPE", "BASH", "BASHPID", "FUNCNAME", "PIPESTATUS",
        "REPLY", "OPTARG", "OPTIND", "OPTERR", "PS1", "PS2", "PS3", "PS4", "TMPDIR", "EDITOR",
        "PAGER", "VISUAL", "DISPLAY", "SHLVL", "COLUMNS", "LINES", "MAIL", "TZ", "GROUPS",
        "DIRSTACK", "HISTFILE", "HISTSIZE", "SHELLOPTS", "BASHOPTS", "EPOCHSECONDS",
        "EPOCHREALTIME", "SRANDOM", "PROMPT_COMMAND", "CDPATH", "UMASK",
    }
)  # fmt: skip
_SHELL_PREFIXES = ("BASH_", "LC_", "XDG_", "COMP_", "HIST")


@dataclass(frozen=True)
class Expansion:
    """One ``$NAME`` / ``${NAME…}`` in a line."""

    name: str
    column: int
    required: bool
    default: str | None
    optional: bool


def expansions(line: str) -> Iterator[Expansion]:
    """The parameter expansions of upper-case names in one line of shell-like text."""
    for match in _EXPANSION.finditer(line):
        name = match.group("braced") or match.group("plain")
        op = match.group("op") or ""
        word = match.group("word") or ""
        default = None
        if op in {":-", "-", ":=", "="}:
            default = _unquote(word)
        yield Expansion(
            name=name,
            column=match.start(),
            required=op in {":?", "?"},
            default=default,
            optional=op in {":-", "-", ":=", "=", ":+", "+"},
        )


def _unquote(word: str) -> str | None:
    text = word.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        text = text[1:-1]
    return None if "$" in text or "`" in text else text


def is_shell_own(name: str) -> bool:
    """Whether the shell or the system sets ``name`` (HOME, PATH, LC_ALL…)."""
    return name in _SHELL_OWN or name.startswith(_SHELL_PREFIXES)


def expandable_lines(text: str) -> Iterator[tuple[int, str]]:
    """``(number, line)`` of a shell script with comments, single-quoted text and
    quoted here-documents blanked out."""
    heredoc: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if heredoc is not None:
            if line.strip() == heredoc:
                heredoc = None
            continue
        cleaned = _strip_quotes_and_comment(line)
        quoted = next(
            (m for m in _HEREDOC.finditer(cleaned) if m.group("q")), None
        )  # <<'EOF' does not expand
        if quoted is not None:
            heredoc = quoted.group("tag")
        yield number, cleaned


def _strip_quotes_and_comment(line: str) -> str:
    out: list[str] = []
    in_double = False
    i = 0
    while i < len(line):
        char = line[i]
        if char == "\\" and i + 1 < len(line):
            out.append(line[i : i + 2])
            i += 2
            continue
        if char == '"':
            in_double = not in_double
        elif char == "'" and not in_double:
            end = line.find("'", i + 1)
            end = len(line) if end == -1 else end
            out.append(" " * (end + 1 - i))
            i = end + 1
            continue
        elif char == "#" and not in_double and (i == 0 or line[i - 1] in " \t;"):
            break
        out.append(char)
        i += 1
    return "".join(out)


def scan_shell(file: FileInput) -> FileScan:
    """Every environment read in one shell script."""
    lines = list(expandable_lines(file.text))
    first_set = _first_assignments(lines)

    def set_by_script(name: str, number: int) -> bool:
        at, reads_itself = first_set.get(name, (number + 1, False))
        return at < number or (at == number and not reads_itself)

    reads: list[Read] = []
    nounset = False
    for number, line in lines:
        if _NOUNSET.match(line):
            nounset = True
        for found in expansions(line):
            if is_shell_own(found.name) or set_by_script(found.name, number):
                continue
            reads.append(
                Read(
                    name=found.name,
                    path=file.rel,
                    line=number,
                    source=Source.SHELL,
                    required=found.required or (nounset and not found.optional),
                    default=found.default,
                )
            )
    return FileScan(reads=reads)


def _first_assignments(lines: list[tuple[int, str]]) -> dict[str, tuple[int, bool]]:
    """The line where the script first sets each name itself, and whether that line
    reads the name too (``NAME=${NAME:-d}`` reads the environment, then sets it).

    Expansions before that line (and on it, when it reads the name) are environment
    reads; expansions after it read the script's own variable.
    """
    first: dict[str, tuple[int, bool]] = {}
    for number, line in lines:
        names: list[tuple[str, bool]] = []
        for match in _ASSIGNED.finditer(line.strip()):
            name = match.group("name")
            rest = line.strip()[match.end() :]
            names.append((name, re.search(r"\$\{?" + name + r"\b", rest) is not None))
        names += [(m.group("name"), False) for m in _FOR.finditer(line)]
        for match in _READ.finditer(line):
            names += [(n, False) for n in match.group("names").split()]
        for name, reads_itself in names:
            first.setdefault(name, (number, reads_itself))
    return first
