"""Safe XML loading shared by the report parsers: no DTDs, one-line errors."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element, ParseError

from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

from gonogo.errors import EvidenceError, one_line

_HTML = re.compile(rb"\s*<(?:!doctype\s+html|html[\s>/])", re.IGNORECASE)  # a CI error page


def load_xml(data: bytes, *, source: str, what: str, hint: str) -> Element:
    """Parse ``data`` as XML, refusing DTDs and entities; every failure is an EvidenceError."""
    if not data.strip():
        raise EvidenceError(f"{source}: file is empty, expected {what}", hint=hint)
    if _HTML.match(data):
        raise EvidenceError(f"{source}: is an HTML page, not {what}", hint=hint)
    try:
        return SafeElementTree.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as error:
        raise EvidenceError(
            f"{source}: refused XML with a DOCTYPE or entities ({type(error).__name__})",
            hint=hint,
        ) from error
    except ParseError as error:
        raise EvidenceError(f"{source}: not well-formed XML ({one_line(str(error))})") from error
    except (ValueError, LookupError) as error:  # unknown or broken encoding declarations
        raise EvidenceError(f"{source}: unreadable XML ({one_line(str(error))})") from error


def local_name(tag: object) -> str:
    """The tag without an XML namespace; comments and processing instructions give ''."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def count_attribute(element: Element, name: str, source: str, *, optional: bool = True) -> int:
    """A non-negative whole-number attribute; a missing one is 0 when ``optional``."""
    raw = element.get(name, "").strip()
    if not raw and optional:
        return 0
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise EvidenceError(
            f"{source}: <{local_name(element.tag)}> attribute {name}={one_line(raw)[:60]!r} "
            "is not a non-negative whole number"
        )
    return value
