"""The parser's rules: the patterns it scans with, and the pure judgements that settle what
a model's text means where JSON's grammar alone does not (a quote inside a string, a closer
that does not fit, a number in a format JSON lacks). Each looks only at a bounded window
after the point in question, so that any chunking of the text decides alike."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, cast

_WS = re.compile(r"[ \t\n\r]*")
_WORD_CHARS = re.compile(r"[\w.+\-$]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")  # ASCII digits only
_KEY_COLON = re.compile(r'"([^"\\\x00-\x1f]*)"[ \t\n\r]*:[ \t\n\r]*')  # a plain key and its ':'
_PLAIN_STRING = re.compile(r'"([^"\\\x00-\x1f]*)"')  # a string with nothing to decode
_BARE_KEY_COLON = re.compile(r"([\w.+\-$]+)[ \t\n\r]*:[ \t\n\r]*")  # an unquoted key and its ':'
_SINGLE_QUOTED = re.compile(r"'([^'\\\x00-\x1f]*)'")
_AFTER_STRING = frozenset(",:}]\"'/#`")  # what may follow a string's closing quote
_QUOTE_LOOKAHEAD = 64  # whitespace after a quote beyond this: the quote closed the string
_NUMBER_START = frozenset("-0123456789")
_DIGITS = frozenset("0123456789")
_DIGITS_OR_NOTHING = _DIGITS | {""}
_DELIMITERS = frozenset(",]} \t\n\r")  # what may follow a complete number or literal
_VALUE_START = frozenset('"{}[]-0123456789tfnNI')  # what may follow '{' or '[' in valid JSON
_EMPTY = {"[": "[]", "{": "{}"}
_CLOSER: dict[type, str] = {dict: "}", list: "]"}
_WANTED: dict[str, type] = {"key": dict, "value": list}  # what a look ahead needs open
_FAST_LITERALS = {
    "t": ("true", True),
    "f": ("false", False),
    "n": ("null", None),
    "T": ("True", True),
    "F": ("False", False),
    "N": ("None", None),
}
_NUMBERISH = re.compile(r"[-+0-9.eE]*")
_STRING_STOP = {'"': re.compile(r'["\\]'), "'": re.compile(r"['\\]")}
_CONTROL = re.compile(r"[\x00-\x1f]")
# what may follow a root's first bracket (within _PEEK characters) for it to be taken as JSON;
# one search finds the root in C, however much prose or how many brackets come first
_SPACE = "[ \\t\\n\\r\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]"
_ROOT_SEARCH = re.compile(
    "`"
    rf"|\[(?={_SPACE}{{0,255}}(?:[\[\]{{}}\"'\-0-9/#,.\u2026\u201c\u2018(]"
    r"|(?:true|false|null|True|False|None|NaN|Infinity|undefined)\W|[A-Za-z_$][\w$.\-]*\"?[ \t]*,))"
    rf"|\{{(?={_SPACE}{{0,255}}(?:[\"'}}\]/#,.`\u2026\u201c\u2018]|[\w$.+\-]+{_SPACE}*:))"
    r"|[\[{](?=[ \t\n\r]{256})"
    r"|(?P<bare>[\[{])(?=[ \t\n\r]*\Z)"  # at the end of the text: '{' cut off at once
)
_BRACKET = re.compile(r"[\[{]")
_PEEK = 256
_FENCE_LANG = re.compile(r"[^\n{\[`]*")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_JSON_FENCES = frozenset({"", "json", "jsonc", "json5", "javascript", "js"})
_ELLIPSIS = re.compile(r"\.{2,}")
_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$.]*")
_SHORT_INT = re.compile(r"-?[1-9][0-9]{0,2}")
_THREE_DIGITS = re.compile(r"[0-9]{3}")
# A digit group and what may end the number after it ('1 234.5'), and the spaces that group.
_GROUP_TAIL = re.compile(r"[0-9]{3}(?:\.[0-9]*)?")
_GROUP_SPACES = frozenset(" \u00a0\u2009\u202f")
# digit groups after a number's first comma: bounded, so that 64 characters always decide
_THOUSANDS = re.compile(r"((?:,[0-9]{3}){1,5}(?:\.[0-9]{1,20})?)[ \t\r\n]{0,8}[,}\]](?![0-9])")
_UNQUOTED_STOP = re.compile(r'[,}\]\n"{\[]')
_ODD_SPACE = frozenset(
    "\u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u200b\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WORD_END = frozenset(" \t\n\r,]})`") | _ODD_SPACE  # what may follow a number or literal
_LENIENT_NUMBER = re.compile(
    r"([+-]?)((?:[0-9]+(?:_[0-9]+)*)?)(?:(\.)([0-9]*))?(?:[eE]([+-]?[0-9]*))?"
)
_HEX = re.compile(r"[+-]?0[xX][0-9a-fA-F]+")
_LEADING_ZERO = re.compile(r"-?0[0-9]+(?:\.[0-9]*)?")
_OPENERS = frozenset("\"'{[(")
_SMART_STOP = {
    "\u201c": "[\u201d\u201c\\\\]",  # a left double quote closes at a right one (or a left)
    "\u201d": "[\u201d\u201c\\\\]",
    "\u2018": "[\u2019\u2018\\\\]",
    "\u2019": "[\u2019\u2018\\\\]",
    "`": "[`\u00b4\\\\]",  # a backtick closes at a backtick or an acute accent
    "\u00b4": "[\u00b4`\\\\]",
}
_SMART = frozenset(_SMART_STOP)
_STRING_STOP.update({quote: re.compile(stop) for quote, stop in _SMART_STOP.items()})
_REGEX = re.compile(r"/(?:[^/\\\n]|\\.)+/[a-z]*")
_NOT_SCALAR: Any = object()
_DROPPED: Any = object()


def _lenient_number(token: str) -> Any:
    """Numbers as models write them outside JSON: ``.5``, ``1.``, ``+5``, ``1e``, ``1_000``,
    ``0x1F``; a number with leading zeros is a code (``02134``) and stays text."""
    if _LEADING_ZERO.fullmatch(token):
        return token
    if _HEX.fullmatch(token):
        return int(token, 16)
    m = _LENIENT_NUMBER.fullmatch(token)
    if m is None or not (m.group(2) or m.group(4)):
        return _NOT_SCALAR
    sign, whole, dot, fraction, exponent = m.groups()
    whole = whole.replace("_", "") or "0"
    if dot is None and exponent is None:
        return int(sign + whole)
    power = exponent if exponent and exponent.lstrip("+-") else "0"
    return float(f"{sign}{whole}.{fraction or 0}e{power}")


_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}
_LITERALS: dict[str, tuple[Any, str | None]] = {
    "true": (True, None),
    "false": (False, None),
    "null": (None, None),
    "NaN": (float("nan"), None),
    "Infinity": (float("inf"), None),
    "-Infinity": (float("-inf"), None),
    "True": (True, "python literal"),
    "False": (False, "python literal"),
    "None": (None, "python literal"),
    "TRUE": (True, "non-JSON literal"),
    "FALSE": (False, "non-JSON literal"),
    "NULL": (None, "non-JSON literal"),
    "Null": (None, "non-JSON literal"),
    "undefined": (None, "non-JSON literal"),
}
# json's C scanners, which typeshed does not describe: a string body, and a whole value
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
# patterns that match the empty string, so their match never fails
_Matcher = Callable[[str, int], "re.Match[str]"]
_match_ws = cast(_Matcher, _WS.match)
_match_word = cast(_Matcher, _WORD_CHARS.match)
_AFTER_COMMA = re.compile(r"[ \t\n\r]*(,?)[ \t\n\r]*")
_KEY_AHEAD = re.compile(  # a key and its colon; bounded, so that _VERDICT_WINDOW decides
    r"""(?:"[^"\\\n]{0,200}"|'[^'\\\n]{0,200}'|[\w$.+\-]{1,200})[ \t\n\r]{0,32}(:?)"""
)
_match_lang = cast(_Matcher, _FENCE_LANG.match)
_match_after_comma = cast(_Matcher, _AFTER_COMMA.match)
_C_WINDOW = 4096  # the C scanner's first window; widened fourfold while a container runs past it
_C_MIN = 48  # below this many characters, handing a container to the C scanner is not worth it


