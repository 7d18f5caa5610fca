"""JSON from the outside world, parsed with limits that plain ``json.loads`` does not have.

``json.loads`` raises ``RecursionError`` at about 1,000 levels of nesting and ``ValueError``
for integers of 4,301 or more digits (Python's int-string limit); it accepts ``NaN`` and
``Infinity``, and JSON escapes of lone surrogates (``"\\ud800"``), which later fail in any
UTF-8 encoder (the database, the log, the reply). Here each of these is a ``JsonBodyError``
that the HTTP layer answers with 400.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
#: digits (and sign, point, exponent) of one number: far beyond any real value, far below
#: the sizes that make ``int()`` slow or raise
MAX_NUMBER_CHARS = 40

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonBodyError(ValueError):
    """The body is not JSON this service accepts; the message says why (safe to show)."""


def parse_json(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed body, or ``JsonBodyError``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise JsonBodyError("body is not valid UTF-8") from error
    try:
        value = json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_no_constant
        )
    except RecursionError as error:
        raise JsonBodyError(f"body is nested more than {max_depth} levels deep") from error
    except JsonBodyError:
        raise
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise JsonBodyError("body is not valid JSON") from error
    _check_tree(value, max_depth)
    return value


def _parse_int(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise JsonBodyError(f"a number in the body is longer than {MAX_NUMBER_CHARS} characters")
    return int(literal)


def _parse_float(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise JsonBodyError(f"a number in the body is longer than {MAX_NUMBER_CHARS} characters")
    value = float(literal)
    if not math.isfinite(value):  # 1e999
        raise JsonBodyError("a number in the body is out of range")
    return value


def _no_constant(literal: str) -> None:
    raise JsonBodyError(f"{literal} is not valid JSON")


def _check_tree(value: Any, max_depth: int) -> None:
    """Depth and strings, without recursion (the tree may be as deep as json allows)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            if _LONE_SURROGATE.search(node):
                raise JsonBodyError("body contains a lone surrogate (not valid Unicode)")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth > max_depth:
            raise JsonBodyError(f"body is nested more than {max_depth} levels deep")
        if isinstance(node, dict):
            for key, item in node.items():
                if _LONE_SURROGATE.search(key):
                    raise JsonBodyError("body contains a lone surrogate (not valid Unicode)")
                stack.append((item, depth + 1))
        else:
            stack.extend((item, depth + 1) for item in node)
