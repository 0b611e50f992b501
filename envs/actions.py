"""Action parsing: turn whatever the agent sent on one turn into a ``ParsedAction``.

The environment calls :func:`parse_action` on every ``step``. Accepted, each
model family's native form included (``form`` names which one was used):

1. ``react``: ReAct JSON tool call ``{"thought": "...", "action": {"name": ..., "arguments": {...}}}``
   or final answer ``{"thought": "...", "response": "..."}``;
2. ``openai``: an OpenAI assistant message, with ``tool_calls`` (``content`` may be null;
   ``content``/``reasoning_content``/``reasoning`` is the thought) or without (a final
   answer: ``content``); tool-call markup inside ``content`` (a server without a tool
   parser) is parsed as such;
3. ``tagged``: Hermes/Qwen ``<tool_call>{"name", "arguments"}</tool_call>`` blocks (one or
   more), or ``<response>…</response>``, with or without a ``<think>…</think>`` before;
4. ``json_call``: a bare call ``{"name", "arguments"}`` or Llama 3.x ``{"name", "parameters"}``
   (``llama`` when after ``<|python_tag|>``), or a JSON array of such calls;
5. ``mistral``: ``[TOOL_CALLS][{"name", "arguments"}, ...]`` or ``[TOOL_CALLS]name[ARGS]{...}``;
6. every other family's dialect (``docs/dialects.md``: syntax, thought/answer/refusal slots,
   parallel calls): ``harmony`` (gpt-oss), ``deepseek_v3``/``deepseek_v31``, ``granite``,
   ``functionary_v31``/``functionary_v32``, ``command_r7b``/``command_r``, ``kimi_k2``,
   ``gemma_tool_code``, ``pythonic`` (Llama 3.2/4, parsed with ``ast``, never evaluated),
   ``glm45`` and ``qwen3_coder`` (inside ``<tool_call>``), ``json_calls`` (several JSON calls in
   one turn), ``responses`` (OpenAI Responses items), ``anthropic`` (``tool_use`` blocks and
   messages), ``openai_refusal``; SDK objects (``model_dump()``) are read as their dicts;
7. ``text``: anything else that is not a broken tool-call attempt is a plain-text final
   answer (a ``<think>…</think>`` before it is the thought).

A broken tool-call attempt (invalid or truncated JSON, unclosed tags, a JSON scalar, any
dialect's call marker without a valid call) is malformed, never an answer, with the dialect's
expected shape in the message; a final answer that carries a call marker is malformed too.

The result separates two levels of badness:

- ``format_errors``: the action is usable (the env executes it) but not strictly
  well-formed. Codes: ``missing_thought``, ``unexpected_fields``, ``missing_arguments``,
  ``arguments_not_object``, ``text_outside_tags``, ``plain_text`` (an answer outside any
  protocol's answer slot), ``duplicate_blocks``, ``both_action_and_response``,
  ``empty_response``, ``code_fence``, ``unexpected_role``, ``invalid_content``, and
  ``malformed_action`` on every malformed result. Which of them zero R_fmt depends on the
  gate's mode (:func:`gate_errors`): ``strict`` counts all; ``native`` forgives what a
  model's native format legitimately omits (``NATIVE_TOLERATED``), except a missing
  thought in the ReAct JSON form, whose ``thought`` slot is mandatory.
- ``kind == "malformed"``: nothing usable; ``error`` is the structured observation the env
  returns to the agent (``{"error": "malformed_action", "message": ..., "expected_forms":
  ...}``) and the episode goes on.

``parse_action`` never raises, and every message it builds is bounded in length whatever
the size of the input. It runs in time linear in the input: one pass of orjson, tag and token
scanning with ``str.find`` from advancing positions, bounded literal-anchored patterns, and
``ast.parse`` capped at 32 KiB of Python-syntax calls.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

import orjson

__all__ = ["DIALECT_SHAPES", "EXPECTED_FORMS", "FORMS", "NATIVE_TOLERATED", "ParsedAction", "ToolCall", "as_plain",
           "call_marker", "gate_errors", "parse_action"]

EXPECTED_FORMS: Final[str] = (
    "one of: "
    '(1) ReAct JSON tool call {"thought": "...", "action": {"name": "<tool>", '
    '"arguments": {...}}}; '
    '(2) ReAct JSON final answer {"thought": "...", "response": "..."}; '
    '(3) OpenAI assistant message {"role": "assistant", "content": "<thought>", '
    '"tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "<tool>", '
    '"arguments": "<JSON object as a string>"}}]} (without tool_calls, "content" is the '
    "final answer); "
    '(4) tagged <think>...</think><tool_call>{"name": "<tool>", "arguments": {...}}'
    "</tool_call> (one or more tool_call blocks) or <think>...</think><response>...</response>; "
    '(5) a bare JSON call {"name": "<tool>", "arguments": {...}} (or Llama "parameters", after '
    "<|python_tag|>), or Mistral [TOOL_CALLS][{...}]; "
    "(6) any family's native call syntax (docs/dialects.md); "
    "(7) anything else that is not a broken tool call is a plain-text final answer"
)

# Format notes that a model's native format legitimately omits or adds: the native gate
# forgives them (a missing thought only outside the ReAct JSON form, whose slot is mandatory).
NATIVE_TOLERATED: Final = frozenset({"missing_thought", "text_outside_tags", "plain_text", "code_fence"})


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One requested tool invocation, passed through as sent (the env validates it)."""

    name: Any
    arguments: Any
    call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedAction:
    """The outcome of parsing one agent turn.

    Invariants: ``kind`` is ``"tool_call"``, ``"final"`` or ``"malformed"``; ``calls`` is
    non-empty iff ``kind == "tool_call"``; ``response`` is set iff ``kind == "final"``;
    ``error`` is set iff ``kind == "malformed"``; ``thought`` is ``None`` iff no non-blank
    thought was given.
    """

    kind: str
    form: str
    thought: str | None
    calls: tuple[ToolCall, ...]
    response: str | None
    format_errors: tuple[str, ...]
    error: dict[str, Any] | None


_REACT_KEYS: Final = frozenset({"thought", "action", "response"})
_ACTION_KEYS: Final = frozenset({"name", "arguments"})
_TAGGED_KEYS: Final = frozenset({"name", "arguments", "parameters"})  # Hermes templates write either
_JSON_CALL_KEYS: Final = frozenset({"name", "arguments", "parameters", "type", "id"})
_PYTHON_TAG: Final = "<|python_tag|>"
_MISTRAL_TAG: Final = "[TOOL_CALLS]"
_MISTRAL_ARGS: Final = "[ARGS]"
_END_TOKENS: Final = ("<|eot_id|>", "<|eom_id|>", "<|eot|>", "<|im_end|>", "<|end|>", "</s>", "<|call|>",
                      "<|return|>", "<｜end▁of▁sentence｜>", "<|END_OF_TURN_TOKEN|>", "<|end_of_text|>",
                      "<end_of_turn>", "<|eom|>", "<|observation|>")

#: Every ``form`` (``info["action_form"]``) ``parse_action`` reports; ``docs/dialects.md`` describes each.
FORMS: Final = ("react", "openai", "openai_refusal", "tagged", "json_call", "json_calls", "llama", "mistral", "text",
                "harmony", "deepseek_v3", "deepseek_v31", "granite", "functionary_v31", "functionary_v32",
                "command_r7b", "command_r", "kimi_k2", "gemma_tool_code", "pythonic", "responses", "anthropic",
                "glm45", "qwen3_coder", "unknown")

#: The shape each dialect's call takes, shown in the message of a malformed turn in that dialect.
DIALECT_SHAPES: Final = {
    "tagged": '<tool_call>{"name": "<tool>", "arguments": {...}}</tool_call>',
    "llama": '<|python_tag|>{"name": "<tool>", "parameters": {...}}',
    "mistral": '[TOOL_CALLS][{"name": "<tool>", "arguments": {...}}] or [TOOL_CALLS]<tool>[ARGS]{...}',
    "json_calls": '{"name": "<tool>", "arguments": {...}} objects, one after another',
    "harmony": "<|start|>assistant<|channel|>commentary to=functions.<tool> <|constrain|>json<|message|>{...}<|call|> "
               "(analysis channel: thought; final channel: answer)",
    "deepseek_v3": "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function"
                   "<｜tool▁sep｜><tool>\n```json\n{...}\n```<｜tool▁call▁end｜>"
                   "<｜tool▁calls▁end｜>",
    "deepseek_v31": "<｜tool▁calls▁begin｜><｜tool▁call▁begin｜><tool>"
                    "<｜tool▁sep｜>{...}<｜tool▁call▁end｜><｜tool▁calls▁end｜>",
    "granite": '<|tool_call|>[{"name": "<tool>", "arguments": {...}}]',
    "functionary_v31": "<function=<tool>>{...}</function>",
    "functionary_v32": ">>><tool>\n{...} (>>>all\n<text> is text: the answer when there is no call)",
    "command_r7b": '<|START_ACTION|>[{"tool_call_id": "0", "tool_name": "<tool>", "parameters": {...}}]<|END_ACTION|> '
                   "(<|START_THINKING|>: thought; <|START_RESPONSE|>: answer)",
    "command_r": 'Action: ```json\n[{"tool_name": "<tool>", "parameters": {...}}]\n```',
    "kimi_k2": "<|tool_calls_section_begin|><|tool_call_begin|>functions.<tool>:0<|tool_call_argument_begin|>{...}"
               "<|tool_call_end|><|tool_calls_section_end|>",
    "gemma_tool_code": '```tool_code\n<tool>(key="value")\n```',
    "pythonic": '[<tool>(key="value"), <tool>(key=1)] (keyword arguments, literal values)',
    "responses": '{"type": "function_call", "call_id": "...", "name": "<tool>", "arguments": "<JSON object as a string>"} '
                 "or a list of output items (reasoning, message, function_call)",
    "anthropic": '{"role": "assistant", "content": [{"type": "text", "text": "..."}, {"type": "tool_use", "id": "...", '
                 '"name": "<tool>", "input": {...}}]}',
    "glm45": "<tool_call><tool>\n<arg_key>key</arg_key>\n<arg_value>value</arg_value>\n</tool_call>",
    "qwen3_coder": "<tool_call>\n<function=<tool>>\n<parameter=key>\nvalue\n</parameter>\n</function>\n</tool_call>",
}

