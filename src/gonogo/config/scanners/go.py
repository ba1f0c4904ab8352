"""Go: ``os.Getenv`` and ``os.LookupEnv`` reads.

Neither call can say a variable is required (``Getenv`` gives ``""``, ``LookupEnv``
reports absence), so no read is; mark ``required = true`` in the inventory by hand.
``strconv.Atoi(os.Getenv(…))``, ``ParseBool`` and ``ParseFloat`` give the type.
Comments are ignored.
"""

from __future__ import annotations

import re

from gonogo.config.inventory import VarType
from gonogo.config.scanners.interface import FileInput, FileScan, Read, Source
from gonogo.config.scanners.text import LineIndex, blank_c_comments

_CALL = re.compile(
    r"\b(?:os|syscall)\s*\.\s*(?:Getenv|LookupEnv)\s*\(\s*(?P<q>[\"`])(?P<name>[^\"`]+)(?P=q)\s*\)"
)
_WRAPPERS = (
    (re.compile(r"strconv\s*\.\s*(?:Atoi|ParseInt|ParseUint)\s*\(\s*$"), VarType.INT),
    (re.compile(r"strconv\s*\.\s*ParseFloat\s*\(\s*$"), VarType.FLOAT),
    (re.compile(r"strconv\s*\.\s*ParseBool\s*\(\s*$"), VarType.BOOL),
    (re.compile(r"time\s*\.\s*ParseDuration\s*\(\s*$"), VarType.DURATION),
    (re.compile(r"url\s*\.\s*Parse\s*\(\s*$"), VarType.URL),
)


def scan_go(file: FileInput) -> FileScan:
    """Every environment read in one Go file."""
    text = blank_c_comments(file.text, backtick=True)
    lines = LineIndex(text)
    reads = []
    for match in _CALL.finditer(text):
        window = text[max(0, match.start() - 40) : match.start()]
        var_type = next((t for p, t in _WRAPPERS if p.search(window)), None)
        reads.append(
            Read(
                name=match.group("name"),
                path=file.rel,
                line=lines.line(match.start()),
                source=Source.GO,
                type=var_type,
            )
        )
    return FileScan(reads=reads)
