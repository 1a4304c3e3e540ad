"""The lenient, incremental JSON parser: what a model wrote, turned back into a value.

Models asked for JSON mostly give valid JSON, so :func:`parse` tries ``json.loads`` first and
returns its value untouched. When that fails, the text goes through :class:`IncrementalParser`,
the single implementation of every repair, fed the whole text at once. The streaming driver
feeds the same parser chunk by chunk, so a streamed answer and a complete one are repaired the
same way and give the same value.

The parser is a single-pass state machine over characters with an explicit stack: no
recursion (deep nesting cannot raise RecursionError), no rescanning of earlier input (the work
for a chunk is proportional to the chunk), and string bodies, numbers and whitespace are
scanned with ``re`` and ``json``'s C ``scanstring`` rather than a character at a time. Whole
containers that happen to be valid are handed to ``json``'s C scanner; a budget on that
scanner's work keeps the total linear even when the handing over keeps failing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from .errors import ParseError

__all__ = ["MAX_DEPTH", "IncrementalParser", "Parsed", "loads", "parse"]

MAX_DEPTH = 10_000
"""Deepest nesting accepted; deeper input is a ParseError rather than a crash."""


@dataclass(frozen=True)
class Parsed:
    """A parsed answer, and whether (and how) it had to be repaired to get there.

    ``repairs`` names each kind of repair once, in the order first met, e.g.
    ``("markdown fence", "trailing comma")``; ``repaired`` is ``bool(repairs)``.
    """

    value: Any
    repaired: bool = False
    repairs: tuple[str, ...] = ()


def loads(text: str) -> Any:
    """Parse a model's JSON answer, repairing what models typically break.

    Valid JSON comes back exactly as ``json.loads`` gives it. Raises
    :class:`~extractor.errors.ParseError` (and nothing else) when the text holds no JSON
    object or array that can be recovered.
    """
    return parse(text).value


def parse(text: str) -> Parsed:
    """Like :func:`loads`, but also says whether the value needed repairing, and how."""
    if not isinstance(text, str):
        raise ParseError(f"expected the answer as str, got {type(text).__name__}", position=0)
    try:
        return Parsed(json.loads(text))
    except (ValueError, RecursionError):
        pass
    error: ParseError | None = None
    start = 0
    for _ in range(_ROOT_ATTEMPTS):
        parser = IncrementalParser()
        parser._consumed = start  # so that positions count from the start of ``text``
        try:
            parser.feed(text[start:])
            result = parser.finish()
        except ParseError as exc:
            # the root that got furthest is the likeliest to be the answer: report its error
            if error is None or (
                parser.root_start is not None and (exc.position or 0) > (error.position or 0)
            ):
                error = exc
            # a root found after prose may be prose itself ('Step [2/3]: {...}'): look past it
            if parser.root_start is None or not parser.root_after_prose:
                break
            start = parser.root_start + 1
            continue
        return _prefer_object(text, parser, result)
    assert error is not None
    raise error


_ROOT_ATTEMPTS = 3  # roots tried by parse(), each a pass over at most the rest of the text


def _prefer_object(text: str, parser: IncrementalParser, result: Parsed) -> Parsed:
    """JSON mode answers with an object: an array found in prose loses to an object after it.

    Only the text after the array is parsed again, so this stays linear.
    """
    end = parser.end
    if not isinstance(result.value, list) or not parser.root_after_prose or end is None:
        return result
    if "{" not in text[end:]:
        return result
    second = IncrementalParser()
    second._consumed = end
    try:
        second.feed(text[end:])
        found = second.finish()
    except ParseError:
        return result
    if not isinstance(found.value, dict):
        return result
    repairs = dict.fromkeys((*result.repairs, *found.repairs))
    return Parsed(found.value, True, tuple(repairs))


# Parser modes. Those from _STRING on are not structural: whitespace there is content.
_VALUE = 0  # a value is expected (after '[', ':' or a comma in an array)
_KEY = 1  # a key or '}' is expected (after '{' or a comma in an object)
_COLON = 2  # ':' is expected after a key
_AFTER = 3  # ',' or a closing bracket is expected after a value
_STRING = 4  # inside a string (key or value)
_WORD = 5  # inside a bare token: number, literal, or unquoted key
_LINE_COMMENT = 6
_BLOCK_COMMENT = 7
_PROSE = 8  # before the root value: prose and markdown fences are skipped
_DONE = 9  # the root value is complete; the rest is ignored

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
_DELIMITERS = frozenset(",]} \t\n\r")  # what may follow a complete number or literal
_VALUE_START = frozenset('"{}[]-0123456789tfnNI')  # what may follow '{' or '[' in valid JSON
_EMPTY = {"[": "[]", "{": "{}"}
_FAST_LITERALS = {"t": ("true", True), "f": ("false", False), "n": ("null", None)}
_NUMBERISH = re.compile(r"[-+0-9.eE]*")
_STRING_STOP = {'"': re.compile(r'["\\]'), "'": re.compile(r"['\\]")}
_CONTROL = re.compile(r"[\x00-\x1f]")
_PROSE_STOP = re.compile(r"[\[{`]")
# what may follow a root's first bracket (within _PEEK characters) for it to be taken as JSON
_ARRAY_START = re.compile(
    r"""[ \t\n\r]*(?:[\[\]{"'\-0-9/#,]|(?:true|false|null|True|False|None|NaN|Infinity)\W)"""
)
_OBJECT_START = re.compile(r"""[ \t\n\r]*(?:["'}/#,]|[\w$.+\-]+[ \t\n\r]*:)""")
_PEEK = 256
_FENCE_LANG = re.compile(r"[^\n{\[`]*")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")
_JSON_FENCES = frozenset({"", "json", "jsonc", "json5", "javascript", "js"})
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
}
# json's C scanners, which typeshed does not describe: a string body, and a whole value
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_SCAN_ONCE: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
# patterns that match the empty string, so their match never fails
_Matcher = Callable[[str, int], "re.Match[str]"]
_match_ws = cast(_Matcher, _WS.match)
_match_word = cast(_Matcher, _WORD_CHARS.match)
_match_lang = cast(_Matcher, _FENCE_LANG.match)
_C_WINDOW = 4096  # the C scanner's first window; widened fourfold while a container runs past it
_C_MIN = 48  # below this many characters, handing a container to the C scanner is not worth it


def _quote_closes(s: str, after: int, final: bool) -> int:
    """Whether the quote just before ``after`` ends its string: 1 yes, 0 no, -1 not known yet.

    A quote followed by a letter is inside the string, not its end: models write
    ``"He said "hi" twice"`` and ``'it's'``. Deciding needs the next character that is
    not whitespace, which may be in the next chunk. Only values get this benefit of the
    doubt: a key ends at its first quote, so ``{"a" 1}`` is an error, not a long key.
    """
    j = _match_ws(s, after).end()
    if j - after > _QUOTE_LOOKAHEAD:
        return 1
    if j < len(s):
        return 1 if s[j] in _AFTER_STRING else 0
    return 1 if final else -1


class _Syntax(Exception):
    """Internal: the text cannot be parsed at ``at`` (relative to the current data)."""

    def __init__(self, message: str, at: int, resume: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.at = at
        self.resume = at if resume is None else resume


class IncrementalParser:
    """Parse JSON as it arrives, keeping state between chunks.

    ``feed`` consumes a chunk and says whether the visible value changed; ``value`` is the
    live partial root (containers are mutated in place; numbers, literals and, unless
    ``partial_strings``, strings appear only once complete, so what is shown never changes
    afterwards); ``pop_items`` hands out the completed elements of the array at
    ``item_path``; ``finish`` applies the end-of-input repairs.

    Prose and markdown fences before the root object or array are skipped, and whatever
    follows the root is ignored. The root must be an object or an array, which is what JSON
    mode answers with; :func:`parse` handles bare scalars through ``json.loads``.

    Work per chunk is proportional to the chunk, except that with ``partial_strings`` the
    string being grown is rebuilt once per chunk (proportional to its length).
    """

    def __init__(
        self,
        *,
        partial_strings: bool = False,
        item_path: tuple[str | int, ...] | None = None,
    ) -> None:
        self._partial_strings = partial_strings
        self._item_path = item_path
        self._mode = _PROSE
        self._stack: list[Any] = []  # open containers, root first
        self._keys: list[Any] = []  # per open object: the key whose value comes next
        self._on_path: list[bool] = []  # per open container: is its path a prefix of item_path
        self._root: Any = None
        self._items: list[Any] = []
        self._items_list: list[Any] | None = None
        self._repairs: dict[str, None] = {}
        self._repairs_before_root: dict[str, None] = {}
        self._carry = ""  # a few characters held back: a split escape or a lone '/'
        self._consumed = 0
        self._base = 0  # absolute offset of the current data's first character
        self._budget = 0  # characters json's C scanners may still spend on this data
        self._c_skip = 0  # containers to leave to Python before trying the C scanner again
        self._c_backoff = 0
        self._changed = False
        self._error: ParseError | None = None
        self._first_error: ParseError | None = None
        self._finished: Parsed | None = None
        self._end: int | None = None
        self._root_start: int | None = None
        # the token in progress
        self._parts: list[str] = []
        self._quote = '"'
        self._is_key = False
        self._shown = False  # a growing string is already attached to its container
        self._grew = False
        self._word_start = 0
        self._bare_key = False  # the root object's first key was a bare word
        self._after_comma = False
        self._comment_return = _VALUE
        # before the root
        self._ticks = 0
        self._in_fence = False
        self._reading_lang = False
        self._lang = ""
        self._json_fence = True
        self._prose_seen = False
        self._root_after_prose = False
        self._trailing_seen = False

    # -- public API -------------------------------------------------------------------------

    @property
    def value(self) -> Any:
        """The live partial root: None before it starts. Read-only for callers; copy to keep."""
        return self._root

    @property
    def end(self) -> int | None:
        """Offset just past the root value once it is complete, else None."""
        return self._end

    @property
    def root_start(self) -> int | None:
        """Offset of the root's first bracket once it has started, else None."""
        return self._root_start

    @property
    def root_after_prose(self) -> bool:
        """Whether text other than whitespace and markdown fences came before the root."""
        return self._root_after_prose

    @property
    def repairs(self) -> tuple[str, ...]:
        """The repairs applied so far."""
        return tuple(self._repairs)

    def feed(self, chunk: str) -> bool:
        """Consume the next chunk; True if the visible value changed."""
        if self._error is not None:
            raise self._error
        if self._finished is not None:
            raise ParseError("feed() after finish()", position=self._consumed)
        data = self._carry + chunk if self._carry else chunk
        self._base = self._consumed - len(self._carry)
        self._carry = ""
        self._consumed += len(chunk)
        self._changed = False
        self._run(data, final=False)
        if self._partial_strings and self._grew:
            self._show_partial()
        return self._changed

    def pop_items(self) -> list[Any]:
        """The elements of the array at ``item_path`` completed since the last call, in order."""
        items = self._items
        self._items = []
        return items

    def finish(self) -> Parsed:
        """End of input: close what is open, drop what was cut off, return the value."""
        if self._finished is not None:
            return self._finished
        if self._error is not None:
            raise self._error
        data = self._carry
        self._base = self._consumed - len(data)
        self._carry = ""
        self._changed = False
        self._run(data, final=True)
        if self._mode == _PROSE:
            if self._first_error is not None:
                raise self._first_error
            raise ParseError("no JSON object or array found in the answer", position=self._consumed)
        try:
            self._close_all(self._consumed - self._base)
        except ParseError as exc:
            self._error = exc
            raise
        self._finished = Parsed(self._root, bool(self._repairs), tuple(self._repairs))
        return self._finished

    # -- driving ----------------------------------------------------------------------------

    def _run(self, s: str, final: bool) -> None:
        """Scan ``s``; on a syntax error either give up an empty root found in prose or raise."""
        self._budget = 10 * len(s) + 4096
        pos = 0
        while True:
            try:
                self._scan(s, pos, final)
                return
            except _Syntax as exc:
                abandoned = self._abandon_root(s, exc.at)
                if not abandoned or self._first_error is None:
                    error = ParseError(
                        f"{exc.message} at position {self._base + exc.at}",
                        position=self._base + exc.at,
                    )
                    if not abandoned:
                        self._error = error
                        raise error from None
                    self._first_error = error
                pos = exc.resume

    def _abandon_root(self, s: str, at: int) -> bool:
        """Go back to skipping prose if the failed root was prose: '[note] {...}', '{name}'.

        Only a root that shows nothing yet, and that failed before looking like JSON: an
        object only at its first key (a bad start, or a bare word with no colon after it),
        and never at a quote or a bracket.
        """
        stack = self._stack
        if len(stack) != 1 or stack[0]:
            return False
        if type(stack[0]) is dict and not (
            self._mode == _KEY or (self._mode == _COLON and self._bare_key)
        ):
            return False
        if 0 <= at < len(s) and s[at] in "\"'{[":  # (a word's error is at its start: a letter)
            return False
        self._stack.clear()
        self._keys.clear()
        self._on_path.clear()
        self._root = None
        self._root_start = None
        self._items_list = None
        self._repairs = dict(self._repairs_before_root)
        self._mode = _PROSE
        self._prose_seen = True
        self._parts = []
        self._carry = ""
        self._changed = True
        return True

    def _repair(self, name: str) -> None:
        self._repairs[name] = None

    def _scan(self, s: str, pos: int, final: bool) -> None:
        """The hot loop. Common tokens are handled inline; the rest goes to the helpers.

        One pass of the loop takes a whole member (``, "key": value``) when it is plain;
        ``mode`` is kept in a local and written back to ``self._mode`` around every helper.
        """
        n = len(s)
        ws = _match_ws
        key_colon = _KEY_COLON.match
        plain_string = _PLAIN_STRING.match
        bare_key_colon = _BARE_KEY_COLON.match
        single_quoted = _SINGLE_QUOTED.match
        number = _NUMBER.match
        scanstring = _scanstring
        stack = self._stack
        keys = self._keys
        mode = self._mode
        while pos < n:
            if mode >= _STRING:
                self._mode = mode
                if mode == _STRING:
                    pos = self._string(s, pos, final)
                elif mode == _WORD:
                    pos = self._word(s, pos, final)
                elif mode == _PROSE:
                    pos = self._prose(s, pos, final)
                elif mode == _DONE:
                    if not self._trailing_seen and s[pos:].strip(" \t\r\n`"):
                        self._trailing_seen = True
                        self._repair("surrounding prose")
                    return
                else:
                    pos = self._comment(s, pos, final)
                mode = self._mode
                continue
            c = s[pos]
            if c in " \t\n\r":
                pos = ws(s, pos).end()
                if pos >= n:
                    break
                c = s[pos]
            if mode == _AFTER:
                if c != ",":
                    self._mode = mode
                    pos = self._other(s, pos, final, c)
                    mode = self._mode
                    continue
                self._after_comma = True
                mode = _KEY if type(stack[-1]) is dict else _VALUE
                pos = ws(s, pos + 1).end()
                if pos >= n:
                    break
                c = s[pos]
            if mode == _KEY:
                m = key_colon(s, pos)
                if m is None and c not in "\"'":
                    m = bare_key_colon(s, pos)
                    if m is not None:
                        self._repairs["unquoted key"] = None
                if m is None:
                    end = -1
                    if c == '"' and s.find('"', pos + 1) >= 0 and self._budget > 0:
                        try:
                            key, end = scanstring(s, pos + 1, True)
                        except ValueError:  # its message counts the lines before pos
                            self._budget -= pos
                    if end >= 0:
                        keys[-1] = key
                        mode = _COLON
                        pos = end
                    else:
                        self._mode = mode
                        pos = self._other(s, pos, final, c)
                        mode = self._mode
                    continue
                keys[-1] = m.group(1)
                mode = _VALUE
                pos = m.end()
                if pos >= n:
                    break
                c = s[pos]
            elif mode == _COLON:
                if c != ":":
                    self._mode = mode
                    pos = self._other(s, pos, final, c)
                    mode = self._mode
                    continue
                mode = _VALUE
                self._after_comma = False
                pos = ws(s, pos + 1).end()
                if pos >= n:
                    break
                c = s[pos]
            # mode is _VALUE
            value: Any
            end = -1
            if c == '"':
                m = plain_string(s, pos)
                if m is not None:
                    value = m.group(1)
                    end = m.end()
                elif s.find('"', pos + 1) >= 0 and self._budget > 0:
                    try:
                        value, end = scanstring(s, pos + 1, True)
                    except ValueError:
                        self._budget -= pos
                if (
                    end >= 0
                    and not (end < n and s[end] in _AFTER_STRING)
                    and _quote_closes(s, end, final) != 1
                ):
                    end = -1  # a quote inside the string, or what follows is not here yet
            elif c == "'":
                m = single_quoted(s, pos)
                if m is not None and _quote_closes(s, m.end(), final) == 1:
                    value = m.group(1)
                    end = m.end()
                    self._repairs["single quotes"] = None
            elif c in _NUMBER_START:
                m = number(s, pos)
                if m is not None and m.end() < n and s[m.end()] in _DELIMITERS:
                    try:
                        value = int(m.group()) if m.lastindex is None else float(m.group())
                        end = m.end()
                    except ValueError:  # more digits than int() accepts: the helper says so
                        pass
            elif c in _EMPTY and s.startswith(_EMPTY[c], pos):  # '[]', '{}': nothing to push
                value = [] if c == "[" else {}
                end = pos + 2
            elif c in _FAST_LITERALS:
                word, value = _FAST_LITERALS[c]
                if s.startswith(word, pos) and pos + len(word) < n:
                    end = pos + len(word)
                    if s[end] not in _DELIMITERS:
                        end = -1
            if end < 0:
                self._mode = mode
                pos = self._other(s, pos, final, c)
                mode = self._mode
                continue
            top = stack[-1]
            if type(top) is dict:
                top[keys[-1]] = value
            else:
                top.append(value)
                if top is self._items_list:
                    self._items.append(value)
            self._changed = True
            mode = _AFTER
            pos = end
        self._mode = mode

    def _other(self, s: str, pos: int, final: bool, c: str) -> int:
        """Everything at a structural position that the hot loop does not handle inline."""
        mode = self._mode
        if c == "/" or c == "#":
            return self._comment_start(s, pos, final)
        if c == "`":  # a closing markdown fence: the root was cut off before it
            self._close_all(pos)
            return pos
        if c == "," and (mode == _KEY or (mode == _VALUE and type(self._stack[-1]) is list)):
            # '[1,,2]', '{, "a": 1}'; but in '{"a": ,}' a value is missing
            self._repair("extra comma")
            self._after_comma = True
            return pos + 1
        if mode == _AFTER:
            if c == "}" or c == "]":
                return self._close(s, pos)
            if c == ":" or (c not in "\"'{[" and not c.isalnum() and c not in "-_$+."):
                raise _Syntax(f"expected ',' or a closing bracket, found {c!r}", pos)
            self._repair("missing comma")
            self._after_comma = False
            self._mode = _KEY if type(self._stack[-1]) is dict else _VALUE
            return pos
        if mode == _VALUE:
            if c == "{" or c == "[":
                return self._open(s, pos)
            if c == '"' or c == "'":
                return self._open_string(s, pos, final, key=False)
            if c == "]" or c == "}":
                if type(self._stack[-1]) is dict:
                    raise _Syntax(f"expected a value, found {c!r}", pos)
                if self._after_comma:
                    self._repair("trailing comma")
                return self._close(s, pos)
            return self._start_word(s, pos, final, key=False)
        if mode == _KEY:
            if c == "}":
                if self._after_comma:
                    self._repair("trailing comma")
                return self._close(s, pos)
            if c == '"' or c == "'":
                return self._open_string(s, pos, final, key=True)
            return self._start_word(s, pos, final, key=True)
        raise _Syntax(f"expected ':' after the key, found {c!r}", pos)

    def _comment(self, s: str, pos: int, final: bool) -> int:
        """Inside a comment: skip to its end."""
        if self._mode == _LINE_COMMENT:
            end = s.find("\n", pos)
            if end < 0:
                return len(s)
            self._mode = self._comment_return
            return end + 1
        end = s.find("*/", pos)
        if end < 0:
            if s[-1] == "*" and not final:
                self._carry = "*"
            return len(s)
        self._mode = self._comment_return
        return end + 2

    # -- values -----------------------------------------------------------------------------

    def _add(self, value: Any) -> None:
        """Attach a complete scalar to the open container."""
        top = self._stack[-1]
        if type(top) is dict:
            top[self._keys[-1]] = value
        else:
            top.append(value)
            if top is self._items_list:
                self._items.append(value)
        self._changed = True
        self._mode = _AFTER

    def _open(self, s: str, pos: int) -> int:
        """A '{' or '[' where a value goes: hand it to the C scanner, or push a frame."""
        stack = self._stack
        if self._c_skip:
            self._c_skip -= 1
        elif len(s) - pos >= _C_MIN and self._budget > 0:
            end = self._try_c(s, pos)
            if end >= 0:
                self._c_backoff = 0
                return end
            # broken all over (a trailing comma in every object): try less and less often
            self._c_skip = self._c_backoff
            self._c_backoff = min(2 * self._c_backoff + 1, 63)
        n = len(s)
        self._push({} if s[pos] == "{" else [], pos)
        pos += 1
        while pos < n and s[pos] == "[" and type(stack[-1]) is list:  # '[[[': push them all here
            self._push([], pos)
            pos += 1
        return pos

    def _push(self, container: Any, pos: int) -> None:
        """Attach a new container to the open one (or make it the root) and open it."""
        stack = self._stack
        if stack:
            top = stack[-1]
            if type(top) is dict:
                key = self._keys[-1]
                top[key] = container
            else:
                key = len(top)
                top.append(container)
            on_path = self._on_path[-1] and self._path_step(len(stack) - 1, key)
        else:
            self._start_root(container, pos)
            on_path = self._item_path is not None
        stack.append(container)
        self._keys.append(None)
        self._on_path.append(on_path)
        if on_path and type(container) is list and len(stack) - 1 == len(self._item_path or ()):
            self._items_list = container
        if len(stack) > MAX_DEPTH:
            raise _Syntax(f"nesting deeper than {MAX_DEPTH} levels", pos)
        self._mode = _KEY if type(container) is dict else _VALUE
        self._after_comma = False
        self._changed = True

    def _path_step(self, depth: int, key: Any) -> bool:
        path = self._item_path
        return path is not None and depth < len(path) and path[depth] == key

    def _start_root(self, container: Any, pos: int) -> None:
        self._root = container
        self._root_start = self._base + pos
        self._bare_key = False
        self._root_after_prose = self._prose_seen
        if self._prose_seen:
            self._repair("surrounding prose")
        if self._in_fence:
            self._repair("markdown fence")
        self._repairs_before_root = dict(self._repairs)

    def _try_c(self, s: str, pos: int) -> int:
        """Parse a whole container with json's C scanner; its end, or -1 if it is not valid.

        The scanner is given a window of the text, widened while the container runs past
        it: a failure costs (in ``JSONDecodeError``'s line count, and in copying) what the
        window holds, not what precedes it. Each attempt is charged what it scanned and
        copied, so failing attempts (a broken document offers one at every bracket) cost
        at most a constant times the data.
        """
        n = len(s)
        start = _match_ws(s, pos + 1).end()
        if start < n and s[start] not in _VALUE_START:
            return -1  # '[note]', '{name}': the C scanner would fail at once, and costs more
        window = _C_WINDOW
        while True:
            stop = min(n, pos + window)
            part = s[pos:stop]
            self._budget -= (stop - pos) >> 3  # copying is some ten times cheaper than scanning
            try:
                value, end = _SCAN_ONCE(part, 0)
            except json.JSONDecodeError as exc:
                ran_out = exc.msg.startswith("Unterminated string") or exc.pos >= len(part) - 16
                self._budget -= len(part) if ran_out else exc.pos + 1
                if ran_out and stop < n and self._budget > 0:
                    window *= 4
                    continue
                return -1
            except (ValueError, RecursionError, StopIteration):
                self._budget -= len(part)
                return -1
            break
        self._budget -= end
        end += pos
        stack = self._stack
        if not stack:
            self._start_root(value, pos)
            self._collect_items(value, 0)
            self._end_root(end)
            return end
        top = stack[-1]
        if type(top) is dict:
            key = self._keys[-1]
            top[key] = value
        else:
            key = len(top)
            top.append(value)
            if top is self._items_list:
                self._items.append(value)
        depth = len(stack)
        if self._on_path[-1] and self._path_step(depth - 1, key):
            self._collect_items(value, depth)
        self._changed = True
        self._mode = _AFTER
        return end

    def _collect_items(self, value: Any, depth: int) -> None:
        """A complete container at ``item_path[:depth]``: hand out the items inside it."""
        path = self._item_path
        if path is None:
            return
        for step in path[depth:]:
            in_dict = type(value) is dict and type(step) is str and step in value
            in_list = type(value) is list and type(step) is int and 0 <= step < len(value)
            if not (in_dict or in_list):
                return
            value = value[step]
        if type(value) is list:
            self._items.extend(value)

    def _close(self, s: str, pos: int) -> int:
        """A closing bracket: close the open container (repairing a mismatched bracket)."""
        want = dict if s[pos] == "}" else list
        stack = self._stack
        if type(stack[-1]) is not want:
            depth = len(stack) - 1
            while depth >= 0 and type(stack[depth]) is not want:
                depth -= 1
            if depth < 0:
                raise _Syntax(f"unexpected {s[pos]!r}", pos)
            self._repair("mismatched bracket")
            while type(stack[-1]) is not want:
                self._pop()
        self._pop()
        pos += 1
        n = len(s)
        while stack and pos < n and s[pos] == ("}" if type(stack[-1]) is dict else "]"):
            self._pop()  # ']]]': close them all here
            pos += 1
        if not stack:
            self._end_root(pos)
        return pos

    def _pop(self) -> None:
        child = self._stack.pop()
        self._keys.pop()
        self._on_path.pop()
        if self._stack and self._stack[-1] is self._items_list:
            self._items.append(child)
        self._mode = _AFTER
        self._changed = True

    def _end_root(self, end: int) -> None:
        self._mode = _DONE
        self._end = self._base + end
        self._changed = True

    # -- strings ----------------------------------------------------------------------------

    def _open_string(self, s: str, pos: int, final: bool, *, key: bool) -> int:
        """A string the hot loop did not take: single-quoted, escaped, or not closed here."""
        quote = s[pos]
        if quote == "'":
            self._repair("single quotes")
            end = s.find("'", pos + 1)
            if (
                end >= 0
                and s.find("\\", pos + 1, end) < 0  # no escapes: take it whole
                and (key or _quote_closes(s, end + 1, final) == 1)
            ):
                text = s[pos + 1 : end]
                if _CONTROL.search(text) is not None:
                    self._repair("control character in string")
                if key:
                    self._keys[-1] = text
                    self._mode = _COLON
                else:
                    self._add(text)
                return end + 1
        self._start_string(quote, key=key)
        return pos + 1

    def _start_string(self, quote: str, *, key: bool) -> None:
        self._mode = _STRING
        self._quote = quote
        self._is_key = key
        self._parts = []
        self._shown = False
        self._grew = False

    def _string(self, s: str, pos: int, final: bool) -> int:
        """Scan a string body from ``pos``; return where scanning stopped."""
        parts = self._parts
        quote = self._quote
        search = _STRING_STOP[quote].search
        n = len(s)
        while True:
            m = search(s, pos)
            stop = n if m is None else m.start()
            if stop > pos:
                text = s[pos:stop]
                if _CONTROL.search(text) is not None:
                    self._repair("control character in string")
                parts.append(text)
                self._grew = True
            if m is None:
                return n
            if s[stop] == quote:
                closes = 1 if self._is_key else _quote_closes(s, stop + 1, final)
                if closes == 1:
                    self._end_string()
                    return stop + 1
                if closes < 0:  # what follows the quote is in the next chunk
                    self._carry = s[stop:]
                    return n
                self._repair("unescaped quote")
                parts.append(quote)
                self._grew = True
                pos = stop + 1
                continue
            pos = self._escape(s, stop, final)
            if pos < 0:  # escape split across chunks: keep it for the next one
                self._carry = s[stop:]
                return n

    def _escape(self, s: str, i: int, final: bool) -> int:
        """Decode the escape at ``s[i] == '\\'``; -1 if it needs characters not yet here."""
        n = len(s)
        parts = self._parts
        if i + 1 >= n:
            if final:
                return n
            return -1
        e = s[i + 1]
        if e != "u":
            char = _ESCAPES.get(e)
            if char is None:
                if e == "'":
                    char = "'"
                else:
                    self._repair("invalid escape")
                    char = "\\" + e
            parts.append(char)
            self._grew = True
            return i + 2
        if i + 6 > n and _HEX4.fullmatch(s[i + 2 :].ljust(4, "0")[:4]):
            return n if final else -1  # at the very end of the input, a cut-off escape is dropped
        if _HEX4.fullmatch(s, i + 2, i + 6) is None:
            self._repair("invalid escape")
            parts.append("\\u")
            self._grew = True
            return i + 2
        code = int(s[i + 2 : i + 6], 16)
        end = i + 6
        if 0xD800 <= code < 0xDC00:
            # a high surrogate: combine with a following low one, as json.loads does
            rest = s[end : end + 6]
            if (
                len(rest) < 6
                and not final
                and "\\u".startswith(rest[:2])
                and (len(rest) < 2 or _HEX4.fullmatch(rest[2:].ljust(4, "0")) is not None)
            ):
                return -1
            if rest[:2] == "\\u" and _HEX4.fullmatch(rest, 2) is not None:
                low = int(rest[2:], 16)
                if 0xDC00 <= low < 0xE000:
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    end += 6
        parts.append(chr(code))
        self._grew = True
        return end

    def _end_string(self) -> None:
        text = "".join(self._parts)
        self._parts = []
        self._grew = False
        if self._is_key:
            self._keys[-1] = text
            self._mode = _COLON
            return
        if self._shown:
            self._replace(text)
            if self._stack[-1] is self._items_list:
                self._items.append(text)
            self._changed = True
            self._mode = _AFTER
        else:
            self._add(text)

    def _replace(self, text: str) -> None:
        top = self._stack[-1]
        if type(top) is dict:
            top[self._keys[-1]] = text
        else:
            top[-1] = text

    def _show_partial(self) -> None:
        """Show the string still arriving (partial_strings): one join per chunk."""
        self._grew = False
        if self._mode != _STRING or self._is_key:
            return
        text = "".join(self._parts)
        self._parts = [text]
        if self._shown:
            self._replace(text)
        else:
            top = self._stack[-1]
            if type(top) is dict:
                top[self._keys[-1]] = text
            else:
                top.append(text)
            self._shown = True
        self._changed = True

    # -- bare tokens ------------------------------------------------------------------------

    def _start_word(self, s: str, pos: int, final: bool, *, key: bool) -> int:
        m = _match_word(s, pos)
        end = m.end()
        if end == pos:
            what = "a key" if key else "a value"
            raise _Syntax(f"expected {what}, found {s[pos]!r}", pos, pos + 1)
        self._is_key = key
        self._word_start = self._base + pos
        self._parts = [m.group()]
        self._mode = _WORD
        if end == len(s) and not final:
            return end
        self._end_word(pos, end)
        return end

    def _word(self, s: str, pos: int, final: bool) -> int:
        m = _match_word(s, pos)
        end = m.end()
        if end > pos:
            self._parts.append(m.group())
        if end == len(s) and not final:
            return end
        self._end_word(self._word_start - self._base, end)
        return end

    def _end_word(self, start: int, end: int) -> None:
        token = "".join(self._parts)
        self._parts = []
        if self._is_key:
            self._repair("unquoted key")
            self._bare_key = True
            self._keys[-1] = token
            self._mode = _COLON
            return
        self._add(self._scalar(token, start, end))

    def _scalar(self, token: str, start: int, end: int) -> Any:
        literal = _LITERALS.get(token)
        if literal is not None:
            if literal[1] is not None:
                self._repair(literal[1])
            return literal[0]
        m = _NUMBER.fullmatch(token)
        if m is None:
            raise _Syntax(f"unexpected {token[:40]!r}", start, end)
        try:
            if m.group(1) is None and m.group(2) is None:
                return int(token)
            return float(token)
        except ValueError as exc:  # more digits than int() accepts
            raise _Syntax(str(exc), start, end) from None

    # -- comments and end of input ----------------------------------------------------------

    def _comment_start(self, s: str, pos: int, final: bool) -> int:
        """``//``, ``/*`` or ``#`` (models writing Python or YAML habits into JSON)."""
        if s[pos] == "#":
            self._repair("comment")
            self._comment_return = self._mode
            self._mode = _LINE_COMMENT
            return pos + 1
        if pos + 1 >= len(s):
            if final:
                raise _Syntax("unexpected '/'", pos, pos + 1)
            self._carry = "/"
            return pos + 1
        nxt = s[pos + 1]
        if nxt == "/":
            kind = _LINE_COMMENT
        elif nxt == "*":
            kind = _BLOCK_COMMENT
        else:
            raise _Syntax("unexpected '/'", pos, pos + 1)
        self._repair("comment")
        self._comment_return = self._mode
        self._mode = kind
        return pos + 2

    def _close_all(self, pos: int) -> None:
        """The root ends at ``pos`` with brackets still open: complete or drop, then close."""
        self._finish_token()
        if self._stack:
            self._repair("missing closing bracket")
            while self._stack:
                self._pop()
            self._end_root(pos)

    def _finish_token(self) -> None:
        """At end of input: complete or drop the token in progress."""
        mode = self._mode
        if mode in (_LINE_COMMENT, _BLOCK_COMMENT):
            mode = self._mode = self._comment_return
        if mode == _STRING:
            self._repair("unterminated string")
            fence = "".join(self._parts).find("\n```")
            if fence >= 0:  # the string ran into the closing markdown fence
                self._parts = ["".join(self._parts)[:fence]]
            if self._is_key:
                self._repair("incomplete member dropped")
                self._parts = []
                self._mode = _AFTER
            else:
                self._end_string()
        elif mode == _WORD:
            token = "".join(self._parts)
            if self._is_key:
                self._repair("incomplete member dropped")
                self._mode = _AFTER
                return
            try:
                self._end_word(self._word_start - self._base, self._consumed - self._base)
            except _Syntax as exc:
                truncated = _NUMBERISH.fullmatch(token) is not None or any(
                    literal.startswith(token) for literal in _LITERALS
                )
                if not truncated:
                    raise ParseError(
                        f"{exc.message} at position {self._word_start}",
                        position=self._word_start,
                    ) from None
                self._repair("incomplete member dropped")
                self._mode = _AFTER
        elif mode == _COLON or (mode == _VALUE and type(self._stack[-1]) is dict):
            self._repair("incomplete member dropped")
        elif mode in (_VALUE, _KEY) and self._after_comma:
            self._repair("trailing comma")

    # -- before the root --------------------------------------------------------------------

    def _prose(self, s: str, pos: int, final: bool) -> int:
        """Skip prose and markdown fences up to the root's '{' or '['.

        A bracket starts the root only if what follows it looks like JSON ('[1', '{"a"',
        '{a:'), judged on the next ``_PEEK`` characters; '[note]' and '{name}' stay prose.
        """
        n = len(s)
        while pos < n:
            if self._reading_lang:
                m = _match_lang(s, pos)
                self._lang = (self._lang + m.group())[:64]
                pos = m.end()
                if pos < n:
                    self._reading_lang = False
                    self._json_fence = self._lang.strip().lower() in _JSON_FENCES
                continue
            if self._ticks:
                if s[pos] == "`":
                    self._ticks += 1
                    pos += 1
                    continue
                if self._ticks >= 3:
                    self._in_fence = not self._in_fence
                    self._json_fence = True
                    if self._in_fence:
                        self._reading_lang = True
                        self._lang = ""
                else:
                    self._prose_seen = True
                self._ticks = 0
                continue
            found = _PROSE_STOP.search(s, pos)
            stop = n if found is None else found.start()
            if not self._prose_seen and s[pos:stop].strip():
                self._prose_seen = True
            if found is None:
                return n
            pos = stop
            if s[pos] == "`":
                self._ticks = 1
                pos += 1
            elif self._in_fence and not self._json_fence:
                self._prose_seen = True
                pos += 1
            else:
                looks = _ARRAY_START if s[pos] == "[" else _OBJECT_START
                end = pos + 1 + _PEEK
                if looks.match(s, pos + 1, end) is not None or (
                    end <= n and _WS.fullmatch(s, pos + 1, end) is not None  # maybe
                ):
                    return self._open(s, pos)
                if end > n and not final:  # cannot tell yet: wait for more
                    self._carry = s[pos:]
                    return n
                self._prose_seen = True
                pos += 1
        return pos