# Call markers: a turn (or an answer) that carries one is a tool-call attempt, never a final answer.
_CALL_MARKERS: Final = ("<tool_call>", "</tool_call>", _MISTRAL_TAG, _PYTHON_TAG, "<|python_start|>", "<|call|>",
                        "to=functions.", "<｜tool▁calls▁begin｜>", "<｜tool▁call▁begin｜>",
                        "<|tool_call|>", "<function=", "<|START_ACTION|>", "<|tool_calls_section_begin|>",
                        "<|tool_call_begin|>", "```tool_code", "<arg_key>", "<parameter=")
# Bounded patterns, each anchored on a literal: no nested quantifiers, linear-time search.
_COMMAND_R_RE: Final = re.compile(r"Action:\s{0,32}```")
_FUNCTIONARY_V32_RE: Final = re.compile(r">>>[A-Za-z_][\w.\-]{0,127}\n")
_FUNCTIONARY_V32_HEAD_RE: Final = re.compile(r"[A-Za-z_][\w.\-]{0,127}\n[ \t\r\n]{0,64}\{")
_PYTHONIC_START_RE: Final = re.compile(r"\[[ \t\r\n]{0,64}[A-Za-z_][\w.]{0,127}[ \t]{0,8}\(")
_IDENTIFIER_RE: Final = re.compile(r"[A-Za-z_][\w.\-]{0,127}")
_HARMONY_TOKEN_RE: Final = re.compile(r"<\|(start|end|call|return|message)\|>")
_HARMONY_RECIPIENT_RE: Final = re.compile(r"to=([^\s<]{1,256})")
_MAX_JSON_OBJECTS: Final = 32
# ast.parse costs ~1.5 ms per KiB of dense calls: 32 KiB holds 16 calls with the longest
# arguments the tools take (2,000-character notes) and keeps the worst case near 50 ms.
_MAX_PYTHONIC_CHARS: Final = 1 << 15
_JSON_FENCE_START_RE: Final = re.compile(r"```[ \t]*(?:json|JSON|\r?\n\s*[{\[])")
_JSON_VALUE_START: Final = frozenset('"-0123456789tfn[')
_OPENAI_MARKERS: Final = ("tool_calls", "content", "role", "refusal")

_OPEN_TAG_RE: Final = re.compile(r"<(think|tool_call|response)>")
_CLOSING_TAGS: Final = {"think": "</think>", "tool_call": "</tool_call>", "response": "</response>"}
_STRAY_TAG_RE: Final = re.compile(r"</?(?:think|tool_call|response)>")
_TAG_MARKERS: Final = ("<tool_call>", "<response>", "<think>", "</think>", "</tool_call>", "</response>")
_FENCE_RE: Final = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\r?\n(.*?)```", re.DOTALL)

_SNIPPET_CHARS: Final = 200
_NEAR_CHARS: Final = 40
_MAX_KEYS_SHOWN: Final = 8

_MALFORMED_ERRORS: Final = ("malformed_action",)


class _Malformed(Exception):
    """Internal: raised with the user-facing reason; never escapes ``parse_action``."""

    def __init__(self, message: str, form: str = "unknown") -> None:
        super().__init__(message)
        self.message = message
        self.form = form


def parse_action(action: str | bytes | dict[str, Any] | Any) -> ParsedAction:
    """Parse one agent action: a str/bytes in any accepted form, an already-decoded dict or
    list (a Responses output list, Anthropic content blocks), or an SDK object (anything with
    ``model_dump()``: an OpenAI ``ChatCompletionMessage``, a Responses output item, an
    Anthropic ``Message`` or content block).

    Never raises: anything unusable comes back as ``kind == "malformed"`` with a structured
    ``error`` observation. A final answer never carries a tool-call marker (``call_marker``).
    """
    try:
        if isinstance(action, str):
            result = _parse_text(action)
        elif isinstance(action, (bytes, bytearray, memoryview)):
            try:
                text = bytes(action).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _Malformed(f"input bytes are not valid UTF-8 (at byte {exc.start})") from None
            result = _parse_text(text)
        else:
            value = as_plain(action)
            if isinstance(value, dict):
                result = _parse_object(value, [])
            elif isinstance(value, list) and _typed_items(value):
                result = _parse_item_list(value)
            else:
                raise _Malformed(
                    f"action must be a JSON string (or bytes, or a decoded JSON object, or an SDK message), "
                    f"got {_short_type(action)}"
                )
        if result.kind == "final" and result.response is not None:
            marker = call_marker(result.response)
            if marker is not None:
                raise _Malformed(f"the answer carries the tool-call marker {marker!r} but no well-formed call: "
                                 "a turn with a call marker is a call, never an answer", result.form)
        return result
    except _Malformed as exc:
        return _malformed(exc.message, exc.form)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raise"; this is a last-ditch guard
        return _malformed(f"action could not be parsed ({type(exc).__name__})")


def call_marker(text: str) -> str | None:
    """The first tool-call marker of any dialect found in ``text`` (None: none). A turn that
    carries one is a call attempt: it parses as a call or is malformed, never an answer."""
    for marker in _CALL_MARKERS:
        if marker in text:
            return marker
    for pattern in (_COMMAND_R_RE, _FUNCTIONARY_V32_RE):
        found = pattern.search(text)
        if found is not None:
            return found.group(0)
    head = text[:256].lstrip()
    if head[:1] == "[":
        found = _PYTHONIC_START_RE.match(head)
        if found is not None:
            return found.group(0)
    return None


def as_plain(value: Any) -> Any:
    """SDK objects as plain JSON values (``model_dump(mode="json", exclude_none=True)``): the
    value itself, a list's items, and the items of a message's ``content``, ``tool_calls`` or
    ``output`` list (``{"role": "assistant", "content": response.content}`` with Anthropic
    blocks). Anything else comes back as it is."""
    value = _dump(value)
    if isinstance(value, (list, tuple)):
        return [_plain_fields(_dump(item)) for item in value]
    return _plain_fields(value)


def _plain_fields(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    fixed = None
    for key in ("content", "tool_calls", "output"):
        items = value.get(key)
        if isinstance(items, (list, tuple)) and (isinstance(items, tuple) or any(_is_model(i) for i in items)):
            fixed = fixed if fixed is not None else dict(value)
            fixed[key] = [_dump(item) for item in items]
    return fixed if fixed is not None else value


def _is_model(value: Any) -> bool:
    if isinstance(value, (str, bytes, dict, list, tuple, int, float, type(None))):
        return False
    try:
        return callable(getattr(value, "model_dump", None))
    except Exception:  # noqa: BLE001 - an object whose attribute access fails is not an SDK object
        return False


def _dump(value: Any) -> Any:
    if not _is_model(value):
        return value
    try:
        return value.model_dump(mode="json", exclude_none=True)
    except Exception as exc:  # noqa: BLE001 - a broken SDK object is a malformed action, never a crash
        raise _Malformed(f"{_short_type(value)}.model_dump() failed ({type(exc).__name__})") from None


def gate_errors(parsed: ParsedAction, mode: str = "native") -> tuple[str, ...]:
    """The format errors of ``parsed`` that fail the format gate in ``mode`` (``native`` or ``strict``)."""
    if mode == "strict":
        return parsed.format_errors
    return tuple(e for e in parsed.format_errors
                 if e not in NATIVE_TOLERATED or (e == "missing_thought" and parsed.form == "react"))


def _malformed(message: str, form: str = "unknown") -> ParsedAction:
    shape = DIALECT_SHAPES.get(form)
    if shape is not None:
        message = f"{_snip(message, 500)} (expected {form}: {shape})"
    return ParsedAction(
        kind="malformed",
        form=form,
        thought=None,
        calls=(),
        response=None,
        format_errors=_MALFORMED_ERRORS,
        error={"error": "malformed_action", "message": message, "expected_forms": EXPECTED_FORMS},
    )


def _done(errors: list[str]) -> tuple[str, ...]:
    if not errors:
        return ()
    return tuple(dict.fromkeys(errors))  # de-duplicated, first-seen order


# --- text dispatch ------------------------------------------------------------------------


def _parse_text(text: str) -> ParsedAction:
    s = _strip_end_tokens(text.strip())
    if not s:
        raise _Malformed("empty action")
    first = s[0]
    if first == "{":
        return _parse_json_text(s, [])
    if s.startswith(_PYTHON_TAG):
        return _parse_json_calls(s[len(_PYTHON_TAG):].strip(), "llama")
    if s.startswith(_MISTRAL_TAG):
        return _parse_mistral(s)
    if s.startswith("<|python_start|>") or (first == "[" and _PYTHONIC_START_RE.match(s) is not None):
        return _dialect(_parse_pythonic_turn, s, "pythonic")
    if first == "[" and (s[1:].lstrip()[:1] in ("{", "]", "[") or s.endswith("]")):
        return _parse_json_calls(s, "json_call")  # a JSON array (of calls, hopefully), not prose
    # Dialects with their own special tokens, found wherever they are in the turn.
    if "<|channel|>" in s or "<|message|>" in s or s.startswith("<|start|>"):
        return _dialect(_parse_harmony, s, "harmony")
    if _DS_CALL in s or _DS_CALLS in s:
        return _dialect(_parse_deepseek, s, "deepseek_v31")
    if _KIMI_SECTION in s or _KIMI_CALL in s:
        return _dialect(_parse_kimi, s, "kimi_k2")
    if "<|START_ACTION|>" in s or "<|START_RESPONSE|>" in s or "<|START_THINKING|>" in s:
        return _dialect(_parse_command_r7b, s, "command_r7b")
    if _GRANITE_TAG in s:
        return _dialect(_parse_granite, s, "granite")
    if "```tool_code" in s:
        return _dialect(_parse_gemma_tool_code, s, "gemma_tool_code")
    if s.startswith("```") and _JSON_FENCE_START_RE.match(s):
        return _parse_fenced(s)
    action = _COMMAND_R_RE.search(s)
    if action is not None:
        return _dialect(_parse_command_r, s, "command_r", action.start())
    if any(marker in s for marker in _TAG_MARKERS):
        try:
            return _parse_tagged(s)
        except _Malformed as exc:
            if exc.form == "unknown":
                exc.form = "tagged"
            raise
    if "<function=" in s:
        return _dialect(_parse_function_tags, s, "functionary_v31")
    if s.startswith("all\n") or _FUNCTIONARY_V32_HEAD_RE.match(s) is not None:
        # Functionary v3.2's generation prompt ends with ">>>": the turn starts with "all\n" or "name\n{"
        return _dialect(_parse_functionary_v32, ">>>" + s, "functionary_v32")
    if s.startswith(">>>") or _FUNCTIONARY_V32_RE.search(s) is not None:
        return _dialect(_parse_functionary_v32, s, "functionary_v32")
    return _plain_text(s)


