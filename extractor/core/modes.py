"""Output modes: how the model is asked to give its answer, one object per mode.

A mode knows everything that differs between the ways of getting JSON out of a chat model:
the request parameters that ask for it, what the system message says about it, how a
rejected answer is handed back in the re-ask, and what must be done to the parsed answer
before validation. Nothing else in the library compares mode names, so adding a mode is one
new `OutputMode` in `MODES`.

- ``json`` (default): ``response_format: json_object``; the schema travels in the system
  message, as type notation (`notation`). Works with every OpenAI-compatible gateway.
- ``json_schema``: strict structured outputs; the schema travels in the request, and the
  nulls that strictness forces for optional fields are dropped before validation.
- ``tools``: a forced function call whose arguments are the answer.
- ``compact``: json mode with every object of fixed properties written as the array of its
  values (`positional`): no keys, so fewer output tokens (0.62 of the characters of the
  invoice answers of benchmarks/cost.py).

Patch re-asks: when every problem of a rejected answer lies inside top-level properties, the
json and compact modes re-ask for only those properties and merge the reply into the answer
(see `extractor.core.loop`). A mode takes part through three members: ``patches`` (may its
re-asks be patches), ``patch_values`` (a patch reply as keyed values) and ``write`` (a merged
answer shown back to the model). Modes whose reply must conform to the whole schema
(``json_schema``, ``tools``) set ``patches = False``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, Literal

from ..errors import ConfigurationError
from .completion import Completion
from .positional import WRAPPER_KEY as POSITIONAL_KEY
from .positional import Positional
from .schema import drop_unrequested_nulls, render
from .target import WRAPPER_KEY, Target
from .tokens import answer_tokens

__all__ = ["MODES", "ModeName", "OutputMode", "compact_form_asked", "output_mode"]

ModeName = Literal["json", "json_schema", "tools", "compact"]


class OutputMode:
    """The json_object mode; the other modes override what differs."""

    name: str = "json"
    #: Whether the raw answer may go straight to the validator's JSON parser: False when the
    #: parsed data must be changed first (`prepare`).
    validates_raw: bool = True
    #: Where a list target's items are in the answer (streamed one by one by stream_items).
    items_path: tuple[str | int, ...] = (WRAPPER_KEY,)
    #: Whether a re-ask may ask for only the top-level properties that failed (a patch):
    #: False when the reply must conform to the whole schema (structured outputs, a tool's
    #: parameters), so that a partial reply is impossible.
    patches: bool = True

    def params(self, target: Target[Any]) -> dict[str, Any]:
        """Request parameters that ask for this mode's answer."""
        return {"response_format": {"type": "json_object"}}

    def instruction(self, target: Target[Any]) -> str:
        """What the system message says about the answer's form. OpenAI rejects json_object
        mode unless the word "JSON" appears in the messages: this sentence carries it."""
        return "Reply with only a JSON object of this type:\n" + target.prompt_schema

    def reask(self, answer: Completion, feedback: str, target: Target[Any]) -> list[dict[str, Any]]:
        """The two messages that hand a rejected answer back with the feedback on it."""
        return [
            {"role": "assistant", "content": answer.content or ""},
            {"role": "user", "content": feedback},
        ]

    def prepare(self, data: Any, target: Target[Any]) -> Any:
        """The parsed answer as the target's validator should see it; raises
        `validate.Invalid` when it cannot be (the problems go into the re-ask)."""
        return data

    def patch_values(self, data: Any, target: Target[Any], asked: tuple[str, ...]) -> Any:
        """A parsed patch reply (a JSON object of some top-level properties, written as this
        mode writes values) as keyed values, ready to replace the same properties of a
        prepared answer; ``asked`` names the properties the re-ask asked for. The reply may
        instead be a whole answer written again: it is taken whole when the result holds every
        required property, every property of the answer before and more than was asked, so a
        mode whose whole answers are not keyed objects converts those here too. A stream
        shows previews of the reply merged as it arrives, before this is applied."""
        return data

    def whole_reply(self, data: Any, asked: tuple[str, ...]) -> bool:
        """Whether a parsed patch reply is by its very form a whole answer written again;
        False when only its keys can tell (the loop judges those)."""
        return False

    def write(self, data: Any, target: Target[Any]) -> str:
        """A prepared (keyed) answer as this mode's model would have written it: how a full
        re-ask after a patch shows the merged answer back, and how few-shot examples are
        shown. The inverse of `prepare`."""
        return render(data)

    def answer_tokens(self, target: Target[Any]) -> int:
        """Estimated tokens of one answer (``extractor estimate``)."""
        return answer_tokens(target.schema)

    def live(self, target: Target[Any], asked: tuple[str, ...] = ()) -> Callable[[Any], Any]:
        """For stream snapshots, a function of one answer while it arrives (the parser's live
        value, growing in place) giving it as `prepare` would, without judging it; ``asked``:
        the properties a patch reply is asked for, as for `patch_values`."""
        return _as_is

    def __repr__(self) -> str:
        return f"<output mode {self.name}>"


def _as_is(data: Any) -> Any:
    return data


