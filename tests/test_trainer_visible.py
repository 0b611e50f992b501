"""Which SFT conversations end in an answer the model can write from what it sees (no extras)."""

from __future__ import annotations

from trainer.visible import figures, figures_in_view


def _row(answer: str, result: str, query: str = "What is the cash balance of client C000179?") -> dict:
    return {"messages": [
        {"role": "user", "content": query},
        {"role": "assistant", "content": "", "tool_calls": [
            {"type": "function", "function": {"name": "get_client_profile", "arguments": {"client_id": "C000179"}}}]},
        {"role": "tool", "name": "get_client_profile", "content": result},
        {"role": "assistant", "content": answer}]}


RESULT = '{"client_id":"C000179","accounts":[{"account_id":"A0000294","cash_balance":45817.34}],"opened_on":"2017-04-07"}'


def test_figures_are_values_of_two_digits_or_more_outside_ids():
    # a date's parts are figures of their own ("04" is two digits)
    assert figures("C000179 holds $45,817.34 in 2 accounts since 2017-04-07 (12.5%).") == {
        45817.34, 2017.0, 4.0, 7.0, 12.5}
    assert 179.0 not in figures("client C000179") and 2.0 not in figures("2 accounts")


def test_an_answer_copying_what_it_sees_is_kept():
    assert figures_in_view(_row("Client C000179 has $45,817.34 in cash in A0000294.", RESULT), 600)


def test_a_worked_out_or_unseen_figure_or_id_drops_the_conversation():
    assert not figures_in_view(_row("Client C000179 has about $46k in cash.", RESULT), 600)  # rounded: worked out
    assert not figures_in_view(_row("C000179 has $45,817.34; C000180 has less.", RESULT), 600)  # an id not seen
    # a figure past the cut is not seen by the model
    assert figures_in_view(_row("Cash: $45,817.34.", RESULT), None)
    assert not figures_in_view(_row("Cash: $45,817.34.", RESULT), 60)


def test_a_conversation_that_ends_in_a_call_is_kept():
    row = _row("", RESULT)
    row["messages"] = row["messages"][:2]
    assert figures_in_view(row, 600)