_INSIDE, _CLOSES, _WAIT, _LOST, _JOIN = 0, 1, -1, 2, 3  # what a quote in a value string is
_NEXT_STRING = {
    q: re.compile(rf"{q}[^{q}\\\n]{{0,200}}{q}[ \t\r\n]{{0,32}}([^ \t\r\n])") for q in "\"'"
}
_SCALAR_AHEAD = re.compile(
    r"(?:true|false|null|-?[0-9]{1,40}(?:\.[0-9]{1,40})?(?:[eE][-+]?[0-9]{1,4})?)"
    r"[ \t\r\n]{0,32}[,\]}]"
)
# repairs that the slow path makes token by token (the hot loop's own are not counted)
_COSTLY = frozenset(
    {
        "unquoted string",
        "unescaped quote",
        "number format",
        "smart quotes",
        "missing colon",
        "missing comma",
        "missing value",
        "value without a key dropped",
        "stray text dropped",
        "ellipsis",
        "regular expression",
        "function call",
        "python tuple",
        "mismatched bracket",
        "extra closing bracket",
        "extra comma",
        "missing opening quote",
        "missing closing quote",
        "single quotes",
        "non-ASCII whitespace",
        "python literal",
        "non-JSON literal",
    }
)
_MAX_COSTLY = 20_000
_MAX_DOUBTS = 256  # quotes judged inside one string; past this the text is not JSON
_MAX_REWINDS = 4  # strings read again from their first doubtful quote, each a pass at most
_VERDICT_WINDOW = 400  # characters after a doubtful quote that decide it, whatever the chunking
_CHAR_CLASS = re.compile(r"\[[^\]\s]{0,4}\Z")  # a regex character class left open: ['"]