def _dialect(parse: Any, s: str, form: str, *args: Any) -> ParsedAction:
    """Run one dialect's parser; a failure is malformed in that dialect (unless the parser
    named a more precise one)."""
    try:
        try:
            s.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _Malformed(f"action text is not valid Unicode (lone surrogate at {exc.start})") from None
        return parse(s, *args)
    except _Malformed as exc:
        if exc.form == "unknown":
            exc.form = form
        raise


def _strip_end_tokens(s: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        for token in _END_TOKENS:
            if s.endswith(token):
                s, stripped = s[: -len(token)].rstrip(), True
    return s


def _plain_text(s: str) -> ParsedAction:
    """A turn that is neither JSON nor tags: a final answer, unless it is a broken tool call."""
    if s[0] in _JSON_VALUE_START:
        try:
            value = orjson.loads(s)
        except orjson.JSONDecodeError:
            pass
        else:
            raise _Malformed(f"action must be a JSON object, got a JSON {_json_type(value)}")
    marker = call_marker(s)
    if marker is not None:
        raise _Malformed(f"text contains {marker} but no well-formed tool call; put the call first, "
                         "with its JSON complete")
    if "```json" in s or "```JSON" in s:
        raise _Malformed("a ```json code fence must wrap the whole action and contain one JSON object")
    return ParsedAction("final", "text", None, (), s, ("plain_text", "missing_thought"), None)


def _parse_json_calls(s: str, form: str) -> ParsedAction:
    """One JSON call object, a JSON array of them, or (Llama) several separated by ';'."""
    if not s:
        raise _Malformed(f"nothing after {_PYTHON_TAG}", form)
    try:
        if s[0] == "{" and ";" in s and form == "llama":
            try:
                value: Any = _loads(s, "tool call")
            except _Malformed:
                value = [_loads(part.strip(), "tool call") for part in s.split(";") if part.strip()]
        else:
            value = _loads(s, "tool call" if s[0] == "{" else "tool-call array")
        if isinstance(value, list) and form == "json_call" and _typed_items(value):
            return _parse_item_list(value)  # Responses output items or Anthropic content blocks
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(item, dict) for item in items):
            raise _Malformed("action must be a JSON object (or an array of tool-call objects), "
                             f"got a JSON {_json_type(value)}")
        errors: list[str] = []
        calls = tuple(_call_from_object(item, errors, f"tool call {n}", None, _JSON_CALL_KEYS)
                      for n, item in enumerate(items, 1))
        return ParsedAction("tool_call", form, None, calls, None, _done(errors + ["missing_thought"]), None)
    except _Malformed as exc:
        if exc.form == "unknown":
            exc.form = form
        raise


def _parse_mistral(s: str) -> ParsedAction:
    """``[TOOL_CALLS][{...}, ...]`` (v3 tokenizers) or ``[TOOL_CALLS]name[ARGS]{...}`` (v11+), repeated."""
    rest = s[len(_MISTRAL_TAG):].lstrip()
    if rest.startswith("[") or rest.startswith("{"):
        return _parse_json_calls(rest, "mistral")
    errors: list[str] = []
    calls = []
    for n, chunk in enumerate(s.split(_MISTRAL_TAG)[1:], 1):
        name, sep, arguments = chunk.partition(_MISTRAL_ARGS)
        name = name.strip()
        if not sep or not name:
            raise _Malformed(f"[TOOL_CALLS] call {n} has no name[ARGS]{{...}} call", "mistral")
        args = _loads(arguments.strip(), f"[TOOL_CALLS] call {n} arguments")
        if not isinstance(args, dict):
            errors.append("arguments_not_object")
        calls.append(ToolCall(name, args, None))
    return ParsedAction("tool_call", "mistral", None, tuple(calls), None, _done(errors + ["missing_thought"]), None)


def _parse_fenced(s: str) -> ParsedAction:
    match = _FENCE_RE.fullmatch(s)
    if match is None:
        if s.count("```") < 2:
            raise _Malformed("unclosed ``` code fence")
        raise _Malformed(
            "a ```json code fence must wrap the whole action and contain one JSON object"
        )
    inner = match.group(1).strip()
    if not inner.startswith("{"):
        if not inner:
            raise _Malformed("empty ``` code fence")
        value = _loads(inner, "code fence")
        raise _Malformed(f"code fence must contain a JSON object, got a JSON {_json_type(value)}")
    return _parse_json_text(inner, ["code_fence"])


def _parse_json_text(s: str, errors: list[str]) -> ParsedAction:
    try:
        value = orjson.loads(s)
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith("unexpected content after document") and not errors:
            return _parse_json_objects(s)
        raise _Malformed(_loads_message(s, exc, "action")) from None
    if not isinstance(value, dict):
        raise _Malformed(f"action must be a JSON object, got a JSON {_json_type(value)}")
    return _parse_object(value, errors)


def _parse_json_objects(s: str) -> ParsedAction:
    """Several JSON call objects one after another (concatenated, or one a line): each
    ``{"name", "arguments"}`` (or ``"parameters"``). At most ``_MAX_JSON_OBJECTS`` of them, so
    that the re-slicing stays linear in the text."""
    values: list[Any] = []
    rest = s
    while True:
        if len(values) >= _MAX_JSON_OBJECTS:
            raise _Malformed(f"more than {_MAX_JSON_OBJECTS} JSON objects in one turn", "json_calls")
        try:
            values.append(orjson.loads(rest))
            break
        except orjson.JSONDecodeError as exc:
            if not exc.msg.startswith("unexpected content after document") or not isinstance(exc.pos, int):
                raise _Malformed(_loads_message(rest, exc, f"JSON object {len(values) + 1}"), "json_calls") from None
            values.append(orjson.loads(rest[: exc.pos]))
            rest = rest[exc.pos :]
    errors: list[str] = []
    calls = []
    for n, value in enumerate(values, 1):
        if not isinstance(value, dict) or "name" not in value or not ("arguments" in value or "parameters" in value):
            raise _Malformed(f"JSON value {n} of {len(values)} in one turn is not a tool call "
                             f"(several JSON values in a turn must each be a call)", "json_calls")
        calls.append(_call_from_object(value, errors, f"tool call {n}", None, _JSON_CALL_KEYS))
    return ParsedAction("tool_call", "json_calls", None, tuple(calls), None, _done(errors + ["missing_thought"]), None)


def _loads(s: str, what: str) -> Any:
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError as exc:
        raise _Malformed(_loads_message(s, exc, what)) from None


def _loads_message(s: str, exc: orjson.JSONDecodeError, what: str) -> str:
    pos = exc.pos if isinstance(exc.pos, int) else 0
    near = s[max(0, pos - _NEAR_CHARS) : pos + _NEAR_CHARS]
    return (f"invalid JSON in {what} at position {pos} (line {exc.lineno}, column {exc.colno}): "
            f"{_snip(exc.msg, 120)}; near {near!r}" + _hint_fence(s))


def _hint_fence(s: str) -> str:
    if "```" in s:
        return " (a ```json code fence must wrap the whole action)"
    return ""