class JsonSchemaMode(OutputMode):
    name = "json_schema"
    validates_raw = False
    patches = False

    def params(self, target: Target[Any]) -> dict[str, Any]:
        schema = {"name": target.name, "schema": target.strict_schema, "strict": True}
        return {"response_format": {"type": "json_schema", "json_schema": schema}}

    def instruction(self, target: Target[Any]) -> str:
        # The schema travels in the request itself: repeating it would only cost tokens.
        return "Reply with one JSON object conforming to the response schema."

    def prepare(self, data: Any, target: Target[Any]) -> Any:
        # Strictness made the model write null for optional fields: drop those nulls so that
        # the target's own defaults apply.
        return drop_unrequested_nulls(data, target.schema)


class ToolsMode(OutputMode):
    name = "tools"
    patches = False

    def params(self, target: Target[Any]) -> dict[str, Any]:
        function = {
            "name": target.name,
            "description": "Record the data extracted from the text.",
            "parameters": target.prompt_schema_data,
        }
        return {
            "tools": [{"type": "function", "function": function}],
            "tool_choice": {"type": "function", "function": {"name": target.name}},
        }

    def instruction(self, target: Target[Any]) -> str:
        return f"Call the function {target.name} with the data as its JSON arguments."

    def reask(self, answer: Completion, feedback: str, target: Target[Any]) -> list[dict[str, Any]]:
        call_id = answer.tool_call_id or "call_0"
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": target.name, "arguments": answer.content or ""},
        }
        return [
            {"role": "assistant", "content": None, "tool_calls": [call]},
            {"role": "tool", "tool_call_id": call_id, "content": feedback},
        ]


# Where null goes needs no words here: the task says null where allowed for what the text
# omits, and the notation shows every optional value of a tuple as ``T | null``.
_COMPACT_INSTRUCTION = (
    f'Reply with only the JSON {{"{POSITIONAL_KEY}": V}}, V of this type; write tuples as arrays '
    "of their values in order:\n"
)
# The conversions of the targets whose compact instruction was written, by their notation:
# how a fake model answering a compact request finds the form to answer in (the notation
# decides the form, so targets with the same notation convert alike).
_SHOWN: OrderedDict[str, Positional] = OrderedDict()
_SHOWN_LIMIT = 1024
_SHOWN_LOCK = threading.Lock()


class CompactMode(OutputMode):
    """JSON mode with objects written as arrays of their values: no keys in the answer."""

    name = "compact"
    validates_raw = False
    items_path = (POSITIONAL_KEY, 0)  # {"values": [[item, ...]]}: the wrapper's one field

    def instruction(self, target: Target[Any]) -> str:
        notation = target.compact_prompt_schema
        with _SHOWN_LOCK:
            _SHOWN[notation] = target.positional
            _SHOWN.move_to_end(notation)
            if len(_SHOWN) > _SHOWN_LIMIT:
                _SHOWN.popitem(last=False)
        return _COMPACT_INSTRUCTION + notation

    def write(self, data: Any, target: Target[Any]) -> str:
        return render(target.positional.answer(data))

    def answer_tokens(self, target: Target[Any]) -> int:
        return answer_tokens(target.schema, keyed=False)

    def prepare(self, data: Any, target: Target[Any]) -> Any:
        # Keyed again (tolerant of keys the model wrote anyway); nulls written for absent
        # optional fields are dropped there, so that the target's defaults apply.
        return target.positional.to_keyed(data)

    def patch_values(self, data: Any, target: Target[Any], asked: tuple[str, ...]) -> Any:
        # A patch is keyed at the top with values in compact form (`Positional.patch`); a
        # whole answer written again is {"values": [...]}. to_keyed reads both, and a patch
        # of a property called "values" as the patch it was asked for.
        return target.positional.to_keyed(data, patch=asked)

    def whole_reply(self, data: Any, asked: tuple[str, ...]) -> bool:
        # The tuple of all the values, in its wrapper or bare: a null in it says "absent",
        # which must not let the answer before keep its value.
        if (
            isinstance(data, dict)
            and data.keys() == {POSITIONAL_KEY}
            and POSITIONAL_KEY not in asked
        ):
            data = data[POSITIONAL_KEY]
        return isinstance(data, list)

    def live(self, target: Target[Any], asked: tuple[str, ...] = ()) -> Callable[[Any], Any]:
        return target.positional.live(patch=asked).keyed


def compact_form_asked(system: str) -> Positional | None:
    """The conversion to answer in, when the system message ``system`` asks for a compact
    answer (None otherwise): for fake models, which get keyed answers to give
    (``Positional.answer``). Found for targets whose instruction this process wrote."""
    start = system.find(_COMPACT_INSTRUCTION)
    if start < 0:
        return None
    notation = system[start + len(_COMPACT_INSTRUCTION) :].split("\n\n", 1)[0]
    with _SHOWN_LOCK:
        return _SHOWN.get(notation)


MODES: Mapping[str, OutputMode] = {
    mode.name: mode for mode in (OutputMode(), JsonSchemaMode(), ToolsMode(), CompactMode())
}


def output_mode(name: str) -> OutputMode:
    """The mode called ``name``; a `ConfigurationError` naming the valid ones otherwise."""
    try:
        return MODES[name]
    except (KeyError, TypeError):
        raise ConfigurationError(
            f"unknown mode {name!r}: use one of {', '.join(map(repr, MODES))}."
        ) from None