def _quote_verdict(s: str, q: int, final: bool, before: str, in_object: bool) -> int:
    """Whether the quote at ``s[q]`` ends its value string, judged on what comes next.

    Models leave quotes unescaped (``"He said "hi" twice"``, ``'it's'``), so a quote
    followed by a word stays inside the string, except where what follows is clearly
    structure: a member on a new line (``"John"\n lastName: ...``), a number or literal
    and a delimiter (``["a" 2]``), or a key after a comma or a line break, which means the
    string lost its closing quote before that comma (``_LOST``: ``"New York, "gender":``).
    ``before`` is the end of the string so far. ``_WAIT``: what decides is not here yet;
    past the first character, the next ``_VERDICT_WINDOW`` characters decide.
    """
    n = len(s)
    stripped = before.rstrip(" \t\r")
    lost = stripped.endswith(",") or stripped.endswith("\n")
    j = _match_ws(s, q + 1).end()
    if not lost:
        if j - q - 1 > _QUOTE_LOOKAHEAD:
            return _CLOSES
        if j >= n:
            return _CLOSES if final else _WAIT
        c = s[j]
        if c == s[q] and j == q + 1:  # '"B"",': a doubled quote, the second one ends it
            k = _match_ws(s, j + 1).end()
            if k >= n and not final:
                return _WAIT
            if k >= n or s[k] in ",}]":
                return _INSIDE
        if c in _AFTER_STRING:
            return _INSIDE if c in "]'" and _CHAR_CLASS.search(before) else _CLOSES
        if c == "+":  # "'hello' + 'world'": JavaScript concatenation
            k = _match_ws(s, j + 1).end()
            if k >= n and not final and k - j < _QUOTE_LOOKAHEAD:
                return _WAIT
            if k < n and s[k] in "\"'" and k - j <= _QUOTE_LOOKAHEAD:
                return _JOIN
    if not final and n - q < _VERDICT_WINDOW:
        return _WAIT
    if lost:
        pattern = _NEXT_STRING.get(s[q])
        m = None if pattern is None else pattern.match(s, q)
        if m is not None and (m.group(1) == ":" if in_object else m.group(1) in ",]"):
            return _LOST
        if j - q - 1 > _QUOTE_LOOKAHEAD or j >= n:
            return _CLOSES
        c = s[j]
        if c in _AFTER_STRING:
            return _INSIDE if c in "]'" and _CHAR_CLASS.search(before) else _CLOSES
    c = s[j]
    ahead = _KEY_AHEAD.match(s, j) if in_object else None
    if ahead is not None and ahead.group(1) and (c in "\"'" or "\n" in s[q:j]):
        return _CLOSES
    if (c in _NUMBER_START or c in "tfn") and _SCALAR_AHEAD.match(s, j) is not None:
        return _CLOSES
    if c in "[{" and _ROOT_SEARCH.match(s, j) is not None:  # '["a" {"b": 1}]'
        return _CLOSES
    return _INSIDE


def _look_after(s: str, pos: int, final: bool) -> str | None:
    """What follows a closer: a member (``, "key":``), a ``value`` after a comma, a
    ``close``-r, the ``end`` of the text, or ``other``; None if not here yet.

    Only the next ``_PEEK`` characters count, so the answer does not depend on how the
    text was split into chunks.
    """
    window = s[pos : pos + _PEEK]
    complete = final or len(window) == _PEEK
    m = _match_after_comma(window, 0)
    j = m.end()
    if j == len(window):
        if not complete:
            return None
        return "end" if final and pos + j >= len(s) else "other"
    if not m.group(1):
        return "close" if window[j] in "}])" else "other"
    if window[j] in "\"'" and window.find(window[j], j + 1) < 0:
        return None if not complete else "value"
    key = _KEY_AHEAD.match(window, j)
    if key is None:
        return "value"
    if key.end() == len(window) and not complete:
        return None
    return "key" if key.group(1) else "value"


def _last_is_container(container: Any) -> bool:
    """Whether the last value put in ``container`` is a list or an object (so that the
    token before the next one was a closing bracket)."""
    if not container:
        return False
    last = next(reversed(container.values())) if type(container) is dict else container[-1]
    return type(last) is dict or type(last) is list


def _tail(parts: list[str], size: int = 16) -> str:
    """The last ``size`` characters of a string being built in parts, without joining it all."""
    tail: list[str] = []
    count = 0
    for part in reversed(parts):
        tail.append(part)
        count += len(part)
        if count >= size:
            break
    return "".join(reversed(tail))[-size:]