# --- JSON objects: ReAct and OpenAI -------------------------------------------------------


def _parse_object(obj: dict[Any, Any], errors: list[str]) -> ParsedAction:
    kind = obj.get("type")
    if "action" in obj or "response" in obj:
        form, parse = "react", _parse_react
    elif kind == "function_call" or (kind == "message" and _responses_content(obj.get("content"))):
        return _parse_item_list([obj])  # one Responses output item
    elif obj.get("object") == "response" and isinstance(obj.get("output"), list):
        return _parse_item_list(obj["output"])  # a whole Responses response
    elif kind in _ANTHROPIC_BLOCKS and kind != "text":
        return _parse_item_list([obj])  # one Anthropic content block
    elif (kind == "message" or "role" in obj) and _anthropic_content(obj.get("content")):
        return _parse_anthropic_message(obj, errors)
    elif any(marker in obj for marker in _OPENAI_MARKERS):
        form, parse = "openai", _parse_openai
    elif "name" in obj and ("arguments" in obj or "parameters" in obj):
        form, parse = "json_call", _parse_bare_call
    else:
        raise _Malformed(_no_known_keys(obj))
    try:
        return parse(obj, errors)
    except _Malformed as exc:
        exc.form = form
        raise


def _no_known_keys(obj: dict[Any, Any]) -> str:
    hint = ""
    if "name" in obj:
        hint = (
            '; a tool call needs its arguments: {"name": ..., "arguments": {...}}, or the ReAct '
            'wrapper {"thought": ..., "action": {"name": ..., "arguments": {...}}}'
        )
    return (
        "JSON object has none of 'action', 'response', 'tool_calls', 'content', "
        f"'name' with 'arguments' (keys: {_keys(obj)}){hint}"
    )


def _parse_bare_call(obj: dict[Any, Any], errors: list[str]) -> ParsedAction:
    call = _call_from_object(obj, errors, "tool call", None, _JSON_CALL_KEYS)
    errors.append("missing_thought")
    return ParsedAction("tool_call", "json_call", None, (call,), None, _done(errors), None)


def _parse_react(obj: dict[Any, Any], errors: list[str]) -> ParsedAction:
    if not _REACT_KEYS.issuperset(obj.keys()):
        errors.append("unexpected_fields")
    thought = _thought(obj.get("thought"), errors)
    action = obj.get("action")
    if action is not None:
        if not isinstance(action, dict):
            raise _Malformed(
                "'action' must be an object with 'name' and 'arguments', "
                f"got a JSON {_json_type(action)}"
            )
        if "response" in obj:
            errors.append("both_action_and_response")
        call = _call_from_object(action, errors, "action object", None)
        return ParsedAction("tool_call", "react", thought, (call,), None, _done(errors), None)
    if "response" not in obj:
        raise _Malformed("'action' is null and there is no 'response'")
    response = obj["response"]
    if not isinstance(response, str):
        raise _Malformed(f"'response' must be a string, got a JSON {_json_type(response)}")
    if _blank(response):
        errors.append("empty_response")
    return ParsedAction("final", "react", thought, (), response, _done(errors), None)


def _call_from_object(
    obj: dict[Any, Any], errors: list[str], where: str, call_id: str | None,
    allowed: frozenset[str] = _ACTION_KEYS,
) -> ToolCall:
    if "name" not in obj:
        raise _Malformed(f"{where} has no 'name' (keys: {_keys(obj)})")
    if not allowed.issuperset(obj.keys()):
        errors.append("unexpected_fields")
    if allowed is _TAGGED_KEYS and "arguments" in obj and "parameters" in obj:
        errors.append("unexpected_fields")
    key = "arguments" if "arguments" in obj or "parameters" not in obj else "parameters"
    if key not in obj:
        errors.append("missing_arguments")
        arguments: Any = {}
    else:
        arguments = obj[key]
        if isinstance(arguments, str) and key == "arguments" and allowed is _JSON_CALL_KEYS:
            # some servers send the arguments as a JSON string, as in OpenAI's tool_calls
            try:
                arguments = orjson.loads(arguments)
            except orjson.JSONDecodeError:
                pass
        if not isinstance(arguments, dict):
            errors.append("arguments_not_object")
    if allowed is _JSON_CALL_KEYS and isinstance(obj.get("id"), str):
        call_id = obj["id"]
    return ToolCall(obj["name"], arguments, call_id)


def _parse_openai(obj: dict[Any, Any], errors: list[str]) -> ParsedAction:
    role = obj.get("role", "assistant")
    if role != "assistant":
        errors.append("unexpected_role")
    content, content_ok = _content_text(obj.get("content"))
    reasoning = obj.get("reasoning_content")
    if not isinstance(reasoning, str) or _blank(reasoning):
        # vLLM's newer reasoning parsers use "reasoning".
        reasoning = obj.get("reasoning")
        if not isinstance(reasoning, str) or _blank(reasoning):
            reasoning = None

    tool_calls = obj.get("tool_calls")
    if tool_calls is not None and tool_calls != []:
        if not isinstance(tool_calls, list):
            raise _Malformed(f"'tool_calls' must be an array, got a JSON {_json_type(tool_calls)}")
        calls = tuple(_openai_call(i, tc, errors) for i, tc in enumerate(tool_calls))
        if not content_ok:
            errors.append("invalid_content")
        thought = content if content is not None and not _blank(content) else reasoning
        if thought is None:
            errors.append("missing_thought")
        return ParsedAction("tool_call", "openai", thought, calls, None, _done(errors), None)

    if not content_ok:
        raise _Malformed(
            "assistant message 'content' must be a string (or an array of text parts), "
            f"got a JSON {_json_type(obj.get('content'))}"
        )
    refusal = obj.get("refusal")
    if (content is None or _blank(content)) and isinstance(refusal, str) and not _blank(refusal):
        # OpenAI's structured refusal: the refusal text is the answer.
        return ParsedAction("final", "openai_refusal", reasoning, (), refusal, _done(errors), None)
    if content is None:
        raise _Malformed("assistant message has neither 'tool_calls' nor 'content' (nor a 'refusal')")
    if call_marker(content) is not None or content.lstrip().startswith(("{", "[{")):
        # a server without a tool-call parser hands the model's raw markup back as content
        inner = _parse_text(content)
        if inner.kind == "tool_call":
            thought = inner.thought if inner.thought is not None else reasoning
            inner_errors = [e for e in inner.format_errors if not (e == "missing_thought" and thought)]
            return ParsedAction("tool_call", "openai", thought, inner.calls, None,
                                _done(errors + inner_errors), None)
    if _blank(content):
        errors.append("empty_response")
        if reasoning is None:
            errors.append("missing_thought")
    return ParsedAction("final", "openai", reasoning, (), content, _done(errors), None)


def _openai_call(index: int, tc: Any, errors: list[str]) -> ToolCall:
    where = f"tool_calls[{index}]"
    if not isinstance(tc, dict):
        raise _Malformed(f"{where} must be an object, got a JSON {_json_type(tc)}")
    function = tc.get("function")
    if not isinstance(function, dict):
        raise _Malformed(f"{where} has no 'function' object (keys: {_keys(tc)})")
    if "name" not in function:
        raise _Malformed(f"{where}.function has no 'name' (keys: {_keys(function)})")
    arguments = function.get("arguments")
    if arguments is None:
        errors.append("missing_arguments")
        arguments = {}
    elif isinstance(arguments, str):
        try:
            decoded = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            errors.append("arguments_not_object")  # the raw string goes through; env rejects it
        else:
            arguments = decoded
            if not isinstance(decoded, dict):
                errors.append("arguments_not_object")
    elif not isinstance(arguments, dict):
        errors.append("arguments_not_object")
    call_id = tc.get("id")
    return ToolCall(function["name"], arguments, call_id if isinstance(call_id, str) else None)


def _content_text(content: Any) -> tuple[str | None, bool]:
    """An OpenAI ``content`` as text: (text or None, whether the value was acceptable)."""
    if content is None or isinstance(content, str):
        return content, True
    if isinstance(content, list):
        # The content-parts form: [{"type": "text", "text": "..."}, ...].
        texts = []
        for part in content:
            if not isinstance(part, dict) or not isinstance(part.get("text"), str):
                return None, False
            texts.append(part["text"])
        return "".join(texts), True
    return None, False


# --- tagged form --------------------------------------------------------------------------


