"""The incremental parser: a single-pass state machine over a model's text, fed the whole
text at once by :func:`~extractor.parse.parse` or chunk by chunk by the streaming driver, so
that both repair alike."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from ..errors import ParseError
from .result import MAX_DEPTH, Parsed, deeper_than
from .rules import (
    _AFTER_STRING,
    _BARE_KEY_COLON,
    _BRACKET,
    _C_MIN,
    _C_WINDOW,
    _CLOSER,
    _CLOSES,
    _CONTROL,
    _COSTLY,
    _DELIMITERS,
    _DIGITS,
    _DIGITS_OR_NOTHING,
    _DROPPED,
    _ELLIPSIS,
    _EMPTY,
    _ESCAPES,
    _FAST_LITERALS,
    _GROUP_SPACES,
    _GROUP_TAIL,
    _HEX4,
    _IDENTIFIER,
    _JOIN,
    _JSON_FENCES,
    _KEY_AHEAD,
    _KEY_COLON,
    _LITERALS,
    _LOST,
    _MAX_COSTLY,
    _MAX_DOUBTS,
    _MAX_REWINDS,
    _NOT_SCALAR,
    _NUMBER,
    _NUMBER_START,
    _NUMBERISH,
    _ODD_SPACE,
    _OPENERS,
    _PEEK,
    _PLAIN_STRING,
    _QUOTE_LOOKAHEAD,
    _REGEX,
    _ROOT_SEARCH,
    _SCAN_ONCE,
    _SHORT_INT,
    _SINGLE_QUOTED,
    _SMART,
    _STRING_STOP,
    _THOUSANDS,
    _THREE_DIGITS,
    _UNQUOTED_STOP,
    _VALUE_START,
    _WAIT,
    _WANTED,
    _WORD_END,
    _last_is_container,
    _lenient_number,
    _look_after,
    _match_after_comma,
    _match_lang,
    _match_word,
    _match_ws,
    _quote_verdict,
    _scanstring,
    _tail,
)

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
_UNQUOTED = 10  # inside an unquoted string value (models write {"city": New York})


@dataclass
class _Checkpoint:
    """A value string's first quote judged to be inside it: where to go back to if the
    string then runs to the end of the input (``["a" b]``), with the text seen since."""

    before: str  # the string's text before the quote
    quote: int  # absolute offset of the quote
    raw: list[str]  # the text from the data holding the quote on, as it arrived
    skip: int  # characters of ``raw`` up to and including the quote
    raw_end: int  # absolute offset just past ``raw``
    repairs: dict[str, None]  # the repairs before the quote
    spaced: bool  # a space follows the quote


class _Rewind(Exception):
    """Internal: a value string closed where a key follows; scan again from its first
    doubtful quote, read as its end (``["a" b], "y": 1``)."""


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
    follows the root is ignored, unless it shows that the root's closer was a stray
    (``{"a": 1}, "b": 2}``). The root must be an object or an array, which is what JSON
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
        self._fence_fresh = False  # in a fence, nothing but whitespace after its language yet
        self._prose_seen = False
        self._root_after_prose = False
        self._trailing_seen = False
        self._reopenable = False  # the root just closed, and its closer may be a stray
        self._checkpoint: _Checkpoint | None = None
        self._too_deep = False
        self._doubts = 0  # quotes judged to be inside the current string
        self._costly = 0  # repairs counted against _MAX_COSTLY
        self._rewinds = 0
        self._unquoted_depth = 0  # brackets opened inside an unquoted string value
        self._fed_tail = ""  # the last two characters fed
        self._before_data = ""  # the two characters before the data being scanned, if known
        self._after_digit_comma = False  # the word being read follows '1,' in an array
        self._after_digit_space = False  # ... or '1 ' (no comma: a digit group, or two items)
        self._key_bare = False  # the key just read was a bare word
        self._calls: set[int] = set()  # ids of the lists standing for NumberLong(...) and kin

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
        checkpoint = self._checkpoint
        if checkpoint is not None:
            checkpoint.raw.append(data[checkpoint.raw_end - self._base :])
            checkpoint.raw_end = self._base + len(data)
        # the two characters before ``data``: known unless some were carried over
        self._before_data = "" if len(data) > len(chunk) else self._fed_tail
        self._run(data, final=False)
        self._fed_tail = (self._fed_tail + chunk)[-2:]
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
        self._before_data = ""
        self._base = self._consumed - len(data)
        self._carry = ""
        self._changed = False
        self._run(data, final=True)
        if self._mode == _STRING and self._checkpoint is not None:
            self._rewind()
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
            except _Rewind:
                s = self._go_back()
                pos = 0
                continue
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

    def _go_back(self) -> str:
        """End the string at its first doubtful quote; the text after it, to scan again."""
        checkpoint = self._checkpoint
        assert checkpoint is not None
        self._checkpoint = None
        self._repairs = dict(checkpoint.repairs)
        self._parts = [checkpoint.before]
        self._end_string()
        self._base = checkpoint.quote + 1
        self._carry = ""
        return "".join(checkpoint.raw)[checkpoint.skip :]

    def _rewind(self) -> None:
        """A value string ran to the end after a quote judged to be inside it: read that
        quote as its end instead, if the rest then parses cleanly (``["a" b]``).

        Otherwise the string was cut off (``"He said "hi" and le``) and stays as it is,
        unless it swallowed closing brackets: then both readings are guesses, and the
        answer is refused rather than silently misread. Runs once, at the end of input.
        """
        checkpoint = self._checkpoint
        assert checkpoint is not None
        saved = self._save()
        rest = self._go_back()
        try:
            self._run(rest, final=True)
        except ParseError:
            pass
        else:
            if self._mode != _STRING:
                return
        self.__dict__.update(saved)
        if rest.rstrip(" \t\r\n`")[-1:] in ("}", "]"):
            self._error = ParseError(
                f"the string at position {checkpoint.quote} runs to the end of the answer over"
                " its closing brackets, or ends at an unescaped quote there; ask again",
                position=checkpoint.quote,
            )
            raise self._error

    def _save(self) -> dict[str, Any]:
        """The parser's state, with the value built so far copied (once, for ``_rewind``)."""
        state = dict(self.__dict__)
        state["_root"], state["_stack"], state["_items_list"] = copy.deepcopy(
            (self._root, self._stack, self._items_list)
        )
        for name in ("_keys", "_on_path", "_items", "_parts"):
            state[name] = list(state[name])
        state["_repairs"] = dict(self._repairs)
        return state

    def _repair(self, name: str) -> None:
        self._repairs[name] = None
        if name in _COSTLY:
            self._costly += 1
            if self._costly > _MAX_COSTLY:
                # Each of these costs microseconds in Python: a bound on their number keeps
                # any answer under a second, and an answer this broken is not worth keeping.
                self._error = ParseError(
                    f"more than {_MAX_COSTLY} repairs needed (the last, {name!r}, near position"
                    f" {self._consumed}): this is not a JSON answer; ask again",
                    position=self._consumed,
                )
                raise self._error

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
                elif mode == _UNQUOTED:
                    pos = self._unquoted(s, pos, final)
                elif mode == _DONE:
                    pos = self._after_root(s, pos, final)
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
                        self._key_bare = False
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
                    and not (
                        end < n
                        and s[end] in _AFTER_STRING
                        and "[" not in s[max(pos, end - 6) : end]
                    )
                    and self._verdict(s, end - 1, final, s[max(pos + 1, end - 17) : end - 1])
                    != _CLOSES
                ):
                    end = -1  # a quote inside the string, or what follows is not here yet
            elif c == "'":
                m = single_quoted(s, pos)
                if (
                    m is not None
                    and self._verdict(s, m.end() - 1, final, m.group(1)[-16:]) == _CLOSES
                ):
                    value = m.group(1)
                    end = m.end()
                    self._repairs["single quotes"] = None
            elif c in _NUMBER_START:
                m = number(s, pos)
                if (
                    m is not None
                    and m.end() < n
                    and s[m.end()] in _DELIMITERS
                    and not (  # '2,000' in an object: the helper reads digit groups
                        s[m.end()] == ","
                        and type(stack[-1]) is dict
                        and (m.end() + 1 == n or s[m.end() + 1] in _DIGITS)
                    )
                    and not (  # '[1 234]': the helper judges digit groups too
                        type(stack[-1]) is list and self._after_digit_and_space(s, pos)
                    )
                ):
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
                    elif c in "TFN":
                        self._repairs["python literal"] = None
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
        if c in _ODD_SPACE:  # no-break and ideographic spaces between tokens
            self._repair("non-ASCII whitespace")
            return pos + 1
        if c == "/" and mode == _VALUE and s[pos + 1 : pos + 2] not in ("/", "*"):
            return self._regex(s, pos, final)
        if c == "/" or c == "#":
            return self._comment_start(s, pos, final)
        if c == "`":
            if s.startswith("```", pos):  # a closing markdown fence: the root was cut off
                self._close_all(pos)
                return pos
            if len(s) - pos < 3 and not final and "```".startswith(s[pos:]):
                self._carry = s[pos:]
                return len(s)
        if c == "\u2026" and mode in (_VALUE, _KEY):
            self._repair("ellipsis")
            return pos + 1
        stack = self._stack
        if c == "," and (mode == _KEY or (mode == _VALUE and type(stack[-1]) is list)):
            # '[1,,2]', '{, "a": 1}'; but in '{"a": ,}' a value is missing
            self._repair("extra comma")
            self._after_comma = True
            return pos + 1
        if mode == _VALUE and type(stack[-1]) is dict and c in ",}])":
            self._repair("missing value")  # '{"a": , "b": 1}': null says so, and validates so
            self._add(None)
            return pos
        if mode == _AFTER:
            if c in "}])":
                return self._close(s, pos, final)
            if c == ":" or (
                c not in _OPENERS and not c.isalnum() and c not in "-_$+." and c not in _SMART
            ):
                raise _Syntax(f"expected ',' or a closing bracket, found {c!r}", pos)
            self._repair("missing comma")
            self._after_comma = False
            self._mode = _KEY if type(stack[-1]) is dict else _VALUE
            return pos
        if mode == _KEY and c in "{[" and self._reopen_last():
            return pos  # '{"a": [1]], {"b": 2}]}': the list was closed by a stray
        if mode in (_VALUE, _KEY):
            key = mode == _KEY
            if c in "}])" and (key or type(stack[-1]) is list):
                if self._after_comma:
                    self._repair("trailing comma")
                return self._close(s, pos, final)
            if not key and c in "{[(":
                return self._open(s, pos)
            if c == '"' or c == "'":
                return self._open_string(s, pos, final, key=key)
            if c in _SMART:
                self._repair("smart quotes")
                self._start_string(c, key=key)
                return pos + 1
            return self._start_word(s, pos, final, key=key)
        return self._no_colon(s, pos, final, c)

    def _last_value_is_number(self) -> bool:
        """Whether the object being read ends with a member whose value is a number."""
        members = self._stack[-1]
        if not isinstance(members, dict) or not members:
            return False
        value = next(reversed(members.values()))
        return isinstance(value, (int, float)) and not isinstance(value, bool)

    def _no_colon(self, s: str, pos: int, final: bool, c: str) -> int:
        """After a key, something other than ':'."""
        key = self._keys[-1]
        if self._key_bare and _NUMBER.fullmatch(key) is not None and self._last_value_is_number():
            # '{"x": 1,5}', '{"x": 1 234, "y": 2}': the rest of the number before it (a
            # decimal part, a digit group) or another value ('{"x": 1, 5}' for [1, 5]).
            # Dropped, the number would validate cut short.
            raise _Syntax(
                f"'{key}' right after a number where a key should be: part of that number "
                "(digit groups, a decimal comma) or a value of its own; it cannot tell; ask "
                "again",
                self._word_start - self._base,
            )
        if c in ",]":  # '{"a": [[1]], "x", 2]}': an item after a stray closed its list
            value = self._scalar(key, at_end=False) if self._key_bare else key
            if value is not _NOT_SCALAR and self._reopen_last():
                self._add(value)
                return pos
        if c in ",}" and (key in _LITERALS or _NUMBER.fullmatch(key) is not None):
            # '{"b": "x" true}': a value with no key of its own; nothing to attach it to
            self._repair("value without a key dropped")
            self._mode = _AFTER
            return pos
        if self._key_bare and c in "\"'":
            if not final and len(s) - pos < _PEEK:
                self._carry = s[pos:]
                return len(s)
            ahead = _KEY_AHEAD.match(s, pos)
            if ahead is not None and ahead.group(1):
                # '{"a": 1, COMMENT "b": 2}': a stray word before the real key
                self._repair("stray text dropped")
                self._key_bare = False
                self._mode = _KEY
                return pos
        if not self._key_bare and (c in _OPENERS or c in _SMART or c.isalnum() or c in "-."):
            self._repair("missing colon")  # '{"a" 1}'
            self._mode = _VALUE
            self._after_comma = False
            return pos
        raise _Syntax(f"expected ':' after the key, found {c!r}", pos)

    def _regex(self, s: str, pos: int, final: bool) -> int:
        """A JavaScript regular expression as a value (``/^[a-z]+$/i``): kept as text."""
        m = _REGEX.match(s, pos)
        n = len(s)
        if (m is None or m.end() >= n) and not final and "\n" not in s[pos:] and n - pos < _PEEK:
            self._carry = s[pos:]
            return n
        if m is None:
            raise _Syntax("unexpected '/'", pos, pos + 1)
        self._repair("regular expression")
        self._add(m.group())
        return m.end()

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
        elif len(s) - pos >= _C_MIN and self._budget > 0 and s[pos] != "(":
            end = self._try_c(s, pos)
            if end >= 0:
                self._c_backoff = 0
                return end
            # broken all over (a trailing comma in every object): try less and less often
            self._c_skip = self._c_backoff
            self._c_backoff = min(2 * self._c_backoff + 1, 63)
        n = len(s)
        if s[pos] == "(":
            self._repair("python tuple")
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
            self._too_deep = True
            raise _Syntax(
                f"nesting deeper than {MAX_DEPTH} levels, more than validation and"
                " serialisation can take",
                pos,
            )
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
        if deeper_than(value, MAX_DEPTH - len(self._stack), part, 0, end):
            return -1  # the frame-by-frame path raises the error, with its position
        end += pos
        stack = self._stack
        if not stack:
            self._start_root(value, pos)
            self._collect_items(value, 0)
            self._end_root(end, closed=True)
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

    def _close(self, s: str, pos: int, final: bool) -> int:
        """A closing bracket: close the open container, or repair a bracket that does not fit.

        A closer that does not fit the open container has three readings: a typo for the
        right closer, a closer whose inner closers are missing, or a stray to drop. What
        follows decides (``, "key":`` needs an object open, ``, value`` an array), so that
        ``{"a": [1, 2}, "b": 3}`` keeps ``b`` instead of ending the root at the ``}``.
        """
        want = dict if s[pos] == "}" else list
        stack = self._stack
        if type(stack[-1]) is want:
            self._pop()
            pos += 1
            n = len(s)
            while len(stack) > 1 and pos < n and s[pos] == _CLOSER[type(stack[-1])]:
                self._pop()  # ']]]': close them all here
                pos += 1
            if not stack:
                self._end_root(pos, closed=True)
            return pos
        look = _look_after(s, pos + 1, final)
        if look is None:  # what follows is not here yet
            self._carry = s[pos:]
            return len(s)
        depth = len(stack) - 1
        while depth >= 0 and type(stack[depth]) is not want:
            depth -= 1
        wanted = _WANTED.get(look)
        top = stack[-1]
        if wanted is None:
            pops = len(stack) - depth if depth >= 0 else 1
        elif type(top) is wanted and _last_is_container(top):
            pops = 0  # ']]' after a list in an object: the second one is a stray
        elif wanted is list and self._stray_after_list(s, pos) and self._reopen_last():
            self._mode = _AFTER  # '{"a": [1]], 2]}': the list goes on after a stray
            return pos + 1
        else:  # the fewest closings that leave open what follows needs, else drop the closer
            fits = (k for k in range(1, len(stack)) if type(stack[-1 - k]) is wanted)
            pops = next(fits, 0 if type(top) is wanted else 1)
        if pops == 0:
            self._repair("extra closing bracket")
            return pos + 1
        self._repair("mismatched bracket")
        for _ in range(pops):
            self._pop()
        if not stack:
            self._end_root(pos + 1, closed=True)
        return pos + 1

    def _pop(self) -> None:
        child = self._stack.pop()
        self._keys.pop()
        self._on_path.pop()
        if self._calls and id(child) in self._calls:  # NumberLong(2) is 2
            self._calls.discard(id(child))
            child = child[0] if len(child) == 1 else child
            parent = self._stack[-1]
            if type(parent) is dict:
                parent[self._keys[-1]] = child
            else:
                parent[-1] = child
        if self._stack and self._stack[-1] is self._items_list:
            self._items.append(child)
        self._mode = _AFTER
        self._changed = True

    def _end_root(self, end: int, *, closed: bool = False) -> None:
        """The root is complete at ``end``; ``closed`` if by its own closer, which may be stray."""
        self._mode = _DONE
        self._end = self._base + end
        self._reopenable = closed and type(self._root) is dict
        self._changed = True

    def _after_root(self, s: str, pos: int, final: bool) -> int:
        """After the root: reopen it if its closer was a stray (``{"a": 1}, "b": 2}``).

        The rest of the text is otherwise ignored (noted as surrounding prose).
        """
        if self._reopenable:
            look = _look_after(s, pos, final)
            if look is None:
                self._carry = s[pos:]
                return len(s)
            self._reopenable = False
            if look == "key":
                self._repair("extra closing bracket")
                self._stack.append(self._root)
                self._keys.append(None)
                self._on_path.append(self._item_path is not None)
                self._end = None
                self._mode = _AFTER
                return pos
        if not self._trailing_seen and s[pos:].strip(" \t\r\n`"):
            self._trailing_seen = True
            self._repair("surrounding prose")
        return len(s)

    # -- strings ----------------------------------------------------------------------------

    def _open_string(self, s: str, pos: int, final: bool, *, key: bool) -> int:
        """A string the hot loop did not take: single-quoted, escaped, or not closed here."""
        quote = s[pos]
        if quote == "'":
            self._repair("single quotes")
            end = s.find("'", pos + 1)
            # a key ends at its first quote: take it whole (the hot loop has tried values)
            if key and end >= 0 and s.find("\\", pos + 1, end) < 0:
                text = s[pos + 1 : end]
                if _CONTROL.search(text) is not None:
                    self._repair("control character in string")
                self._keys[-1] = text
                self._key_bare = False
                self._mode = _COLON
                return end + 1
        self._start_string(quote, key=key)
        return pos + 1

    def _start_string(self, quote: str, *, key: bool) -> None:
        self._doubts = 0
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
        entry = pos
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
            if s[stop] != "\\":  # the quote, or its smart counterpart
                if self._is_key:
                    verdict = _CLOSES
                else:  # the end of the string so far, from ``s`` when it holds enough
                    before = s[stop - 16 : stop] if stop - 16 >= entry else _tail(parts)
                    verdict = self._verdict(s, stop, final, before)
                if verdict == _CLOSES:
                    checkpoint = self._checkpoint
                    if (
                        checkpoint is not None
                        and self._rewinds < _MAX_REWINDS
                        and (
                            s[_match_ws(s, stop + 1).end() : stop + _QUOTE_LOOKAHEAD + 2][:1] == ":"
                            or (  # '["a" b"]': a missing comma and opening quote, not 'a" b'
                                self._doubts == 1
                                and checkpoint.spaced
                                and checkpoint.before[-1:].isalpha()
                                and type(self._stack[-1]) is list
                            )
                        )
                    ):
                        self._rewinds += 1
                        raise _Rewind  # the string should have ended at its doubtful quote
                    self._end_string()
                    return stop + 1
                if verdict == _WAIT:  # what follows the quote is in the next chunk
                    self._carry = s[stop:]
                    return n
                if verdict == _LOST:
                    self._lost_quote()
                    return stop
                if verdict == _JOIN:
                    self._repair("string concatenation")
                    pos = _match_ws(s, _match_ws(s, stop + 1).end() + 1).end()
                    quote = self._quote = s[pos]
                    search = _STRING_STOP[quote].search
                    pos += 1
                    continue
                self._doubts += 1
                if self._doubts > _MAX_DOUBTS:
                    raise _Syntax(
                        f"more than {_MAX_DOUBTS} unescaped quotes in one string: not JSON",
                        stop,
                    )
                if self._checkpoint is None:
                    self._checkpoint = _Checkpoint(
                        "".join(parts),
                        self._base + stop,
                        [s],  # not sliced: most checkpoints are dropped at once
                        stop + 1,
                        self._base + n,
                        dict(self._repairs),
                        s[stop + 1 : stop + 2] in (" ", "\t"),
                    )
                if not parts:  # '""value"': a doubled opening quote
                    self._repair("doubled quote")
                    pos = stop + 1
                    continue
                self._repair("unescaped quote")
                parts.append(s[stop])
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

    def _stray_after_list(self, s: str, pos: int) -> bool:
        """A ']' after a list in an object, then an item: a stray that closed the list early
        ('{"a": [1]], 2]}'), or a typo for the object's '}' ('[{"a": [1]], {"b": 2}]')?
        The item that follows tells: it is a sibling of the list's items, or of the object."""
        top = self._stack[-1]
        last = next(reversed(top.values()), None) if type(top) is dict else None
        if type(last) is not list:
            return False
        nxt = s[_match_after_comma(s, pos + 1).end()]
        kind = dict if nxt == "{" else list if nxt == "[" else None
        sibling = type(last[-1]) if last else None
        if sibling is not dict and sibling is not list:
            sibling = None
        return kind is sibling or kind is not dict

    def _reopen_last(self) -> bool:
        """Open again the list that is the open object's last value: what follows is an
        item, so the bracket that closed the list was a stray (``[[1]], {...}]``)."""
        top = self._stack[-1]
        if type(top) is not dict or not top:
            return False
        key, last = next(reversed(top.items()))
        if type(last) is not list:
            return False
        self._repair("extra closing bracket")
        self._keys[-1] = key
        on_path = self._on_path[-1] and self._path_step(len(self._stack) - 1, key)
        self._stack.append(last)
        self._keys.append(None)
        self._on_path.append(on_path)
        self._mode = _VALUE
        self._after_comma = True
        return True

    def _verdict(self, s: str, q: int, final: bool, before: str) -> int:
        return _quote_verdict(s, q, final, before, type(self._stack[-1]) is dict)

    def _lost_quote(self) -> None:
        """The string lost its closing quote before a comma: end it there, the comma read."""
        self._repair("missing closing quote")
        text = "".join(self._parts).rstrip()
        self._parts = [text[:-1].rstrip() if text.endswith(",") else text]
        self._end_string()
        self._after_comma = True
        self._mode = _KEY if type(self._stack[-1]) is dict else _VALUE

    def _end_string(self) -> None:
        self._checkpoint = None
        text = "".join(self._parts)
        self._parts = []
        self._grew = False
        if self._is_key:
            self._keys[-1] = text
            self._key_bare = False
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
        self._after_digit_comma = self._after_digit_space = False
        if not key and type(self._stack[-1]) is list:
            before = self._two_before(s, pos)
            if before[:1] in _DIGITS:
                self._after_digit_comma = before[1:] == ","
                self._after_digit_space = before[1:] in _GROUP_SPACES
        if end == len(s) and not final:
            return end
        return self._end_word(s, pos, end, final)

    def _two_before(self, s: str, pos: int) -> str:
        """The two characters before ``s[pos]``, from the input before ``s`` too."""
        return s[pos - 2 : pos] if pos >= 2 else (self._before_data + s[:pos])[-2:]

    def _after_digit_and_space(self, s: str, pos: int) -> bool:
        """Whether ``s[pos]`` follows a digit and one space (``1 234``)."""
        before = self._two_before(s, pos)
        return before[1:] in _GROUP_SPACES and before[:1] in _DIGITS

    def _word(self, s: str, pos: int, final: bool) -> int:
        m = _match_word(s, pos)
        end = m.end()
        if end > pos:
            self._parts.append(m.group())
        if end == len(s) and not final:
            return end
        return self._end_word(s, self._word_start - self._base, end, final)

    def _end_word(self, s: str, start: int, end: int, final: bool) -> int:
        """A bare word ends at ``s[end]``: a key, a literal or number, or the start of
        something longer; returns where scanning goes on (``len(s)`` to wait for more)."""
        token = "".join(self._parts)
        if _ELLIPSIS.fullmatch(token):  # '[1, 2, ...]': the model's "and so on"
            self._repair("ellipsis")
            self._parts = []
            self._mode = _KEY if self._is_key else _VALUE
            return end
        if self._is_key:
            self._parts = []
            self._repair("unquoted key")
            self._bare_key = True
            self._key_bare = True
            self._keys[-1] = token
            self._mode = _COLON
            return end
        n = len(s)
        nxt = s[end] if end < n else ""
        if nxt == "(" and _IDENTIFIER.fullmatch(token):  # NumberLong(2), ISODate("...")
            self._parts = []
            self._repair("function call")
            self._push([], end)
            self._calls.add(id(self._stack[-1]))
            return end + 1
        if (
            nxt == ","
            and type(self._stack[-1]) is dict
            and s[end + 1 : end + 2] in _DIGITS_OR_NOTHING
            and _SHORT_INT.fullmatch(token)
        ):
            # '{"amount": 2,000.50}': a comma between digit groups is not a separator
            if not final and n - end < 64:
                self._carry = s[end:]
                return n
            m = _THOUSANDS.match(s, end)
            if m is not None:
                self._parts = []
                self._repair("number format")
                digits = token + m.group(1).replace(",", "")
                self._add(float(digits) if "." in digits else int(digits))
                return end + len(m.group(1))
        if nxt == "/" and end + 1 >= n and not final:
            self._carry = s[end:]  # '1/3' or '1 //': the next character decides
            return n
        delimited = (
            nxt == "" or nxt in _WORD_END or (nxt == "/" and s[end + 1 : end + 2] in ("/", "*"))
        )
        if delimited:
            value = self._scalar(token, at_end=end >= n)
            if value is not _NOT_SCALAR:
                self._parts = []
                if value is not _DROPPED:
                    self._add(value)
                else:
                    self._repair("incomplete member dropped")
                    self._mode = _AFTER
                return end
        self._repair("unquoted string")
        self._mode = _UNQUOTED
        self._unquoted_depth = 0
        return end

    def _unquoted(self, s: str, pos: int, final: bool) -> int:
        """Inside an unquoted string value (``{"city": New York}``): up to a comma, a
        closing bracket, a quote or the end of the line."""
        n = len(s)
        while True:
            m = _UNQUOTED_STOP.search(s, pos)
            stop = n if m is None else m.start()
            self._parts.append(s[pos:stop])
            if m is None:
                if not final:
                    return n
                break
            c = s[stop]
            if c in "{[":  # 'words{in brackets}': brackets the text opens, it closes
                self._unquoted_depth += 1
            elif c in ",}]" and self._unquoted_depth:
                self._unquoted_depth -= c != ","
            else:
                break
            self._parts.append(c)
            pos = stop + 1
        if stop < n and s[stop] == '"':  # '[a", "b"]': the opening quote is what is missing
            after = _match_ws(s, stop + 1).end()
            if after >= n and not final:
                self._carry = s[stop:]
                return n
            if after >= n or s[after] in ",:]}":
                self._repair("missing opening quote")
                stop += 1
        text = "".join(self._parts).strip()
        fence = text.find("```")
        if fence >= 0:
            text = text[:fence].rstrip()
        self._parts = []
        self._add(text)
        return stop

    def _scalar(self, token: str, *, at_end: bool) -> Any:
        """The value of a delimited bare word; ``_NOT_SCALAR`` if it is none, ``_DROPPED`` if
        it is a number or literal cut off by the end of the input (``tr``, ``2e-``)."""
        literal = _LITERALS.get(token)
        if literal is not None:
            if literal[1] is not None:
                self._repair(literal[1])
            return literal[0]
        m = _NUMBER.fullmatch(token)
        if m is not None:
            if self._after_digit_space and _GROUP_TAIL.fullmatch(token):
                raise _Syntax(  # '[1 234]': one thousand two hundred and thirty-four, or two?
                    f"'{token}' after a space right after a number, with no comma: digit "
                    "groups or two numbers, it cannot tell; ask again",
                    self._word_start - self._base,
                )
            try:
                if m.group(1) is None and m.group(2) is None:
                    return int(token)
                return float(token)
            except ValueError as exc:  # more digits than int() accepts
                raise _Syntax(str(exc), self._word_start - self._base) from None
        if at_end and (
            _NUMBERISH.fullmatch(token) is not None
            or any(literal.startswith(token) for literal in _LITERALS)
        ):
            return _DROPPED
        value = _lenient_number(token)
        if value is not _NOT_SCALAR:
            if self._after_digit_comma and _THREE_DIGITS.fullmatch(token):
                raise _Syntax(  # '[1,000, 2]': one thousand, or one and zero?
                    f"'{token}' after a comma right after a number: digit groups or two"
                    " numbers, it cannot tell; ask again",
                    self._word_start - self._base,
                )
            self._repair("number format")
        return value

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
            self._parts = [self._cut_unterminated("".join(self._parts))]
            if self._is_key:
                self._repair("incomplete member dropped")
                self._parts = []
                self._mode = _AFTER
            else:
                self._end_string()
        elif mode == _WORD and self._is_key:
            self._repair("incomplete member dropped")
            self._parts = []
            self._mode = _AFTER
        elif mode in (_WORD, _UNQUOTED):
            try:
                if mode == _WORD:
                    self._end_word("", self._word_start - self._base, 0, True)
                if self._mode == _UNQUOTED:
                    self._unquoted("", 0, True)
            except _Syntax as exc:
                raise ParseError(
                    f"{exc.message} at position {self._word_start}", position=self._word_start
                ) from None
        elif mode == _COLON or (mode == _VALUE and type(self._stack[-1]) is dict):
            self._repair("incomplete member dropped")
        elif mode in (_VALUE, _KEY) and self._after_comma:
            self._repair("trailing comma")

    def _cut_unterminated(self, text: str) -> str:
        """A string still open at the end: cut the closing fence, and the closing brackets
        that its missing quote swallowed (``{"url": "https://x.org/}``)."""
        fence = text.find("\n```")
        if fence < 0 and text.rstrip().endswith("```"):
            fence = text.rstrip().rfind("```")
        if fence >= 0:
            text = text[:fence]
        stack = self._stack
        end = len(text.rstrip())
        closed = 0
        while (
            closed < len(stack) and end > 0 and text[end - 1] == _CLOSER[type(stack[-1 - closed])]
        ):
            closed += 1
            end = len(text[: end - 1].rstrip())
        if closed:
            self._repair("missing closing quote")
            return text[:end]
        return text

    # -- before the root ---

    def _other_fence(self, s: str, pos: int, final: bool) -> int:
        """Inside a fence labelled with another language: its body is taken as the root
        only if it starts with JSON (```` ```python\n{"a": 1}```` ); else skip to its end."""
        n = len(s)
        if self._fence_fresh:
            j = _match_ws(s, pos).end()
            if j == n:
                return n
            if s[j] in "[{":
                if _ROOT_SEARCH.match(s, j) is not None:
                    self._fence_fresh = False
                    return self._open(s, j)
                if not final and n - j <= _PEEK:
                    self._carry = s[j:]
                    return n
            self._fence_fresh = False
        self._prose_seen = True
        tick = s.find("`", pos)
        if tick < 0:
            return n
        self._ticks = 1
        return tick + 1

    # -- before the root, outside fences ---------------------------------------------------

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
                    self._fence_fresh = True
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
            if self._in_fence and not self._json_fence:
                pos = self._other_fence(s, pos, final)
                if self._mode != _PROSE:
                    return pos
                continue
            found = _ROOT_SEARCH.search(s, pos)
            stop = n if found is None else found.start()
            if found is not None and found.group("bare") and not final:
                found, stop = None, n  # more may follow the bracket
            if not final:  # a bracket near the end may yet be followed by JSON
                bracket = _BRACKET.search(s, max(pos, n - _PEEK - 1), stop)
                if bracket is not None:
                    stop = bracket.start()
                    self._carry = s[stop:]
                    found = None
            if not self._prose_seen and s[pos:stop].strip():
                self._prose_seen = True
            if found is None:
                return n
            pos = stop
            if s[pos] == "`":
                self._ticks = 1
                pos += 1
            else:
                return self._open(s, pos)
        return pos
