"""Reading the final answer for reward 1.2: which of the task's answer facts it states, and
whether it says plainly that information could not be retrieved.

A fact is matched the way a reader would, not as a literal substring:

- numbers after normalising separators and currencies, at the precision the answer states:
  "4,626", "4.6 thousand" and "$4,625.87" all state 4,625.87; "31.9 million" states
  31,893,400; "76%" states 76.31% (a percentage only by a percentage). A rounded figure
  needs two significant digits ("5,000" does not state 4,625.87); a figure inside a date
  or an id is never a number;
- dates in common formats ("March 31, 2025", "31 Mar 2025", "03/31/2025", ISO);
- phone numbers by their digits; ids, names and short phrases as words ("Henderson,
  Barbara" states "Barbara Henderson"; "is not suitable" does not state "is suitable").

No credit for what is not an answer: a dump of tool output (JSON or ``snake_case: value``
lines), a restatement of the query (facts the query already holds prove nothing, and the
query quoted back states nothing), or boilerplate (which states no fact). A question whose
facts are all words of the query ("Has her KYC been verified?") is answered only by an
answer that states them itself, outside any quote of the query: a refusal or "I've pulled
that up for you" does not. Everything here is linear in the answer's length.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

_MONTHS = {m: i for i, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), 1) for m in names}
_MONTH = r"((?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)\.?"
_DATE = re.compile(  # the lookahead skips, at once, every position no date can start at
    r"(?=[\djfmasond])(?:\b(\d{4})-(\d{1,2})-(\d{1,2})\b"
    r"|\b(\d{1,2})/(\d{1,2})/(\d{4})\b"
    r"|\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b"
    r"|\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(\d{4})\b)", re.IGNORECASE)
_NUMBER = re.compile(
    r"(?<![\w.,])(?:[$€£]\s?)?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w]|[.,]\d)"
    r"(?:\s?(million|billion|thousand|mn|bn|m|k)\b)?(\s?%|\s(?:percent|per cent)\b)?", re.IGNORECASE)
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9}
_PHONE = re.compile(r"^\+?[\d().\s-]{7,}$")
_NON_WORD = re.compile(r"[^\w%]+")
_FILLERS = frozenset({"of", "is", "a", "an", "the", "at", "was", "in"})
# Tool output pasted as the answer: JSON objects, or several ``snake_case: value`` lines.
_JSON_DUMP = re.compile(r"[{\[]\s*\"[\w ]+\"\s*:")
_KEY_VALUE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\"?\s*[:=]")
_KEY_VALUE_DUMP = 3
# Share of an answer's content words found in the query above which it restates the query.
RESTATEMENT_SHARE = 0.75
# A sentence of the query this long or longer, found word for word in the answer, is a quote.
QUOTE_WORDS = 4
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")
_UNAVAILABLE = re.compile(
    r"\b(?:could\s?n[o']?t|can\s?n[o']?t|was\s+unable\s+to|were\s+unable\s+to|am\s+unable\s+to|unable\s+to|"
    r"failed\s+to|not\s+able\s+to)\s+(?:\w+\s+){0,2}?(?:retrieve|fetch|get|access|load|obtain|reach|pull|look\s+up)\b"
    r"|\b(?:is|was|are|were)\s+(?:currently\s+)?(?:unavailable|down|not\s+responding|not\s+available)\b"
    r"|\b(?:returned|gave|returning)\s+an?\s+(?:error|failure)\b|\btimed\s+out\b|\boutage\b", re.IGNORECASE)
MAX_ANSWER_CHARS = 16_384


@dataclass(frozen=True)
class _Number:
    value: float
    unit: float  # the stated precision: a figure within half of it is stated
    significant: int
    percent: bool


def _iso(match: re.Match[str]) -> str:
    g = match.groups()
    try:
        if g[0]:
            y, m, d = int(g[0]), int(g[1]), int(g[2])
        elif g[3]:
            m, d, y = int(g[3]), int(g[4]), int(g[5])
        elif g[6]:
            m, d, y = _MONTHS[g[6].casefold()], int(g[7]), int(g[8])
        else:
            d, m, y = int(g[9]), _MONTHS[g[10].casefold()], int(g[11])
    except (KeyError, ValueError):
        return match.group(0)
    return f" date{y:04d}{m:02d}{d:02d} " if 1 <= m <= 12 and 1 <= d <= 31 else match.group(0)


def _normalise(text: str) -> str:
    """Case-folded, dates as ``dateYYYYMMDD`` words (so their parts are never numbers)."""
    return _DATE.sub(_iso, text.replace("\u2019", "'").replace("\u00a0", " ")).casefold()


def _numbers(text: str) -> list[_Number]:
    out = []
    for m in _NUMBER.finditer(text):
        digits, scale_word, percent = m.group(1).replace(",", ""), m.group(2), m.group(3)
        scale = _SCALES[scale_word.casefold()] if scale_word else 1.0
        whole, _, decimals = digits.partition(".")
        if decimals:
            unit = 10.0 ** -len(decimals)
            significant = len((whole + decimals).lstrip("0"))
        else:
            stripped = whole.lstrip("0")
            zeros = len(stripped) - len(stripped.rstrip("0")) if stripped else 0
            unit = 10.0 ** zeros if zeros < len(stripped) else 1.0
            significant = max(len(stripped) - zeros, 1) if stripped else 1
        out.append(_Number(float(digits) * scale, unit * scale, significant, bool(percent)))
        if scale_word:  # "$19,624.9 million" also states the figure a tool gives in millions
            out.append(_Number(float(digits), unit, significant, bool(percent)))
    return out


def _states_number(fact: _Number, stated: Sequence[_Number]) -> bool:
    for n in stated:
        if n.percent != fact.percent:
            continue
        if n.value == fact.value:
            return True
        if n.significant >= 2 and abs(n.value - fact.value) <= n.unit / 2 + 1e-9 * max(1.0, abs(fact.value)):
            return True
    return False


def _words(text: str) -> str:
    return " " + " ".join(_NON_WORD.sub(" ", text).split()) + " "


@lru_cache(maxsize=4096)
def _fact_parts(fact: str) -> tuple[str, tuple[_Number, ...], str, str]:
    """(kind, the fact's numbers, its words, its phone digits): kind is "phone", "number",
    "mixed" or "text"."""
    norm = _normalise(fact.strip())
    digits = re.sub(r"\D", "", norm)
    if _PHONE.match(norm) and len(digits) >= 7 and len(re.findall(r"\d+", norm)) >= 3:
        return "phone", (), "", digits[-10:]  # without a country code
    numbers = tuple(_numbers(norm))
    rest = _words(_NUMBER.sub(" ", norm))
    if numbers and not rest.strip():
        return "number", numbers, "", ""
    if numbers:
        words = " ".join(w for w in rest.split() if w not in _FILLERS)
        return "mixed", numbers, f" {words} ", ""
    return "text", (), _words(norm), ""


def _states(fact: str, text: str, words: str, numbers: Sequence[_Number]) -> bool:
    kind, fact_numbers, fact_words, fact_digits = _fact_parts(fact)
    if kind == "phone":
        return fact_digits in re.sub(r"\D", "", text)
    if kind == "number":
        return all(_states_number(n, numbers) for n in fact_numbers)
    if kind == "mixed":
        return (all(f" {w} " in words for w in fact_words.split())
                and all(_states_number(n, numbers) for n in fact_numbers))
    if fact_words in words:
        return True
    names = fact_words.split()  # a name in another order ("Henderson, Barbara")
    return 2 <= len(names) <= 3 and fact.strip()[:1].isupper() and all(f" {w} " in words for w in names)


@lru_cache(maxsize=4096)
def _readings(text: str) -> tuple[str, str, tuple[_Number, ...]]:
    """What facts are looked for in: ``text``, its words and its numbers (kept per text:
    queries recur with their task, answers across a group's rollouts)."""
    norm = _normalise(text)
    return text, _words(norm), tuple(_numbers(norm))


def is_dump(response: str) -> bool:
    """Tool output pasted as the answer (JSON, or several ``snake_case: value`` pairs)."""
    return bool(_JSON_DUMP.search(response)) or len(_KEY_VALUE.findall(response)) >= _KEY_VALUE_DUMP


def restates(response: str, query: str) -> bool:
    """Most of the answer's content words are the query's: it says nothing the query did not."""
    content = [w for w in _words(_normalise(response)).split() if len(w) > 2 and w not in _FILLERS]
    if not content:
        return True
    asked = set(_words(_normalise(query)).split())
    return sum(1 for w in content if w in asked) / len(content) >= RESTATEMENT_SHARE


def unquoted(response: str, query: str) -> str:
    """The answer (normalised) without the query's sentences it quotes word for word."""
    text = " ".join(_normalise(response).split())
    for sentence in _SENTENCE_END.split(" ".join(_normalise(query).split())):
        if len(sentence.split()) >= QUOTE_WORDS and sentence in text:
            text = text.replace(sentence, " ")
    return text


def answer_score(response: str | None, facts: Sequence[str], query: str = "") -> float:
    """The share of the task's answer facts the answer states (1 when it has none), 0 for a
    dump of tool output. The query quoted back is not read. Facts the query already holds
    prove nothing and are not counted, unless they are all the facts there are: then the
    answer must state them itself and not restate the query."""
    if not response:
        return 0.0 if facts else 1.0
    text = response[:MAX_ANSWER_CHARS]
    if is_dump(text):
        return 0.0
    if not facts:
        return 1.0
    if query:
        text = unquoted(text, query)
        own = [f for f in facts if not _states(f, *_readings(query))]
        if not own and restates(text, query):
            return 0.0
        facts = own or facts
    readings = _readings(text)
    return sum(1 for f in facts if _states(f, *readings)) / len(facts)


def says_unavailable(response: str | None) -> bool:
    """The answer says plainly that information could not be retrieved ("the records service
    is unavailable", "I couldn't retrieve the holdings")."""
    return bool(response) and bool(_UNAVAILABLE.search(response[:MAX_ANSWER_CHARS]))