def _parse_tagged(s: str) -> ParsedAction:
    errors: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    responses: list[str] = []
    try:
        s.encode("utf-8")
    except UnicodeEncodeError as exc:
        # Lone surrogates would break every later JSON serialisation of thought/response.
        raise _Malformed(f"action text is not valid Unicode (lone surrogate at {exc.start})") from None

    # Chat templates that pre-fill "<think>" in the prompt make the model emit only the
    # closing tag: text before a leading "</think>" is the thought.
    close = -1 if s.startswith("<think>") else s.find("</think>")
    if close != -1:
        prefix = s[:close]
        if _STRAY_TAG_RE.search(prefix) is None:
            if not _blank(prefix):
                thoughts.append(prefix.strip())
            s = s[close + len("</think>") :]

    # Structure first (unclosed or stray tags), then the block contents.
    # (str.find for the closing tag is several times faster than a lazy ".*?</\1>" regex.)
    blocks: list[tuple[str, str]] = []
    outside: list[str] = []
    pos = 0
    while (opening := _OPEN_TAG_RE.search(s, pos)) is not None:
        tag = opening.group(1)
        end = s.find(_CLOSING_TAGS[tag], opening.end())
        if end == -1:
            raise _Malformed(f"unclosed <{tag}> tag (no matching </{tag}>)")
        outside.append(s[pos : opening.start()])
        blocks.append((tag, s[opening.end() : end]))
        pos = end + len(_CLOSING_TAGS[tag])
    outside.append(s[pos:])

    stray_text = False
    for segment in outside:
        if _blank(segment):
            continue
        stray = _STRAY_TAG_RE.search(segment)
        if stray is not None:
            tag = stray.group(0)
            if tag.startswith("</"):
                raise _Malformed(f"closing tag {tag} has no matching opening tag")
            raise _Malformed(f"unclosed {tag} tag (no matching </{tag[1:]})")
        stray_text = True
    if stray_text:
        errors.append("text_outside_tags")

    think_blocks = len(thoughts)
    form = "tagged"
    for tag, body in blocks:
        if tag == "think":
            think_blocks += 1
            if think_blocks > 1:
                errors.append("duplicate_blocks")
            if not _blank(body):
                thoughts.append(body.strip())
        elif tag == "tool_call":
            call, style = _tagged_call(len(calls) + 1, body, errors)
            calls.append(call)
            form = form if calls[1:] else style
        else:
            if responses:
                errors.append("duplicate_blocks")
            responses.append(body.strip())

    thought = "\n".join(thoughts) if thoughts else None
    if calls or responses:
        if thought is None and stray_text:  # "Let me check.\n<tool_call>…": the prose is the thought
            thought = "".join(outside).strip()
        if thought is None:
            errors.append("missing_thought")
    if calls:
        if responses:
            errors.append("both_action_and_response")
        return ParsedAction("tool_call", form, thought, tuple(calls), None, _done(errors), None)
    if responses:
        if not responses[0]:
            errors.append("empty_response")
        return ParsedAction("final", "tagged", thought, (), responses[0], _done(errors), None)

    rest = "".join(outside).strip()
    if not rest:
        raise _Malformed("no <tool_call> or <response> block found, and no answer after the thought")
    # "<think>…</think>" then another form: a plain-text answer, a bare JSON call, [TOOL_CALLS]…
    inner = _parse_text(rest)
    if inner.kind == "malformed":
        return inner
    own = [e for e in errors if e != "text_outside_tags"]
    if thought is None:
        return ParsedAction(inner.kind, inner.form, inner.thought, inner.calls, inner.response,
                            _done(list(inner.format_errors) + own), None)
    inner_errors = [e for e in inner.format_errors if e != "missing_thought"] if inner.thought is None \
        else list(inner.format_errors)
    return ParsedAction(inner.kind, inner.form, thought if inner.thought is None else inner.thought,
                        inner.calls, inner.response, _done(inner_errors + own), None)


def _tagged_call(number: int, body: str, errors: list[str]) -> tuple[ToolCall, str]:
    """One ``<tool_call>`` block: Hermes/Qwen JSON (``"arguments"`` or ``"parameters"``), a
    Qwen3-Coder ``<function=…>`` block, or GLM-4.5 ``name`` + ``<arg_key>``/``<arg_value>`` pairs."""
    where = f"<tool_call> block {number}"
    stripped = body.strip()
    if not stripped:
        raise _Malformed(f"{where} is empty")
    if stripped.startswith("<function="):
        calls, rest, style = _function_blocks(stripped, errors, where)
        if len(calls) != 1 or not _blank(rest):
            raise _Malformed(f"{where} must hold one <function=...>...</function> block", "qwen3_coder")
        return calls[0], style
    if "<arg_key>" in stripped or (stripped[0] != "{" and "\n" in body and _IDENTIFIER_RE.fullmatch(stripped)):
        return _glm_call(stripped, where, errors), "glm45"
    value = _loads(stripped, where)
    if not isinstance(value, dict):
        raise _Malformed(f"{where} must contain a JSON object, got a JSON {_json_type(value)}")
    return _call_from_object(value, errors, where, None, _TAGGED_KEYS), "tagged"


# --- other families' dialects -------------------------------------------------------------
# Each parser scans with str.find from advancing positions (or one finditer over literal
# tokens): linear in the turn's length. Prose (and a think block) before a dialect's call
# section is the turn's thought, as the families' chat templates put it.

_DS_CALLS: Final = "<\uff5ctool\u2581calls\u2581begin\uff5c>"
_DS_CALLS_END: Final = "<\uff5ctool\u2581calls\u2581end\uff5c>"
_DS_CALL: Final = "<\uff5ctool\u2581call\u2581begin\uff5c>"
_DS_CALL_END: Final = "<\uff5ctool\u2581call\u2581end\uff5c>"
_DS_SEP: Final = "<\uff5ctool\u2581sep\uff5c>"
_KIMI_SECTION: Final = "<|tool_calls_section_begin|>"
_KIMI_SECTION_END: Final = "<|tool_calls_section_end|>"
_KIMI_CALL: Final = "<|tool_call_begin|>"
_KIMI_ARGS: Final = "<|tool_call_argument_begin|>"
_KIMI_CALL_END: Final = "<|tool_call_end|>"
_GRANITE_TAG: Final = "<|tool_call|>"
_R7B_OPEN_RE: Final = re.compile(r"<\|START_(THINKING|ACTION|RESPONSE)\|>")
_R7B_STRAY_RE: Final = re.compile(r"<\|(?:START|END)_(?:THINKING|ACTION|RESPONSE)\|>")
_COHERE_KEYS: Final = frozenset({"tool_call_id", "tool_name", "parameters"})
_RESPONSES_ITEMS: Final = frozenset({"reasoning", "message", "function_call"})
_RESPONSES_CALL_KEYS: Final = frozenset({"type", "id", "call_id", "name", "arguments", "status", "namespace"})
_ANTHROPIC_BLOCKS: Final = frozenset({"text", "thinking", "redacted_thinking", "tool_use"})
_ANTHROPIC_TOOL_KEYS: Final = frozenset({"type", "id", "name", "input", "caller", "cache_control"})


def _prefix_thought(prefix: str) -> str | None:
    text = prefix.replace("<think>", "").replace("</think>", "").strip()
    return text or None


def _calls_or_answer(form: str, thoughts: list[str], calls: list[ToolCall], answers: list[str], answer: str,
                     errors: list[str], nothing: str) -> ParsedAction:
    """A turn of a dialect with separate thought, call and answer blocks: its calls, else its
    answer (``answer``, built from ``answers``); ``nothing`` is the error when it has neither."""
    thought = "\n".join(thoughts) if thoughts else None
    if calls:
        if answers:
            errors.append("both_action_and_response")
        return _finish_calls(form, thought, calls, errors)
    if not answers:
        raise _Malformed(nothing)
    if len(answers) > 1:
        errors.append("duplicate_blocks")
    if thought is None:
        errors.append("missing_thought")
    if _blank(answers[0]):
        errors.append("empty_response")
    return ParsedAction("final", form, thought, (), answer, _done(errors), None)


def _finish_calls(form: str, thought: str | None, calls: list[ToolCall], errors: list[str]) -> ParsedAction:
    if not calls:
        raise _Malformed("no tool call found")
    if thought is None:
        errors.append("missing_thought")
    return ParsedAction("tool_call", form, thought, tuple(calls), None, _done(errors), None)


def _arguments(text: str, where: str, errors: list[str]) -> Any:
    args = _loads(text.strip(), where)
    if not isinstance(args, dict):
        errors.append("arguments_not_object")
    return args


def _delimited(s: str, begin: str, end: str) -> tuple[list[str], list[str]]:
    """The bodies of the ``begin``…``end`` blocks of ``s`` and the text around them."""
    bodies: list[str] = []
    gaps: list[str] = []
    pos = 0
    while (start := s.find(begin, pos)) != -1:
        stop = s.find(end, start + len(begin))
        if stop == -1:
            raise _Malformed(f"unclosed {begin} (no {end})")
        body = s[start + len(begin) : stop]
        if begin in body:
            raise _Malformed(f"unclosed {begin} (another {begin} before its {end})")
        gaps.append(s[pos:start])
        bodies.append(body)
        pos = stop + len(end)
    gaps.append(s[pos:])
    for gap in gaps:
        if end in gap:
            raise _Malformed(f"{end} without its {begin}")
    return bodies, gaps


def _section(s: str, begin: str, end: str) -> tuple[str, str, str]:
    """(text before, section body, text after) of the first ``begin``…``end`` section."""
    start = s.find(begin)
    if start == -1:
        raise _Malformed(f"call tokens outside a {begin} section")
    stop = s.find(end, start + len(begin))
    if stop == -1:
        raise _Malformed(f"unclosed {begin} (no {end})")
    return s[:start], s[start + len(begin) : stop], s[stop + len(end) :]


def _section_calls(s: str, begin: str, end: str, call: str, call_end: str) -> tuple[str, list[str], str]:
    """``(text before, call bodies, text after)`` of a ``begin``…``end`` section that holds only
    ``call``…``call_end`` blocks."""
    prefix, section, after = _section(s, begin, end)
    bodies, gaps = _delimited(section, call, call_end)
    if not bodies or not all(_blank(g) for g in gaps):
        raise _Malformed(f"a {begin} section holds only {call}…{call_end} calls")
    return prefix, bodies, after


