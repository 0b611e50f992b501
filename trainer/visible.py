"""Which SFT conversations end in an answer the model can write from what it sees.

A small model shown each tool result cut at ``tool_result_chars`` characters (``tiny``'s
chat template) cannot copy a figure that lies past the cut, nor work out a sum or a share in
its head. Of the demo's 2,094 training conversations, 394 end in an answer that quotes a figure
or an id found only past the cut, and 82 in one with a figure written nowhere in the
conversation (a sum, a share, a rounding); trained on them, the model learns to write figures
it cannot see, which the checker flags as invented (and ids it cannot see, which name someone
else). ``figures_in_view``
keeps a conversation only when every figure of its final answer (two digits or more, outside
ids) and every entity id in it is written in the query or in a tool result as the model is
shown it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from trainer.relabel import ENTITY_ID

# A figure: digits with thousands separators and decimals, not the digits of an id (C000179).
FIGURE = re.compile(r"(?<![A-Za-z0-9])\d[\d,]*(?:\.\d+)?")


def figures(text: str) -> set[float]:
    """The values of the figures of two digits or more in ``text`` (12, 4,626.50, 2025)."""
    found = set()
    for match in FIGURE.findall(text):
        plain = match.rstrip(",").replace(",", "")
        if sum(c.isdigit() for c in plain) >= 2:
            found.add(float(plain))
    return found


def _shown(message: dict[str, Any], tool_result_chars: int | None) -> str:
    content = message.get("content")
    text = content if isinstance(content, str) else json.dumps(content)
    if message["role"] == "tool" and tool_result_chars is not None:
        return text[:tool_result_chars]
    return text or ""


def figures_in_view(row: dict[str, Any], tool_result_chars: int | None) -> bool:
    """Whether every figure and entity id of the row's final answer is in the query or a tool
    result as shown (cut at ``tool_result_chars``); a row that does not end in an answer is kept."""
    messages: Sequence[dict[str, Any]] = row["messages"]
    last = messages[-1]
    if last["role"] != "assistant" or last.get("tool_calls"):
        return True
    seen: set[float] = set()
    seen_ids: set[str] = set()
    for message in messages[:-1]:
        if message["role"] in ("user", "tool"):
            shown = _shown(message, tool_result_chars)
            seen |= figures(shown)
            seen_ids.update(ENTITY_ID.findall(shown))
    answer = last.get("content") or ""
    return figures(answer) <= seen and set(ENTITY_ID.findall(answer)) <= seen_ids
