"""Tests for envs.actions: the four accepted action forms, strictness, malformed input."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envs.actions import EXPECTED_FORMS, FORMS, ParsedAction, ToolCall, parse_action

FUZZ = settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_invariants(result: ParsedAction) -> None:
    assert isinstance(result, ParsedAction)
    assert result.kind in ("tool_call", "final", "malformed")
    assert result.form in FORMS
    assert (len(result.calls) > 0) == (result.kind == "tool_call")
    assert all(isinstance(c, ToolCall) for c in result.calls)
    assert (result.response is not None) == (result.kind == "final")
    assert (result.error is not None) == (result.kind == "malformed")
    assert all(isinstance(e, str) for e in result.format_errors)
    assert result.thought is None or isinstance(result.thought, str)
    if result.error is not None:
        assert result.error["error"] == "malformed_action"
        assert isinstance(result.error["message"], str) and result.error["message"]
        assert len(result.error["message"]) < 1000
        assert result.error["expected_forms"] == EXPECTED_FORMS
        assert result.format_errors  # a malformed turn is never strictly well-formed
        orjson.dumps(result.error)  # the env sends it back: no lone surrogates, JSON-safe values


def parse(action: Any) -> ParsedAction:
    result = parse_action(action)
    check_invariants(result)
    return result


def dumps(obj: Any) -> str:
    return json.dumps(obj)


# --- the accepted forms ---------------------------------------------------------------------

REACT_CALL = {
    "thought": "I need the client's holdings.",
    "action": {"name": "get_holdings", "arguments": {"client_id": "C001"}},
}
REACT_FINAL = {"thought": "I have everything.", "response": "The portfolio is 60/40."}
OPENAI_CALL = {
    "role": "assistant",
    "content": "Look up the holdings first.",
    "tool_calls": [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "get_holdings", "arguments": '{"client_id": "C001"}'},
        }
    ],
}
OPENAI_FINAL = {"role": "assistant", "content": "The portfolio is 60/40."}
TAGGED_CALL = (
    "<think>I need the holdings.</think>\n"
    '<tool_call>\n{"name": "get_holdings", "arguments": {"client_id": "C001"}}\n</tool_call>'
)
TAGGED_FINAL = "<think>Done.</think>\n<response>\nThe portfolio is 60/40.\n</response>"


def test_react_tool_call() -> None:
    r = parse(dumps(REACT_CALL))
    assert (r.kind, r.form) == ("tool_call", "react")
    assert r.thought == "I need the client's holdings."
    assert r.calls == (ToolCall("get_holdings", {"client_id": "C001"}, None),)
    assert r.response is None and r.error is None
    assert r.format_errors == ()


def test_react_final() -> None:
    r = parse(dumps(REACT_FINAL))
    assert (r.kind, r.form) == ("final", "react")
    assert r.thought == "I have everything."
    assert r.response == "The portfolio is 60/40."
    assert r.calls == () and r.format_errors == ()


def test_openai_tool_call_with_string_arguments() -> None:
    r = parse(dumps(OPENAI_CALL))
    assert (r.kind, r.form) == ("tool_call", "openai")
    assert r.thought == "Look up the holdings first."
    assert r.calls == (ToolCall("get_holdings", {"client_id": "C001"}, "call_1"),)
    assert r.format_errors == ()


def test_openai_tool_call_with_dict_arguments() -> None:
    msg = json.loads(dumps(OPENAI_CALL))
    msg["tool_calls"][0]["function"]["arguments"] = {"client_id": "C001"}
    r = parse(dumps(msg))
    assert r.calls == (ToolCall("get_holdings", {"client_id": "C001"}, "call_1"),)
    assert r.format_errors == ()


def test_openai_multiple_tool_calls_keep_order() -> None:
    msg = {
        "role": "assistant",
        "content": "Two lookups.",
        "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "get_client_profile", "arguments": "{}"}},
            {"id": "b", "type": "function", "function": {"name": "get_holdings", "arguments": '{"x": 1}'}},
            {"id": "c", "type": "function", "function": {"name": "get_quote", "arguments": {"s": "A"}}},
        ],
    }
    r = parse(dumps(msg))
    assert [c.name for c in r.calls] == ["get_client_profile", "get_holdings", "get_quote"]
    assert [c.call_id for c in r.calls] == ["a", "b", "c"]
    assert [c.arguments for c in r.calls] == [{}, {"x": 1}, {"s": "A"}]
    assert r.format_errors == ()


@pytest.mark.parametrize("content", [None, "", "   "])
def test_openai_reasoning_content_is_the_thought_when_content_empty(content: Any) -> None:
    msg = dict(OPENAI_CALL, content=content, reasoning_content="Holdings are needed.")
    r = parse(dumps(msg))
    assert r.thought == "Holdings are needed."
    assert r.format_errors == ()


def test_openai_content_wins_over_reasoning_content() -> None:
    r = parse(dumps(dict(OPENAI_CALL, reasoning_content="hidden reasoning")))
    assert r.thought == "Look up the holdings first."


def test_openai_content_parts() -> None:
    msg = dict(OPENAI_CALL, content=[{"type": "text", "text": "Part one. "}, {"type": "text", "text": "Two."}])
    r = parse(dumps(msg))
    assert r.thought == "Part one. Two."
    assert r.format_errors == ()


def test_openai_final() -> None:
    r = parse(dumps(OPENAI_FINAL))
    assert (r.kind, r.form) == ("final", "openai")
    assert r.response == "The portfolio is 60/40."
    assert r.format_errors == ()


@pytest.mark.parametrize("tool_calls", [None, []])
def test_openai_empty_tool_calls_is_final(tool_calls: Any) -> None:
    r = parse(dumps(dict(OPENAI_FINAL, tool_calls=tool_calls, reasoning_content="why")))
    assert (r.kind, r.response, r.thought) == ("final", "The portfolio is 60/40.", "why")


def test_tagged_tool_call() -> None:
    r = parse(TAGGED_CALL)
    assert (r.kind, r.form) == ("tool_call", "tagged")
    assert r.thought == "I need the holdings."
    assert r.calls == (ToolCall("get_holdings", {"client_id": "C001"}, None),)
    assert r.format_errors == ()


def test_tagged_multiple_tool_calls() -> None:
    text = (
        "<think>both</think>"
        '<tool_call>{"name": "a", "arguments": {"i": 1}}</tool_call>\n'
        '<tool_call>{"name": "b", "arguments": {"i": 2}}</tool_call>'
    )
    r = parse(text)
    assert [(c.name, c.arguments) for c in r.calls] == [("a", {"i": 1}), ("b", {"i": 2})]
    assert r.format_errors == ()


def test_tagged_final() -> None:
    r = parse(TAGGED_FINAL)
    assert (r.kind, r.form) == ("final", "tagged")
    assert r.thought == "Done."
    assert r.response == "The portfolio is 60/40."
    assert r.format_errors == ()


def test_tagged_think_opened_by_the_prompt() -> None:
    # Chat templates that pre-fill "<think>" leave only the closing tag in the completion.
    r = parse('I should look.\n</think>\n<tool_call>{"name": "a", "arguments": {}}</tool_call>')
    assert r.thought == "I should look."
    assert r.calls == (ToolCall("a", {}, None),)
    assert r.format_errors == ()


def test_tag_like_text_inside_think_is_just_thought() -> None:
    r = parse('<think>maybe <tool_call> later</think><response>ok</response>')
    assert (r.kind, r.response, r.thought) == ("final", "ok", "maybe <tool_call> later")


@pytest.mark.parametrize(
    "action",
    [
        dumps(REACT_CALL).encode(),
        bytearray(dumps(REACT_CALL).encode()),
        REACT_CALL,
        "  \n" + dumps(REACT_CALL) + "\n\t ",
        json.dumps(REACT_CALL, indent=2),
    ],
    ids=["bytes", "bytearray", "dict", "surrounding-whitespace", "pretty-printed"],
)
def test_input_variants(action: Any) -> None:
    r = parse(action)
    assert r.kind == "tool_call"
    assert r.calls == (ToolCall("get_holdings", {"client_id": "C001"}, None),)
    assert r.format_errors == ()


def test_openai_dict_input() -> None:
    r = parse(OPENAI_CALL)
    assert (r.kind, r.form, r.calls[0].call_id) == ("tool_call", "openai", "call_1")


def test_non_string_name_passes_through() -> None:
    r = parse(dumps({"thought": "t", "action": {"name": 42, "arguments": {}}}))
    assert r.kind == "tool_call" and r.calls[0].name == 42
    r = parse(dumps({"thought": "t", "action": {"name": None, "arguments": {}}}))
    assert r.kind == "tool_call" and r.calls[0].name is None


def test_non_ascii_and_escapes() -> None:
    r = parse(dumps({"thought": "é ✓ 中文", "response": "línea\n\"quoted\""}))
    assert (r.thought, r.response) == ("é ✓ 中文", 'línea\n"quoted"')


# --- format errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected_kind", "expected_error"),
    [
        # missing_thought
        ({"action": REACT_CALL["action"]}, "tool_call", "missing_thought"),
        ({"thought": "", "response": "r"}, "final", "missing_thought"),
        ({"thought": "  \n ", "response": "r"}, "final", "missing_thought"),
        ({"thought": 7, "response": "r"}, "final", "missing_thought"),
        (dict(OPENAI_CALL, content=None), "tool_call", "missing_thought"),
        (dict(OPENAI_CALL, content="  ", reasoning_content=""), "tool_call", "missing_thought"),
        ('<tool_call>{"name": "a", "arguments": {}}</tool_call>', "tool_call", "missing_thought"),
        ('<think> </think><response>r</response>', "final", "missing_thought"),
        # unexpected_fields
        (dict(REACT_CALL, confidence=0.9), "tool_call", "unexpected_fields"),
        (dict(REACT_FINAL, extra=None), "final", "unexpected_fields"),
        (
            {"thought": "t", "action": {"name": "a", "arguments": {}, "id": "x"}},
            "tool_call",
            "unexpected_fields",
        ),
        (
            '<think>t</think><tool_call>{"name": "a", "arguments": {}, "x": 1}</tool_call>',
            "tool_call",
            "unexpected_fields",
        ),
        # arguments_not_object
        ({"thought": "t", "action": {"name": "a", "arguments": "{}"}}, "tool_call", "arguments_not_object"),
        ({"thought": "t", "action": {"name": "a", "arguments": [1]}}, "tool_call", "arguments_not_object"),
        ({"thought": "t", "action": {"name": "a", "arguments": None}}, "tool_call", "arguments_not_object"),
        (
            {"content": "t", "tool_calls": [{"id": "c", "function": {"name": "a", "arguments": "{bad"}}]},
            "tool_call",
            "arguments_not_object",
        ),
        (
            {"content": "t", "tool_calls": [{"id": "c", "function": {"name": "a", "arguments": "[1, 2]"}}]},
            "tool_call",
            "arguments_not_object",
        ),
        (
            {"content": "t", "tool_calls": [{"id": "c", "function": {"name": "a", "arguments": 5}}]},
            "tool_call",
            "arguments_not_object",
        ),
        (
            '<think>t</think><tool_call>{"name": "a", "arguments": "x=1"}</tool_call>',
            "tool_call",
            "arguments_not_object",
        ),
        # missing_arguments
        ({"thought": "t", "action": {"name": "a"}}, "tool_call", "missing_arguments"),
        ({"content": "t", "tool_calls": [{"id": "c", "function": {"name": "a"}}]}, "tool_call", "missing_arguments"),
        # text_outside_tags
        ("Sure! " + TAGGED_CALL, "tool_call", "text_outside_tags"),
        (TAGGED_CALL + " hope this helps", "tool_call", "text_outside_tags"),
        ("<think>t</think> and so <response>r</response>", "final", "text_outside_tags"),
        # both_action_and_response
        (dict(REACT_CALL, response="done"), "tool_call", "both_action_and_response"),
        (TAGGED_CALL + "<response>done</response>", "tool_call", "both_action_and_response"),
        # empty_response
        ({"thought": "t", "response": ""}, "final", "empty_response"),
        ({"thought": "t", "response": " \n"}, "final", "empty_response"),
        ("<think>t</think><response>  </response>", "final", "empty_response"),
        ({"role": "assistant", "content": "", "reasoning_content": "t"}, "final", "empty_response"),
        # code_fence
        ("```json\n" + dumps(REACT_CALL) + "\n```", "tool_call", "code_fence"),
        ("```\n" + dumps(REACT_FINAL) + "\n```", "final", "code_fence"),
        ("  ```JSON\n" + json.dumps(OPENAI_CALL, indent=1) + "\n```  ", "tool_call", "code_fence"),
        # duplicate_blocks
        ("<think>a</think><think>b</think><response>r</response>", "final", "duplicate_blocks"),
        ("<think>a</think><response>r</response><response>s</response>", "final", "duplicate_blocks"),
        # unexpected_role / invalid_content
        ({"role": "user", "content": "hi"}, "final", "unexpected_role"),
        (dict(OPENAI_CALL, content=5, reasoning_content="t"), "tool_call", "invalid_content"),
    ],
)
def test_format_errors(action: Any, expected_kind: str, expected_error: str) -> None:
    r = parse(action if isinstance(action, str) else dumps(action))
    assert r.kind == expected_kind
    assert expected_error in r.format_errors
    assert r.error is None


def test_format_error_details() -> None:
    r = parse(dumps(dict(REACT_CALL, response="done")))
    assert r.calls == (ToolCall("get_holdings", {"client_id": "C001"}, None),) and r.response is None
    r = parse(dumps({"thought": "t", "action": {"name": "a"}}))
    assert r.calls[0].arguments == {}
    r = parse(dumps({"content": "t", "tool_calls": [{"function": {"name": "a", "arguments": "{bad"}}]}))
    assert r.calls[0].arguments == "{bad" and r.calls[0].call_id is None
    r = parse(dumps({"content": "t", "tool_calls": [{"function": {"name": "a", "arguments": "[1]"}}]}))
    assert r.calls[0].arguments == [1]
    r = parse("```json\n" + dumps(REACT_FINAL) + "\n```")
    assert r.format_errors == ("code_fence",) and r.response == REACT_FINAL["response"]
    r = parse("<think>a</think><think>b</think><response>r</response>")
    assert r.thought == "a\nb"


def test_format_errors_are_deduplicated() -> None:
    msg = {
        "content": None,
        "tool_calls": [
            {"id": "1", "function": {"name": "a", "arguments": "x"}},
            {"id": "2", "function": {"name": "b", "arguments": "y"}},
        ],
    }
    r = parse(dumps(msg))
    assert r.format_errors == ("arguments_not_object", "missing_thought")
    assert len(r.calls) == 2


# --- malformed ------------------------------------------------------------------------------

MALFORMED: list[tuple[str, Any, str]] = [
    ("empty", "", "empty"),
    ("whitespace", "  \n\t ", "empty"),
    ("bad-json", '{"thought": "t", "action": {"name": "a",, }}', "invalid JSON"),
    ("truncated-json", '{"thought": "t", "action": {"name": "a"', "invalid JSON"),
    ("json-array", "[1, 2, 3]", "got a JSON array"),
    ("json-string", '"hello"', "got a JSON string"),
    ("json-number", "42", "got a JSON number"),
    ("json-null", "null", "got a JSON null"),
    ("no-known-keys", '{"thought": "t", "name": "a"}', "none of 'action'"),
    ("empty-object", "{}", "none of 'action'"),
    ("action-not-object", '{"thought": "t", "action": "get_holdings"}', "'action' must be an object"),
    ("action-list", '{"thought": "t", "action": [{"name": "a"}]}', "'action' must be an object"),
    ("action-no-name", '{"thought": "t", "action": {"tool": "a", "arguments": {}}}', "has no 'name'"),
    ("action-null", '{"thought": "t", "action": null}', "'action' is null"),
    ("response-not-string", '{"thought": "t", "response": {"text": "hi"}}', "'response' must be a string"),
    ("response-null", '{"thought": "t", "response": null}', "'response' must be a string"),
    ("tool-calls-not-list", '{"role": "assistant", "tool_calls": {"id": 1}}', "'tool_calls' must be an array"),
    ("tool-call-not-object", '{"role": "assistant", "tool_calls": ["get_holdings"]}', "tool_calls[0] must be an object"),
    ("tool-call-no-function", '{"role": "assistant", "tool_calls": [{"id": "c", "name": "a"}]}', "no 'function' object"),
    (
        "function-no-name",
        '{"content": "t", "tool_calls": [{"function": {"name": "a"}}, {"function": {"arguments": "{}"}}]}',
        "tool_calls[1].function has no 'name'",
    ),
    ("assistant-no-content", '{"role": "assistant", "content": null}', "neither 'tool_calls' nor 'content'"),
    ("assistant-role-only", '{"role": "assistant"}', "neither 'tool_calls' nor 'content'"),
    ("content-not-string", '{"role": "assistant", "content": 5}', "'content' must be a string"),
    ("tagged-bad-json", "<think>t</think><tool_call>{name: a}</tool_call>", "<tool_call> block 1"),
    ("tagged-json-not-object", '<think>t</think><tool_call>["a", {}]</tool_call>', "must contain a JSON object"),
    ("tagged-empty-call", "<think>t</think><tool_call>  </tool_call>", "is empty"),
    ("tagged-no-name", '<think>t</think><tool_call>{"arguments": {}}</tool_call>', "has no 'name'"),
    ("unclosed-tool-call", '<think>t</think><tool_call>{"name": "a", "arguments": {}}', "unclosed <tool_call>"),
    ("unclosed-think", "<think>t <response>r</response>", "unclosed <think>"),
    ("unclosed-response", "<think>t</think><response>r", "unclosed <response>"),
    ("stray-closing", "<think>t</think>r</response>", "no matching opening"),
    ("think-only", "<think>just thinking</think>", "no <tool_call> or <response>"),
    ("think-then-json", '<think>t</think>{"name": "a"}', "needs its arguments"),
    ("unclosed-fence", "```json\n" + dumps(REACT_CALL), "unclosed"),
    ("fence-with-array", "```json\n[1]\n```", "must contain a JSON object"),
    ("fence-empty", "```json\n\n```", "empty"),
    ("text-then-fence", "Here you go:\n```json\n" + dumps(REACT_CALL) + "\n```", "code fence must wrap"),
    ("nan", '{"thought": "t", "action": {"name": "a", "arguments": {"x": NaN}}}', "invalid JSON"),
    ("deep-nesting", "[" * 5000 + "]" * 5000, "invalid JSON"),
    ("bad-utf8-bytes", b'{"thought": "\xff"}', "not valid UTF-8"),
    ("lone-surrogate-json", '{"thought": "\ud800", "response": "r"}', "invalid JSON"),
    ("lone-surrogate-tagged", "<think>\ud800</think><response>r</response>", "lone surrogate"),
    ("int-input", 42, "got int"),
    ("none-input", None, "got NoneType"),
    ("list-input", [REACT_CALL], "got list"),
    ("dict-no-known-keys", {"\ud800" * 300: 1}, "none of 'action'"),
]


@pytest.mark.parametrize(("action", "fragment"), [(a, f) for _, a, f in MALFORMED], ids=[i for i, _, _ in MALFORMED])
def test_malformed(action: Any, fragment: str) -> None:
    r = parse(action)
    assert r.kind == "malformed"
    assert r.calls == () and r.response is None
    assert r.error is not None and r.error["error"] == "malformed_action"
    assert fragment in r.error["message"], r.error["message"]
    assert set(r.error) == {"error", "message", "expected_forms"}


def test_malformed_message_points_at_the_problem() -> None:
    r = parse('{"thought": "t",, "response": "r"}')
    assert r.error is not None
    assert "position 16" in r.error["message"]


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ('{"thought": "t", "action": "x"}', "react"),
        ('{"role": "assistant", "tool_calls": 1}', "openai"),
        ("<think>t</think><tool_call>nope</tool_call>", "tagged"),
        ("42", "unknown"),
        ('[TOOL_CALLS][{"name": "a", "arguments": {', "mistral"),
        ('<|python_tag|>{"name": "a", "parameters": ', "llama"),
    ],
)
def test_malformed_reports_the_recognised_form(action: str, form: str) -> None:
    assert parse(action).form == form


def test_huge_inputs_give_bounded_messages() -> None:
    megabyte = 1_000_000
    cases = [
        '{"thought": "' + "a" * megabyte,  # unterminated string: error position at the very end
        "<think>" + "a" * megabyte,
        '{"' + "k" * megabyte + '": 1}',  # a single enormous key, echoed in the message
        dumps({"thought": "t", "action": {"tool": "a" * megabyte}}),
        "<think>t</think><tool_call>" + "{" * megabyte + "</tool_call>",
        "[" + "1," * (megabyte // 2) + "]",
    ]
    for text in cases:
        r = parse(text)
        assert r.kind == "malformed"
        assert r.error is not None and len(r.error["message"]) < 1000


def test_huge_prose_is_a_plain_text_answer() -> None:
    r = parse("x" * 1_000_000)
    assert r.kind == "final" and r.form == "text" and len(r.response) == 1_000_000


def test_huge_valid_action_still_parses() -> None:
    r = parse(dumps({"thought": "t" * 1_000_000, "response": "r"}))
    assert r.kind == "final" and r.format_errors == ()


def test_expected_forms_mentions_every_form() -> None:
    for fragment in ('"action"', '"response"', "tool_calls", "<tool_call>", "<response>", "<think>"):
        assert fragment in EXPECTED_FORMS
    assert len(EXPECTED_FORMS) < 1000


def test_results_are_frozen() -> None:
    r = parse(dumps(REACT_CALL))
    with pytest.raises(AttributeError):
        r.kind = "final"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        r.calls[0].name = "x"  # type: ignore[misc]


# --- property-based: never raises, invariants always hold -----------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(), children, max_size=5),
    max_leaves=25,
)

# Near-miss structures: objects built from the keys the parser looks at, so that the fuzzing
# reaches the form-specific code paths rather than failing at "no known keys".
KEYS = [
    "thought", "action", "response", "name", "arguments", "role", "content", "tool_calls",
    "function", "id", "type", "reasoning_content", "assistant",
]
near_scalars = st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(KEYS + ["", " ", "{}", "[1]"])
near_values = st.recursive(
    near_scalars,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=4),
    max_leaves=20,
)

TAG_PIECES = [
    "<think>", "</think>", "<tool_call>", "</tool_call>", "<response>", "</response>", " ", "\n",
    "thinking", '{"name": "a", "arguments": {}}', '{"name": "a"', "{", "}", '"', "```", "```json\n",
]
tagged_texts = st.lists(st.sampled_from(TAG_PIECES) | st.text(max_size=5), max_size=12).map("".join)


@FUZZ
@given(st.text())
def test_fuzz_text(text: str) -> None:
    parse(text)


@FUZZ
@given(st.binary())
def test_fuzz_binary(data: bytes) -> None:
    parse(data)


@FUZZ
@given(json_values)
def test_fuzz_json_values(value: Any) -> None:
    parse(json.dumps(value))


@FUZZ
@given(st.dictionaries(st.text(), json_values, max_size=6))
def test_fuzz_decoded_dicts(value: dict[str, Any]) -> None:
    parse(value)


@FUZZ
@given(near_values)
def test_fuzz_near_miss_objects(value: Any) -> None:
    parse(json.dumps(value))
    parse(value)  # the already-decoded convenience path


@FUZZ
@given(near_values)
def test_fuzz_openai_tool_calls(tool_calls: Any) -> None:
    parse({"role": "assistant", "content": "t", "tool_calls": [tool_calls]})
    parse({"role": "assistant", "content": "t", "tool_calls": [{"id": "c", "function": tool_calls}]})


@FUZZ
@given(tagged_texts)
def test_fuzz_tagged(text: str) -> None:
    parse(text)


@FUZZ
@given(st.sampled_from([dumps(REACT_CALL), dumps(OPENAI_CALL), TAGGED_CALL, TAGGED_FINAL]), st.data())
def test_fuzz_mutated_valid_actions(text: str, data: st.DataObject) -> None:
    # Truncations and single-character edits of valid actions.
    cut = data.draw(st.integers(0, len(text)))
    parse(text[:cut])
    at = data.draw(st.integers(0, len(text) - 1))
    parse(text[:at] + data.draw(st.characters()) + text[at + 1 :])