def _parse_deepseek(s: str) -> ParsedAction:
    """DeepSeek V3/R1 ``function<｜tool▁sep｜>name\\n```json\\n{…}\\n```'' and V3.1 ``name<｜tool▁sep｜>{…}``."""
    prefix, bodies, after = _section_calls(s, _DS_CALLS, _DS_CALLS_END, _DS_CALL, _DS_CALL_END)
    errors: list[str] = []
    calls = []
    form = ""
    for n, body in enumerate(bodies, 1):
        head, sep, rest = body.partition(_DS_SEP)
        if not sep:
            raise _Malformed(f"call {n} has no {_DS_SEP}")
        rest = rest.strip()
        if head.strip() == "function" and not rest.startswith("{"):
            style = "deepseek_v3"
            name, _, args_text = rest.partition("\n")
            args_text = _unfence(args_text.strip(), style)
        else:
            style, name, args_text = "deepseek_v31", head, rest
        name = name.strip()
        if not name:
            raise _Malformed(f"call {n} has no tool name", style)
        try:
            calls.append(ToolCall(name, _arguments(args_text, f"call {n} arguments", errors), None))
        except _Malformed as exc:
            exc.form = style
            raise
        form = form or style
    if not _blank(after) or _DS_CALL in prefix:
        errors.append("text_outside_tags")
    return _finish_calls(form, _prefix_thought(prefix), calls, errors)


def _unfence(text: str, form: str) -> str:
    if not text.startswith("```"):
        return text
    newline = text.find("\n")
    if newline == -1 or not text.endswith("```") or len(text) < newline + 4:
        raise _Malformed("unclosed ```json fence around the arguments", form)
    return text[newline + 1 : -3]


def _parse_kimi(s: str) -> ParsedAction:
    """Kimi K2: ``functions.name:index<|tool_call_argument_begin|>{…}``; the id is the call id."""
    prefix, bodies, after = _section_calls(s, _KIMI_SECTION, _KIMI_SECTION_END, _KIMI_CALL, _KIMI_CALL_END)
    errors: list[str] = []
    calls = []
    for n, body in enumerate(bodies, 1):
        call_id, sep, args_text = body.partition(_KIMI_ARGS)
        call_id = call_id.strip()
        if not sep or not call_id:
            raise _Malformed(f"call {n} has no functions.<tool>:<index>{_KIMI_ARGS}")
        name = call_id.rpartition(":")[0] if ":" in call_id else call_id
        name = name.removeprefix("functions.")
        calls.append(ToolCall(name, _arguments(args_text, f"call {n} arguments", errors), call_id))
    if not _blank(after) or _KIMI_CALL in prefix:
        errors.append("text_outside_tags")
    return _finish_calls("kimi_k2", _prefix_thought(prefix), calls, errors)


def _cohere_calls(value: Any, errors: list[str], form: str) -> list[ToolCall]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, dict) for item in items):
        raise _Malformed(f"the action must be a JSON array of call objects, got a JSON {_json_type(value)}", form)
    calls = []
    for n, item in enumerate(items, 1):
        if "tool_name" not in item:
            raise _Malformed(f"action {n} has no 'tool_name' (keys: {_keys(item)})", form)
        if not _COHERE_KEYS.issuperset(item.keys()):
            errors.append("unexpected_fields")
        if "parameters" not in item:
            errors.append("missing_arguments")
        arguments = item.get("parameters", {})
        if not isinstance(arguments, dict):
            errors.append("arguments_not_object")
        call_id = item.get("tool_call_id")
        calls.append(ToolCall(item["tool_name"], arguments,
                              str(call_id) if isinstance(call_id, (str, int)) and not isinstance(call_id, bool) else None))
    return calls


def _parse_command_r7b(s: str) -> ParsedAction:
    """Command R7B: ``<|START_THINKING|>`` thought, ``<|START_ACTION|>[…]<|END_ACTION|>`` calls,
    ``<|START_RESPONSE|>`` answer."""
    errors: list[str] = []
    thoughts: list[str] = []
    responses: list[str] = []
    calls: list[ToolCall] = []
    outside: list[str] = []
    pos = 0
    while (opening := _R7B_OPEN_RE.search(s, pos)) is not None:
        block = opening.group(1)
        closing = f"<|END_{block}|>"
        end = s.find(closing, opening.end())
        if end == -1:
            raise _Malformed(f"unclosed <|START_{block}|> (no {closing})")
        outside.append(s[pos : opening.start()])
        body = s[opening.end() : end]
        if block == "THINKING":
            if not _blank(body):
                thoughts.append(body.strip())
        elif block == "RESPONSE":
            responses.append(body.strip())
        else:
            calls.extend(_cohere_calls(_loads(body.strip(), "<|START_ACTION|> block"), errors, "command_r7b"))
        pos = end + len(closing)
    outside.append(s[pos:])
    for segment in outside:
        stray = _R7B_STRAY_RE.search(segment)
        if stray is not None:
            raise _Malformed(f"{stray.group(0)} without its matching token")
        if not _blank(segment):
            errors.append("text_outside_tags")
    return _calls_or_answer("command_r7b", thoughts, calls, responses, responses[0] if responses else "", errors,
                            "no <|START_ACTION|> call and no <|START_RESPONSE|> answer")


def _parse_command_r(s: str, at: int) -> ParsedAction:
    """Command-R: optional prose (a plan), then ``Action: ```json [{"tool_name", "parameters"}] ````."""
    fence = s.find("```", at)
    body_start = fence + 3
    for tag in ("json", "JSON"):
        if s.startswith(tag, body_start):
            body_start += len(tag)
    close = s.find("```", body_start)
    if close == -1:
        raise _Malformed("unclosed ``` fence after Action:")
    errors: list[str] = []
    calls = _cohere_calls(_loads(s[body_start:close].strip(), "Action: block"), errors, "command_r")
    if not _blank(s[close + 3 :]):
        errors.append("text_outside_tags")
    return _finish_calls("command_r", _prefix_thought(s[:at]), calls, errors)


def _parse_granite(s: str) -> ParsedAction:
    """Granite 3: ``<|tool_call|>[{"name", "arguments"}, …]`` after optional prose."""
    at = s.find(_GRANITE_TAG)
    rest = s[at + len(_GRANITE_TAG) :].strip()
    if not rest:
        raise _Malformed(f"nothing after {_GRANITE_TAG}")
    value = _loads(rest, f"{_GRANITE_TAG} calls")
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, dict) for item in items):
        raise _Malformed(f"{_GRANITE_TAG} must be followed by a JSON array of calls, got a JSON {_json_type(value)}")
    errors: list[str] = []
    calls = [_call_from_object(item, errors, f"tool call {n}", None, _JSON_CALL_KEYS) for n, item in enumerate(items, 1)]
    return _finish_calls("granite", _prefix_thought(s[:at]), calls, errors)


def _parse_function_tags(s: str) -> ParsedAction:
    """Functionary v3.1 ``<function=name>{…}</function>`` (or Qwen3-Coder's ``<function=name>``
    with ``<parameter=…>`` blocks, without the ``<tool_call>`` wrapper)."""
    at = s.find("<function=")
    errors: list[str] = []
    calls, rest, form = _function_blocks(s[at:], errors, "turn")
    if not _blank(rest):
        errors.append("text_outside_tags")
    return _finish_calls(form, _prefix_thought(s[:at]), calls, errors)


def _function_blocks(text: str, errors: list[str], where: str) -> tuple[list[ToolCall], str, str]:
    """Consecutive ``<function=name>…</function>`` blocks at the start of ``text``: the calls,
    the text after the last one, and the style (``functionary_v31``: a JSON body;
    ``qwen3_coder``: ``<parameter=…>`` blocks)."""
    calls: list[ToolCall] = []
    form = ""
    pos = 0
    while (at := text.find("<function=", pos)) != -1 and (not calls or _blank(text[pos:at])):
        name_end = text.find(">", at + 10, at + 10 + 256)
        name = text[at + 10 : name_end].strip() if name_end != -1 else ""
        if not _IDENTIFIER_RE.fullmatch(name):
            raise _Malformed(f"{where}: <function= must be followed by the tool name and '>'")
        close = text.find("</function>", name_end + 1)
        if close == -1:
            raise _Malformed(f"{where}: unclosed <function={_snip(name, 60)}> (no </function>)")
        body = text[name_end + 1 : close]
        if "<function=" in body:
            raise _Malformed(f"{where}: unclosed <function={_snip(name, 60)}> (another <function= before </function>)")
        stripped = body.strip()
        if stripped.startswith("{"):
            style = "functionary_v31"
            try:
                arguments = _arguments(stripped, f"<function={_snip(name, 60)}> arguments", errors)
            except _Malformed as exc:
                exc.form = style
                raise
        else:
            style = "qwen3_coder"
            arguments = _xml_parameters(body, f"<function={_snip(name, 60)}>")
        calls.append(ToolCall(name, arguments, None))
        form = form or style
        pos = close + len("</function>")
    return calls, text[pos:], form


