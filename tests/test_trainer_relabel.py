"""Entity-id relabelling of SFT conversations (``trainer.relabel``): no extra needed."""

from __future__ import annotations

import json
import random

from trainer.relabel import (first_call_drill, first_call_drills, id_kind, ids_by_kind, relabel_conversation,
                             relabelled_rows)

REPLICA_IDS = [f"C{n:06d}" for n in range(1, 41)] + [f"A{n:07d}" for n in range(1, 61)] + \
    ["EQ001", "EQ002", "EQ003", "BD009", "BD010", "BD011"]

CONVERSATION = [
    {"role": "system", "content": "You are a copilot for financial advisors."},
    {"role": "user", "content": "What does C000007 hold in A0000012? Compare with EQ002."},
    {"role": "assistant", "content": "Let me check.",
     "tool_calls": [{"id": "call0", "type": "function",
                     "function": {"name": "get_holdings", "arguments": {"account_id": "A0000012"}}}]},
    {"role": "tool", "tool_call_id": "call0", "name": "get_holdings",
     "content": json.dumps({"account_id": "A0000012", "client_id": "C000007", "positions": [
         {"fund_code": "EQ002", "units": 120.5, "value": 4626.31}, {"fund_code": "BD010", "value": 1200.0}],
         "txn": "T000000123"})},
    {"role": "assistant", "content": "Account A0000012 of C000007 holds EQ002 worth $4,626.31 and BD010 ($1,200)."},
]


def test_kinds_are_letters_and_digit_count():
    assert id_kind("C000179") == "C#6" and id_kind("A0000294") == "A#7"
    assert id_kind("EQ012") != id_kind("BD009") != id_kind("C000179")
    assert set(ids_by_kind(REPLICA_IDS)) == {"C#6", "A#7", "EQ#3", "BD#3"}


def test_every_id_is_replaced_by_one_of_its_kind_the_same_everywhere_and_nothing_else_changes():
    relabelled = relabel_conversation(CONVERSATION, ids_by_kind(REPLICA_IDS), random.Random(1))
    text, before = json.dumps(relabelled), json.dumps(CONVERSATION)
    call = relabelled[2]["tool_calls"][0]["function"]["arguments"]["account_id"]
    result = json.loads(relabelled[3]["content"])
    assert call == result["account_id"] and call in relabelled[1]["content"] and call in relabelled[4]["content"]
    client = result["client_id"]
    assert id_kind(client) == "C#6" and client in relabelled[1]["content"] and client in relabelled[4]["content"]
    funds = [p["fund_code"] for p in result["positions"]]
    assert id_kind(funds[0]) == "EQ#3" and id_kind(funds[1]) == "BD#3" and funds[0] in relabelled[1]["content"]
    # distinct ids stay distinct; the figures, the names of tools and an id the replica lacks are untouched
    assert len({call, client, *funds}) == 4
    for kept in ("4,626.31", "120.5", "1,200", "get_holdings", "T000000123", "Compare with"):
        assert kept in text and kept in before
    assert CONVERSATION[1]["content"] == "What does C000007 hold in A0000012? Compare with EQ002."  # input not mutated


def test_copies_draw_new_ids_and_are_reproducible():
    rows = [{"messages": CONVERSATION, "tools": [{"name": "get_holdings"}], "task_id": "t1", "level": "L1",
             "kind": "gold"}]
    first = relabelled_rows(rows, REPLICA_IDS, copies=8, seed=0)
    assert len(first) == 8 and all(r["tools"] == rows[0]["tools"] and r["task_id"] == "t1" for r in first)
    clients = {json.loads(r["messages"][3]["content"])["client_id"] for r in first}
    assert len(clients) > 1  # not one fixed substitute
    assert first == relabelled_rows(rows, REPLICA_IDS, copies=8, seed=0)
    assert first != relabelled_rows(rows, REPLICA_IDS, copies=8, seed=1)


def test_a_first_call_drill_is_the_query_and_its_first_call_alone():
    row = {"messages": CONVERSATION, "tools": [{"name": "get_holdings"}], "task_id": "t1", "level": "L1",
           "kind": "gold"}
    drill = first_call_drill(row)
    assert drill["messages"] == CONVERSATION[1:3] and drill["tools"] == [] and drill["kind"] == "gold_first_call"
    answer_only = {**row, "messages": [CONVERSATION[0], CONVERSATION[1], CONVERSATION[4]]}
    assert first_call_drill(answer_only) is None
    drills = first_call_drills([row, answer_only], REPLICA_IDS, copies=3, seed=0)
    assert len(drills) == 3 and all(d["kind"] == "gold_first_call" for d in drills)
    for d in drills:  # relabelled: the call carries the id the query names
        account = d["messages"][1]["tool_calls"][0]["function"]["arguments"]["account_id"]
        assert account in d["messages"][0]["content"] and id_kind(account) == "A#7"
    assert len({d["messages"][0]["content"] for d in drills}) > 1


NAMES = {"C000007": "Marie Jackson", "C000008": "Adam Tran", "C000009": "Adam Tranter"}


def test_a_name_follows_its_id_and_nothing_else_is_renamed():
    conversation = [
        {"role": "user", "content": "Who is C000007, and what about C000008?"},
        {"role": "tool", "content": json.dumps([{"client_id": "C000007", "full_name": "Marie Jackson"},
                                                {"client_id": "C000008", "full_name": "Adam Tran"}])},
        {"role": "assistant", "content": "C000007 is Marie Jackson; C000008 is Adam Tran, not Adam Tranter. "
                                         "Marie Jacksonville is a town."},
    ]
    pools = {"C#6": ["C000007", "C000008"]}  # two ids, two names: the only relabelling that changes them swaps them
    swaps = 0
    for seed in range(20):
        relabelled = relabel_conversation(conversation, pools, random.Random(seed), NAMES)
        people = [(p["client_id"], p["full_name"]) for p in json.loads(relabelled[1]["content"])]
        assert sorted(people) == [("C000007", "Marie Jackson"), ("C000008", "Adam Tran")]  # each id keeps its name
        swaps += people[0][0] == "C000008"
        answer = relabelled[2]["content"]
        assert f"{people[0][0]} is {people[0][1]}; {people[1][0]} is {people[1][1]}" in answer
        assert "Adam Tranter" in answer and "Marie Jacksonville" in answer  # whole names only
        plain = relabel_conversation(conversation, pools, random.Random(seed))  # without names, only ids move
        assert [p["full_name"] for p in json.loads(plain[1]["content"])] == ["Marie Jackson", "Adam Tran"]
    assert 0 < swaps < 20
