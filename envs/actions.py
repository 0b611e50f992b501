"""Action parsing: turn whatever the agent sent on one turn into a ``ParsedAction``.

The environment calls :func:`parse_action` on every ``step``. Accepted (SPEC §4), each
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
6. ``text``: anything else that is not a broken tool-call attempt is a plain-text final
   answer (a ``<think>…</think>`` before it is the thought).

A broken tool-call attempt (invalid or truncated JSON, unclosed tags, a JSON scalar, a
``[TOOL_CALLS]`` or ``<|python_tag|>`` without a valid call) is malformed, never an answer.

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
the size of the input. It runs in time linear in the input: one pass of orjson, and tag
scanning with ``str.find`` from advancing positions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import islice
from typing import Any, Final

import orjson

__all__ = ["EXPECTED_FORMS", "NATIVE_TOLERATED", "ParsedAction", "ToolCall", "gate_errors", "parse_action"]

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
    "(6) anything else that is not a broken tool call is a plain-text final answer"
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
_JSON_CALL_KEYS: Final = frozenset({"name", "arguments", "parameters", "type", "id"})
_PYTHON_TAG: Final = "<|python_tag|>"
_MISTRAL_TAG: Final = "[TOOL_CALLS]"
_MISTRAL_ARGS: Final = "[ARGS]"
_END_TOKENS: Final = ("<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "</s>")
_CALL_MARKERS: Final = ("<tool_call>", "</tool_call>", _MISTRAL_TAG, _PYTHON_TAG)
_JSON_FENCE_START_RE: Final = re.compile(r"```[ \t]*(?:json|JSON|\r?\n\s*[{\[])")
_JSON_VALUE_START: Final = frozenset('"-0123456789tfn[')
_OPENAI_MARKERS: Final = ("tool_calls", "content", "role")

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
    """Parse one agent action (a str/bytes in any accepted form, or an already-decoded dict).

    Never raises: anything unusable comes back as ``kind == "malformed"`` with a structured
    ``error`` observation.
    """
    try:
        if isinstance(action, str):
            return _parse_text(action)
        if isinstance(action, dict):
            return _parse_object(action, [])
        if isinstance(action, (bytes, bytearray, memoryview)):
            try:
                text = bytes(action).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise _Malformed(f"input bytes are not valid UTF-8 (at byte {exc.start})") from None
            return _parse_text(text)
        raise _Malformed(
            f"action must be a JSON string (or bytes, or a decoded JSON object), "
            f"got {_short_type(action)}"
        )
    except _Malformed as exc:
        return _malformed(exc.message, exc.form)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raise"; this is a last-ditch guard
        return _malformed(f"action could not be parsed ({type(exc).__name__})")


def gate_errors(parsed: ParsedAction, mode: str = "native") -> tuple[str, ...]:
    """The format errors of ``parsed`` that fail the format gate in ``mode`` (``native`` or ``strict``)."""
    if mode == "strict":
        return parsed.format_errors
    return tuple(e for e in parsed.format_errors
                 if e not in NATIVE_TOLERATED or (e == "missing_thought" and parsed.form == "react"))


def _malformed(message: str, form: str = "unknown") -> ParsedAction:
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
    if first == "[" and (s[1:].lstrip()[:1] in ("{", "]", "[") or s.endswith("]")):
        return _parse_json_calls(s, "json_call")  # a JSON array (of calls, hopefully), not prose
    if s.startswith("```") and _JSON_FENCE_START_RE.match(s):
        return _parse_fenced(s)
    if any(marker in s for marker in _TAG_MARKERS):
        try:
            return _parse_tagged(s)
        except _Malformed as exc:
            exc.form = "tagged"
            raise
    return _plain_text(s)


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
    for marker in _CALL_MARKERS:
        if marker in s:
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
        items = value if isinstance(value, list) else [value]
        if not items or not all(isinstance(item, dict) for item in items):
            raise _Malformed("action must be a JSON object (or an array of tool-call objects), "
                             f"got a JSON {_json_type(value)}")
        errors: list[str] = []
        calls = tuple(_call_from_object(item, errors, f"tool call {n}", None, _JSON_CALL_KEYS)
                      for n, item in enumerate(items, 1))
        return ParsedAction("tool_call", form, None, calls, None, _done(errors + ["missing_thought"]), None)
    except _Malformed as exc:
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
    value = _loads(s, "action")
    if not isinstance(value, dict):
        raise _Malformed(f"action must be a JSON object, got a JSON {_json_type(value)}")
    return _parse_object(value, errors)


def _loads(s: str, what: str) -> Any:
    try:
        return orjson.loads(s)
    except orjson.JSONDecodeError as exc:
        pos = exc.pos if isinstance(exc.pos, int) else 0
        near = s[max(0, pos - _NEAR_CHARS) : pos + _NEAR_CHARS]
        raise _Malformed(
            f"invalid JSON in {what} at position {pos} (line {exc.lineno}, column {exc.colno}): "
            f"{_snip(exc.msg, 120)}; near {near!r}" + _hint_fence(s)
        ) from None


def _hint_fence(s: str) -> str:
    if "```" in s:
        return " (a ```json code fence must wrap the whole action)"
    return ""


# --- JSON objects: ReAct and OpenAI -------------------------------------------------------


def _parse_object(obj: dict[Any, Any], errors: list[str]) -> ParsedAction:
    if "action" in obj or "response" in obj:
        form, parse = "react", _parse_react
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
    if content is None:
        raise _Malformed("assistant message has neither 'tool_calls' nor 'content'")
    if any(marker in content for marker in _CALL_MARKERS) or content.lstrip().startswith(("{", "[{")):
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
    for tag, body in blocks:
        if tag == "think":
            think_blocks += 1
            if think_blocks > 1:
                errors.append("duplicate_blocks")
            if not _blank(body):
                thoughts.append(body.strip())
        elif tag == "tool_call":
            calls.append(_tagged_call(len(calls) + 1, body, errors))
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
        return ParsedAction("tool_call", "tagged", thought, tuple(calls), None, _done(errors), None)
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


def _tagged_call(number: int, body: str, errors: list[str]) -> ToolCall:
    where = f"<tool_call> block {number}"
    stripped = body.strip()
    if not stripped:
        raise _Malformed(f"{where} is empty")
    value = _loads(stripped, where)
    if not isinstance(value, dict):
        raise _Malformed(f"{where} must contain a JSON object, got a JSON {_json_type(value)}")
    return _call_from_object(value, errors, where, None)


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