def _xml_value(text: str) -> Any:
    """An argument value of an XML-ish dialect: its JSON value where it parses as JSON, else the text."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _xml_parameters(body: str, where: str) -> dict[str, Any]:
    """Qwen3-Coder ``<parameter=key>\\nvalue\\n</parameter>`` blocks (one newline each side stripped)."""
    arguments: dict[str, Any] = {}
    pos = 0
    while (at := body.find("<parameter=", pos)) != -1:
        if not _blank(body[pos:at]):
            raise _Malformed(f"{where}: text between <parameter=...> blocks", "qwen3_coder")
        key_end = body.find(">", at + 11, at + 11 + 256)
        key = body[at + 11 : key_end].strip() if key_end != -1 else ""
        if not key or "\n" in key:
            raise _Malformed(f"{where}: <parameter= must be followed by the key and '>'", "qwen3_coder")
        close = body.find("</parameter>", key_end + 1)
        if close == -1:
            raise _Malformed(f"{where}: unclosed <parameter={_snip(key, 60)}>", "qwen3_coder")
        value = body[key_end + 1 : close]
        if "<parameter=" in value:
            raise _Malformed(f"{where}: unclosed <parameter={_snip(key, 60)}>", "qwen3_coder")
        value = value.removeprefix("\n").removesuffix("\n")
        arguments[key] = _xml_value(value)
        pos = close + len("</parameter>")
    if not _blank(body[pos:]):
        raise _Malformed(f"{where}: a body of <parameter=key>value</parameter> blocks only", "qwen3_coder")
    return arguments


def _glm_call(body: str, where: str, errors: list[str]) -> ToolCall:
    """GLM-4.5: ``name`` then ``<arg_key>k</arg_key><arg_value>v</arg_value>`` pairs."""
    first = body.find("<arg_key>")
    name = (body if first == -1 else body[:first]).strip()
    if not _IDENTIFIER_RE.fullmatch(name):
        raise _Malformed(f"{where}: the tool name comes first, then <arg_key>/<arg_value> pairs", "glm45")
    arguments: dict[str, Any] = {}
    pos = len(body) if first == -1 else first
    while (key_at := body.find("<arg_key>", pos)) != -1:
        if not _blank(body[pos:key_at]):
            raise _Malformed(f"{where}: text between <arg_key>/<arg_value> pairs", "glm45")
        key_end = body.find("</arg_key>", key_at + 9)
        if key_end == -1:
            raise _Malformed(f"{where}: unclosed <arg_key>", "glm45")
        value_at = body.find("<arg_value>", key_end + 10)
        if value_at == -1 or not _blank(body[key_end + 10 : value_at]):
            raise _Malformed(f"{where}: each </arg_key> is followed by its <arg_value>", "glm45")
        value_end = body.find("</arg_value>", value_at + 11)
        if value_end == -1:
            raise _Malformed(f"{where}: unclosed <arg_value>", "glm45")
        key = body[key_at + 9 : key_end].strip()
        value = body[value_at + 11 : value_end]
        if "<arg_key>" in key or "<arg_key>" in value:
            raise _Malformed(f"{where}: unclosed <arg_key> or <arg_value>", "glm45")
        arguments[key] = _xml_value(value)
        pos = value_end + 12
    if not _blank(body[pos:]):
        raise _Malformed(f"{where}: text after the last <arg_value>", "glm45")
    return ToolCall(name, arguments, None)


def _parse_functionary_v32(s: str) -> ParsedAction:
    """Functionary v3.2: ``>>>name\\n{…}`` calls; ``>>>all\\ntext`` is text (the answer without calls)."""
    segments = s.split(">>>")
    lead = segments[0].removeprefix("all\n")  # the prompt ends with ">>>": "all\n" starts the turn
    texts = [lead.strip()] if not _blank(lead) else []
    errors: list[str] = []
    calls: list[ToolCall] = []
    for n, segment in enumerate(segments[1:], 1):
        name, newline, body = segment.partition("\n")
        name = name.strip()
        if name == "all":
            if not _blank(body):
                texts.append(body.strip())
            continue
        if not newline or not _IDENTIFIER_RE.fullmatch(name):
            raise _Malformed(f">>> block {n} is not >>>name\\n{{...}} (nor >>>all\\ntext)")
        calls.append(ToolCall(name, _arguments(body, f">>>{_snip(name, 60)} arguments", errors), None))
    text = "\n".join(texts) if texts else None
    if calls:
        return _finish_calls("functionary_v32", text, calls, errors)
    if text is None:
        raise _Malformed("no >>>name call and no >>>all text")
    return ParsedAction("final", "functionary_v32", None, (), text, _done(errors + ["missing_thought"]), None)


def _parse_gemma_tool_code(s: str) -> ParsedAction:
    """Gemma: ```` ```tool_code ```` fences of Python calls (``name(key=value)``, optionally
    wrapped in ``print(…)`` or prefixed by a namespace), after optional prose."""
    first = s.find("```tool_code")
    errors: list[str] = []
    calls: list[ToolCall] = []
    pos = first
    bodies: list[str] = []
    while (at := s.find("```tool_code", pos)) != -1:
        if bodies and not _blank(s[pos:at]):
            errors.append("text_outside_tags")
        close = s.find("```", at + 12)
        if close == -1:
            raise _Malformed("unclosed ```tool_code fence")
        bodies.append(s[at + 12 : close])
        pos = close + 3
    if sum(map(len, bodies)) > _MAX_PYTHONIC_CHARS:
        raise _Malformed(f"Python-syntax calls longer than {_MAX_PYTHONIC_CHARS} characters")
    for body in bodies:
        calls.extend(_pythonic_calls(body, listed=False))
    if not _blank(s[pos:]):
        errors.append("text_outside_tags")
    return _finish_calls("gemma_tool_code", _prefix_thought(s[:first]), calls, errors)


def _parse_pythonic_turn(s: str) -> ParsedAction:
    """Llama 3.2/4 pythonic calls ``[f(a=1), g(b="x")]`` (Llama 4: inside ``<|python_start|>``…``<|python_end|>``)."""
    errors: list[str] = []
    if s.startswith("<|python_start|>"):
        s = s[len("<|python_start|>") :]
        end = s.find("<|python_end|>")
        if end != -1:
            if not _blank(s[end + len("<|python_end|>") :]):
                errors.append("text_outside_tags")
            s = s[:end]
    return _finish_calls("pythonic", None, _pythonic_calls(s.strip(), listed=True), errors)


def _pythonic_calls(text: str, listed: bool) -> list[ToolCall]:
    """Calls written as Python: a list of calls (``listed``) or one call a statement. Parsed
    with ``ast``, never evaluated: keyword arguments with literal values only."""
    if len(text) > _MAX_PYTHONIC_CHARS:
        raise _Malformed(f"Python-syntax calls longer than {_MAX_PYTHONIC_CHARS} characters")
    try:
        tree = ast.parse(text, mode="eval" if listed else "exec")
    except Exception as exc:  # noqa: BLE001 - SyntaxError, and the parser's limits (nesting, memory)
        detail = f": {_snip(str(exc.msg), 120)} (line {exc.lineno})" if isinstance(exc, SyntaxError) else ""
        raise _Malformed(f"invalid Python call syntax ({type(exc).__name__}){detail}") from None
    if listed:
        if not isinstance(tree.body, ast.List):
            raise _Malformed("Python-syntax calls must be a list: [tool(key=value), ...]")
        nodes = list(tree.body.elts)
    else:
        nodes = []
        for statement in tree.body:
            if not isinstance(statement, ast.Expr):
                raise _Malformed("a tool_code block holds calls only: tool(key=value)")
            nodes.append(statement.value)
    calls = []
    for n, node in enumerate(nodes, 1):
        if (not listed and isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
                and len(node.args) == 1 and not node.keywords):
            node = node.args[0]
        if not isinstance(node, ast.Call):
            raise _Malformed(f"item {n} is not a call: tool(key=value)")
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if not isinstance(name, str):
            raise _Malformed(f"call {n} has no tool name")
        if node.args:
            raise _Malformed(f"call {n} ({_snip(name, 60)}) has positional arguments: use key=value")
        arguments: dict[str, Any] = {}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _Malformed(f"call {n} ({_snip(name, 60)}) uses **: use key=value")
            arguments[keyword.arg] = _literal(keyword.value, f"argument {_snip(keyword.arg, 60)!r}")
        calls.append(ToolCall(name, arguments, None))
    if not calls:
        raise _Malformed("no call in the Python-syntax block")
    return calls


_PY_NAMES: Final = {"True": True, "False": False, "None": None, "true": True, "false": False, "null": None}


def _literal(node: ast.AST, where: str) -> Any:
    """A literal argument value as JSON data (lists, dicts, strings, finite numbers, booleans, null)."""
    if isinstance(node, ast.Name) and node.id in _PY_NAMES:
        return _PY_NAMES[node.id]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item, where) for item in node.elts]
    if isinstance(node, ast.Dict):
        out = {}
        for key, value in zip(node.keys, node.values, strict=True):
            k = _literal(key, where) if key is not None else None
            if not isinstance(k, str):
                raise _Malformed(f"{where}: dictionary keys must be strings")
            out[k] = _literal(value, where)
        return out
    try:
        value = ast.literal_eval(node)
    except Exception:  # noqa: BLE001 - anything that is not a literal
        raise _Malformed(f"{where} is not a literal value (names, calls and expressions are not evaluated)") from None
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return value
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Malformed(f"{where} is not valid Unicode (a lone surrogate)") from None
        return value
    raise _Malformed(f"{where} is a Python {type(value).__name__}, not a JSON value")


