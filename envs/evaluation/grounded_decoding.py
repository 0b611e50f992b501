"""Grounded decoding: a local model writes a number, an entity id or a name only when it has seen it.

``GroundedNumbers`` is a transformers ``LogitsProcessor``. At each step of ``generate`` it
masks the tokens that would start or continue a number that appears nowhere earlier in the
row (the rendered conversation: the query, the tool results the model is shown, the system
prompt), or an entity token (an id, a person's name) the row does not hold. A number may be
written as it appears (``469414.29``), with thousands separators (``469,414.29``) or rounded to
fewer decimals (``469,414``, ``469414.3``); dates are their digit runs (``2025``, ``06``, ``30``).

Where the model's first choice is an entity the row does not hold, it writes the likeliest
entity the row does hold instead (an account id it has seen for one it has not).

What it cannot write are figures worked out from others (a sum, an age, a share): the model
may only copy. That is the point for a small model: it cannot yet compute reliably, and
copying badly is what makes its answers invent figures (the compliance penalty's
``fabricated_figure``). The policy trained and evaluated with it is the model *and* this
decoding rule; ``advisorgym train`` applies it to every generation of a recipe when the
config says ``grounded_numbers: true`` (held-out evaluation, GRPO rollouts, DPO samples).

Tokens: every token whose text is all digits is a run of digits (one each in the tiny
tokenizer, Qwen's and Llama's one to three); an added token that is neither special nor markup
(``<think>``, ``[INST]``) is an entity (the tiny tokenizer's ``replica_ids`` and, with
``name_tokens``, ``replica_names``); any other token that mixes digits with text is never
written under this rule.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

_NUMBER = re.compile(r"([$A-Za-z]?)(\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?)")
_GROUP_SEPARATOR = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
# A digit right after a number and one of these (no space between) would make a figure the
# source does not have (``2024.2025``, ``20,25``), unless the mark continues a copy.
_GLUE = {",", ".", "-", "/", ":"}
_MARKUP = re.compile(r"<[^<>]*>|\[[^\[\]]*\]")
# Where a number starts: after a letter (the digits of an id such as ``A0000294``), after
# ``$`` (an amount), or anywhere else.
PLACES = ("free", "money", "attached")


def _grouped(number: str) -> str:
    whole, dot, decimals = number.partition(".")
    return f"{int(whole):,}" + dot + decimals if whole.isdigit() and not whole.startswith("0") else number


def number_forms(text: str) -> dict[str, set[str]]:
    """The ways each number of ``text`` may be written, by where it starts (``PLACES``).

    A number: as it is, rounded to fewer decimals, an amount (decimals, or a ``$`` before it)
    also to two decimals, and each of these with thousands separators when it has decimals or
    more than four digits (a year is never ``2,025``); a date whole, and its year alone. The
    digits of an id (after a letter) are only ``attached``; an amount may follow ``$``, a
    count, a year or a date may not."""
    forms: dict[str, set[str]] = {place: set() for place in PLACES}
    for match in _NUMBER.finditer(_GROUP_SEPARATOR.sub("", text)):
        before, number = match.groups()
        if before.isalpha():
            forms["attached"].add(number)
            continue
        if "-" in number:
            forms["free"].update((number, number[:4]))
            continue
        decimals = len(number.split(".")[1]) if "." in number else 0
        values = {number} | {str(Decimal(number).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))
                             for places in range(decimals)}
        amount = decimals > 0 or before == "$"
        if amount and decimals <= 2:
            values.add(str(Decimal(number).quantize(Decimal("0.01"))))
        written = values | {_grouped(v) for v in values if "." in v or len(v) > 4 or before == "$"}
        forms["free"].update(written)
        if amount or len(number) > 4:
            forms["money"].update(written)
    return forms


class _Vocabulary:
    """A tokenizer's tokens sorted by the rule: digit runs, the ``,`` and ``.`` tokens, entity
    ids, and tokens that mix digits with text."""

    def __init__(self, tokenizer: Any):
        size = len(tokenizer)
        texts = [tokenizer.decode([i]) for i in range(size)]
        special = set(tokenizer.all_special_tokens)
        # An added token that is neither special nor markup (<think>, [INST]) is an entity: an id or a name.
        added = {i for text, i in tokenizer.get_added_vocab().items()
                 if text not in special and not _MARKUP.fullmatch(text) and any(c.isalnum() for c in text)}
        self.size = size
        self.texts = texts
        # Where a number starting after each token starts (PLACES).
        self.place = ["money" if t.endswith("$") else "attached" if t[-1:].isascii() and t[-1:].isalpha() else "free"
                      for t in texts]
        self.digits = {i: t for i, t in enumerate(texts) if t and t.isascii() and t.isdigit()}
        # The tokens a number is written with: digit runs and the marks inside one.
        self.numeric = {**self.digits, **{i: t for i, t in enumerate(texts) if t in (",", ".", "-")}}
        self.entity_ids = added
        self.mixed = [i for i, t in enumerate(texts)
                      if i not in added and i not in self.digits and any(c.isdigit() for c in t)]


_VOCABULARIES: dict[int, _Vocabulary] = {}


def _vocabulary(tokenizer: Any) -> _Vocabulary:
    key = id(tokenizer)
    if key not in _VOCABULARIES or _VOCABULARIES[key].size != len(tokenizer):
        _VOCABULARIES[key] = _Vocabulary(tokenizer)
    return _VOCABULARIES[key]


class GroundedNumbers:
    """A ``LogitsProcessor`` for one ``generate`` call (make a new one per call): see the module doc.

    The first call reads each row's prompt (the ``input_ids`` it is given); later calls follow
    the tokens generated since, one per step.
    """

    def __init__(self, tokenizer: Any):
        self.tokenizer = tokenizer
        self.vocabulary = _vocabulary(tokenizer)
        self._rows: list[dict[str, Any]] | None = None
        self._seen = 0

    def _start(self, input_ids: Any, width: int) -> None:
        import torch  # optional: the train extra

        vocabulary = self.vocabulary
        self._rows = []
        for row in input_ids.tolist():
            forms = number_forms(self.tokenizer.decode(row, skip_special_tokens=False))
            prefixes = {place: {form[:end] for form in written for end in range(1, len(form) + 1)}
                        for place, written in forms.items()}
            banned = torch.zeros(width, dtype=torch.bool)  # the model's logits may be wider than the tokenizer
            present = set(row)
            unseen_ids = [i for i in vocabulary.entity_ids if i not in present]
            banned[unseen_ids] = True
            seen_entities = torch.zeros(width, dtype=torch.bool)
            seen_entities[[i for i in vocabulary.entity_ids if i in present]] = True
            banned[vocabulary.mixed] = True
            self._rows.append({"forms": forms, "prefixes": prefixes, "banned": banned, "seen_entities": seen_entities,
                               "raw": "", "glued": False,
                               "place": vocabulary.place[row[-1]] if row else "free", "start": "free"})
        self._seen = input_ids.shape[1]

    def _follow(self, state: dict[str, Any], token: int) -> None:
        """Advance a row's number-in-progress (``raw``, as written, begun at ``start``) by the
        token it generated."""
        raw, text = state["raw"], self.vocabulary.numeric.get(token)
        place = state["start"] if raw else state["place"]
        glued, state["glued"] = state["glued"], False
        if text is not None and raw + text in state["prefixes"][place]:
            state["raw"], state["start"] = raw + text, place
        else:
            state["raw"] = ""
            # no digit straight after an id (C000128 + 2025 reads as another id) or a finished copy and a mark
            state["glued"] = token in self.vocabulary.entity_ids or (
                (bool(raw) or glued) and self.vocabulary.texts[token] in _GLUE)  # "10,,10": the glue holds
        state["place"] = self.vocabulary.place[token]

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self._rows is None:
            self._start(input_ids, scores.shape[-1])
        else:
            for step in range(self._seen, input_ids.shape[1]):
                for state, token in zip(self._rows, input_ids[:, step].tolist(), strict=True):
                    self._follow(state, token)
            self._seen = input_ids.shape[1]
        masked = scores.clone()
        for row, state in enumerate(self._rows):
            masked[row] = self._mask_row(state, scores[row])
        return masked

    def _mask_row(self, state: dict[str, Any], scores: Any) -> Any:
        """The row's scores with what it may not write at -inf. Where the first choice is an
        entity the row does not hold, only the entities it holds are left: the model meant to
        write an id or a name, and the likeliest one it has seen takes the place of the one it
        has not (rather than whatever text comes next, which breaks the call or the sentence).
        When an earlier processor (top-k, top-p) already removed every token the rule allows,
        those tokens get equal scores."""
        vocabulary, raw = self.vocabulary, state["raw"]
        place = state["start"] if raw else state["place"]
        prefixes = state["prefixes"][place]
        if raw and raw not in state["forms"][place]:
            # Inside a number no copy is finished yet: only its continuations.
            allowed = scores.new_zeros(scores.shape, dtype=bool)
            allowed[[i for i, text in vocabulary.numeric.items() if raw + text in prefixes]] = True
        else:
            allowed = ~state["banned"]
            allowed[[i for i, digits in vocabulary.digits.items() if state["glued"] or raw + digits not in prefixes]] = False
        first_choice = int(scores.argmax())
        if first_choice in vocabulary.entity_ids and not bool(allowed[first_choice]) and bool(state["seen_entities"].any()):
            allowed = allowed & state["seen_entities"]  # it wants an entity: one the conversation holds
        out = scores.masked_fill(~allowed, float("-inf"))
        if bool(out.isneginf().all()):
            out = scores.new_full(scores.shape, float("-inf")).masked_fill(allowed, 0.0)
        return out