def _parse_harmony(s: str) -> ParsedAction:
    """gpt-oss harmony: ``<|start|>assistant<|channel|>…<|message|>…<|end|>`` messages; a
    message to ``functions.<tool>`` is a call, the analysis channel (and a commentary preamble)
    the thought, the final channel the answer."""
    messages: list[tuple[str, str]] = []
    header_start, body_start, header = 0, -1, ""
    outside = False
    for token in _HARMONY_TOKEN_RE.finditer(s):
        name = token.group(1)
        if body_start == -1:
            if name == "message":
                header, body_start = s[header_start : token.start()], token.end()
            elif name == "start":
                outside = outside or not _blank(s[header_start : token.start()])
                header_start = token.end()
            else:
                raise _Malformed(f"<|{name}|> outside a harmony message")
        else:
            if name == "message":
                raise _Malformed("a harmony message with two <|message|> tokens (a missing <|end|>)")
            messages.append((header, s[body_start : token.start()]))
            body_start, header_start = -1, token.end()
    if body_start != -1:
        messages.append((header, s[body_start:]))
    elif not _blank(s[header_start:]):
        raise _Malformed("a harmony header without <|message|>")
    errors: list[str] = ["text_outside_tags"] if outside else []
    thoughts: list[str] = []
    finals: list[str] = []
    calls: list[ToolCall] = []
    for header, body in messages:
        role, has_channel, channel_text = header.partition("<|channel|>")
        recipient = _HARMONY_RECIPIENT_RE.search(header)
        role = role.partition("to=")[0].strip()
        if role not in ("", "assistant"):
            raise _Malformed(f"a harmony message from {_snip(role, 60)!r}: the agent's turn holds assistant messages only")
        channel = channel_text.strip().split(None, 1)[0].partition("<|")[0] if channel_text.strip() else ""
        if recipient is not None:
            target = recipient.group(1)
            calls.append(ToolCall(target.removeprefix("functions."),
                                  _arguments(body, f"the call to {_snip(target, 80)}", errors), None))
        elif not has_channel:
            raise _Malformed("a harmony message without a <|channel|>")
        elif channel == "final":
            finals.append(body.strip())
        elif channel in ("analysis", "commentary"):
            if not _blank(body):
                thoughts.append(body.strip())
        else:
            raise _Malformed(f"unknown harmony channel {_snip(channel, 60)!r} (analysis, commentary or final)")
    return _calls_or_answer("harmony", thoughts, calls, finals, "\n".join(finals), errors,
                            "no call (a commentary message to=functions.<tool>) and no final-channel answer")


# --- typed item lists: OpenAI Responses output, Anthropic content blocks -------------------


def _typed_items(items: list[Any]) -> bool:
    return bool(items) and all(isinstance(item, dict) and item.get("type") in _RESPONSES_ITEMS | _ANTHROPIC_BLOCKS
                               for item in items)


def _responses_content(content: Any) -> bool:
    return isinstance(content, list) and any(isinstance(p, dict) and p.get("type") in ("output_text", "refusal")
                                             for p in content)


def _anthropic_content(content: Any) -> bool:
    return isinstance(content, list) and any(
        isinstance(b, dict) and b.get("type") in ("tool_use", "thinking", "redacted_thinking") for b in content)


def _parse_item_list(items: list[Any]) -> ParsedAction:
    if not _typed_items(items):
        raise _Malformed("a list action must hold Responses output items (reasoning, message, function_call) or "
                         "Anthropic content blocks (text, thinking, tool_use)")
    if any(item["type"] in _RESPONSES_ITEMS for item in items):
        try:
            return _parse_responses(items)
        except _Malformed as exc:
            exc.form = "responses"
            raise
    try:
        return _parse_anthropic_blocks(items, [], None)
    except _Malformed as exc:
        exc.form = "anthropic"
        raise


def _parse_responses(items: list[dict[str, Any]]) -> ParsedAction:
    """OpenAI Responses output items: reasoning (the thought), message (text: a preamble before
    calls, else the answer; a refusal part is the answer), function_call (``arguments`` a JSON string)."""
    errors: list[str] = []
    thoughts: list[str] = []
    texts: list[str] = []
    refusals: list[str] = []
    calls: list[ToolCall] = []
    for n, item in enumerate(items):
        kind = item["type"]
        if kind == "reasoning":
            for key in ("summary", "content"):
                parts = item.get(key) or []
                if not isinstance(parts, list):
                    raise _Malformed(f"output item {n}: reasoning '{key}' must be an array")
                thoughts.extend(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))
        elif kind == "message":
            if item.get("role", "assistant") != "assistant":
                errors.append("unexpected_role")
            content = item.get("content")
            if isinstance(content, str):
                texts.append(content)
                continue
            if not isinstance(content, list):
                raise _Malformed(f"output item {n}: message 'content' must be an array of output_text/refusal parts")
            for part in content:
                if isinstance(part, dict) and part.get("type") == "output_text" and isinstance(part.get("text"), str):
                    texts.append(part["text"])
                elif isinstance(part, dict) and part.get("type") == "refusal" and isinstance(part.get("refusal"), str):
                    refusals.append(part["refusal"])
                else:
                    raise _Malformed(f"output item {n}: message content parts are output_text or refusal")
        else:
            if "name" not in item:
                raise _Malformed(f"output item {n}: function_call has no 'name' (keys: {_keys(item)})")
            if not _RESPONSES_CALL_KEYS.issuperset(item.keys()):
                errors.append("unexpected_fields")
            arguments = item.get("arguments")
            if arguments is None:
                errors.append("missing_arguments")
                arguments = {}
            elif isinstance(arguments, str):
                try:
                    arguments = orjson.loads(arguments)
                except orjson.JSONDecodeError:
                    pass  # the raw string goes through; the env rejects it
            if not isinstance(arguments, dict):
                errors.append("arguments_not_object")
            call_id = item.get("call_id", item.get("id"))
            calls.append(ToolCall(item["name"], arguments, call_id if isinstance(call_id, str) else None))
    if calls:
        thought = "\n".join(t.strip() for t in thoughts + texts if not _blank(t)) or None
        return _finish_calls("responses", thought, calls, errors)
    thought = "\n".join(t.strip() for t in thoughts if not _blank(t)) or None
    answer = "".join(texts)
    if _blank(answer) and refusals:
        answer = "".join(refusals)
    if not texts and not refusals:
        raise _Malformed("no function_call item and no message item")
    if thought is None:
        errors.append("missing_thought")
    if _blank(answer):
        errors.append("empty_response")
    return ParsedAction("final", "responses", thought, (), answer, _done(errors), None)


def _parse_anthropic_message(obj: dict[Any, Any], errors: list[str]) -> ParsedAction:
    if obj.get("role", "assistant") != "assistant":
        errors.append("unexpected_role")
    try:
        return _parse_anthropic_blocks(obj["content"], errors, obj.get("stop_reason"))
    except _Malformed as exc:
        exc.form = "anthropic"
        raise


def _parse_anthropic_blocks(blocks: list[Any], errors: list[str], stop_reason: Any) -> ParsedAction:
    """Anthropic content blocks: thinking and text before tool_use are the thought; without a
    tool_use, the text is the answer (a refusal, ``stop_reason: "refusal"``, included)."""
    thoughts: list[str] = []
    texts: list[str] = []
    calls: list[ToolCall] = []
    for n, block in enumerate(blocks):
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            thoughts.append(block["thinking"])
        elif kind == "redacted_thinking":
            continue
        elif kind == "tool_use":
            if "name" not in block:
                raise _Malformed(f"content block {n}: tool_use has no 'name' (keys: {_keys(block)})")
            if not _ANTHROPIC_TOOL_KEYS.issuperset(block.keys()):
                errors.append("unexpected_fields")
            if "input" not in block:
                errors.append("missing_arguments")
            arguments = block.get("input", {})
            if not isinstance(arguments, dict):
                errors.append("arguments_not_object")
            call_id = block.get("id")
            calls.append(ToolCall(block["name"], arguments, call_id if isinstance(call_id, str) else None))
        else:
            raise _Malformed(f"content block {n} is not a text, thinking or tool_use block")
    if calls:
        thought = "\n".join(t.strip() for t in thoughts + texts if not _blank(t)) or None
        return _finish_calls("anthropic", thought, calls, errors)
    if not texts:
        raise _Malformed("no tool_use block and no text block" + (" (a refusal)" if stop_reason == "refusal" else ""))
    thought = "\n".join(t.strip() for t in thoughts if not _blank(t)) or None
    answer = "".join(texts)
    if thought is None:
        errors.append("missing_thought")
    if _blank(answer):
        errors.append("empty_response")
    return ParsedAction("final", "anthropic", thought, (), answer, _done(errors), None)


# --- small helpers ------------------------------------------------------------------------


def _blank(s: str) -> bool:
    return not s or s.isspace()


def _thought(value: Any, errors: list[str]) -> str | None:
    if isinstance(value, str) and not _blank(value):
        return value
    errors.append("missing_thought")
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return _short_type(value)


def _short_type(value: Any) -> str:
    return _snip(type(value).__name__, 60)


def _snip(s: str, limit: int = _SNIPPET_CHARS) -> str:
    if len(s) <= limit:
        return s
    return f"{s[:limit]}… ({len(s)} chars)"


def _keys(obj: dict[Any, Any]) -> str:
    shown = [
        repr(_snip(k, 40)) if isinstance(k, str) else _short_type(k)
        for k in islice(obj, _MAX_KEYS_SHOWN)
    ]
    more = len(obj) - len(shown)
    if more > 0:
        shown.append(f"… {more} more")
    return ", ".join(shown) if shown else "none"
