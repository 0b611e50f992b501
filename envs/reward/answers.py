"""Reading the final answer for reward 1.2: which of the task's answer facts it states, and
whether it says plainly that information could not be retrieved.

A fact is matched the way a reader would, not as a literal substring:

- numbers after normalising separators and currencies, at the precision the answer states:
  "4,626", "4.6 thousand" and "$4,625.87" all state 4,625.87; "31.9 million" states
  31,893,400; "$19.6 billion" and "$19,624.9m" state 19,624.9 (a figure a tool gives in
  millions); "76%" states 76.31% (a percentage only by a percentage). A rounded figure
  needs two significant digits ("5,000" does not state 4,625.87); a figure inside a date
  or an id is never a number;
- dates in common formats ("March 31, 2025", "31 Mar 2025", "03/31/2025", ISO);
- phone numbers by their digits; ids, names and short phrases as words ("Henderson,
  Barbara" states "Barbara Henderson"; "is not suitable" does not state "is suitable");
- a fact that denies something by any clause that denies the same thing: "isn't suitable",
  "doesn't permit selling" and "purchases are blocked" state "not allowed", "nothing is
  pending" states "no pending orders" (``_denies``); "I can't tell whether it is suitable"
  states nothing.

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
_NUMBER = re.compile(  # a scale may be glued to the digits ("$19.6bn"), no other letter
    r"(?<![\w.,])(?:[$€£]\s?)?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?!(?!(?:mn|bn|m|k|b)\b)\w|[.,]\d)"
    r"(?:\s?(million|billion|thousand|mn|bn|m|k|b)\b)?(\s?%|\s(?:percent|per cent)\b)?", re.IGNORECASE)
_SCALES = {"thousand": 1e3, "k": 1e3, "million": 1e6, "mn": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "b": 1e9}
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
# Saying that the information could not be had: an inability to retrieve it, a service that
# is down, a call that failed, errored or timed out, an outage, an HTTP 5xx, "no data to
# report". A refusal that names no failure ("I can't help with that") is none of these.
_SYSTEM = (r"(?:service|system|server|api|back[- ]?office|database|records?|request|call|lookup|look-up|query|"
           r"attempt|tool|connection|platform|endpoint|feed)s?")
_UNAVAILABLE = re.compile(
    r"\b(?:could\s+not|can\s+not|unable\s+to|failed\s+to|not\s+able\s+to|did\s+not\s+manage\s+to)\s+(?:\w+\s+){0,2}?"
    r"(?:retrieve|fetch|get|access|load|obtain|reach|pull|look\s+up|connect|contact|query|read)\b"
    r"|\b(?:is|was|are|were|went|seems|appears|being)\s+(?:currently\s+|still\s+|temporarily\s+)?"
    r"(?:unavailable|down|offline|unreachable|not\s+responding|not\s+available|not\s+reachable|not\s+working)\b"
    r"|\b(?:service|server)\s+(?:is\s+)?unavailable\b"
    r"|\b" + _SYSTEM + r"\s+(?:[\w-]+\s+){0,5}?(?:failed|failing|errored|erred|timed\s+out)\b"
    r"|\b(?:failed|failing|errored)\s+(?:with|due\s+to|on\s+every|each\s+time|every\s+time|twice|again)\b"
    r"|\b(?:returned|returning|returns|gave|giving|threw|throwing|hit|got|getting|produced|producing)\s+"
    r"(?:an?\s+|\w+\s+)?(?:(?:server|internal|http|[45]\d\d)\s+)?(?:errors?|failures?)\b"
    r"|\b(?:got|getting|returned|returning|hit|received)\s+(?:an?\s+)?(?:http\s+)?5\d\d\b"
    r"|\b(?:server|internal|gateway|http|5\d\d)\s+errors?\b|\b(?:error|status|code|http)\s+5\d\d\b"
    r"|\btimed\s+out\b|\btime-?outs?\b|\boutages?\b|\bunreachable\b|\boffline\b"
    r"|\bno\s+data\s+to\s+report\b|\bnothing\s+came\s+back\b|\bno\s+response\s+from\b"
    r"|\bhaving\s+(?:an?\s+)?(?:outage|issues|problems|trouble|difficulties)\b", re.IGNORECASE)
MAX_ANSWER_CHARS = 16_384
_CONTRACTION = re.compile(r"\b(?:can't|won't|cannot)\b|n't\b")
_SPELT_OUT = {"can't": "can not", "won't": "will not", "cannot": "can not"}

# A fact that denies something ("is not suitable", "no pending orders", "not allowed") is
# stated by any clause that denies the same thing in other words: "isn't suitable",
# "there aren't any pending orders", "nothing is pending", "None of the orders have been
# executed", "doesn't permit selling", "purchases are blocked", "isn't flagged as a PEP".
# Words are compared by meaning class (_MEANING: "sold" is "sell", "permit" is "allow",
# "open" orders are "pending" ones), other words by a crude stem. A denial does not count
# when it is the agent's own ("I can't tell whether it is suitable", "I don't know"), an
# inability ("not able to confirm"), or an absence of knowledge ("no information on
# whether ..."); a word that denies by itself ("blocked", "unsuitable") counts unless it
# is itself denied ("not blocked").
_NEGATIONS = frozenset({"not", "no", "none", "nothing", "never", "zero", "neither", "nor", "without",
                        "fail", "fails", "failed"})
_MEANING = {w: cls for cls, words in {
    "allow": "allow allowed allows allowing permit permits permitted permission authorised authorized eligible "
             "can able",
    "buy": "buy buys buying bought purchase purchases purchasing purchased",
    "sell": "sell sells selling sold sale sales redeem redeems redeemed redemption redemptions",
    "suit": "suitable suited suit suits appropriate",
    "pending": "pending open outstanding unfilled awaiting",
    "execute": "executed execute executes execution filled",
    "cancel": "cancel cancelled canceled cancels cancellation cancellations",
    "transaction": "transaction transactions trade trades",
    "position": "position positions holding holdings hold holds held",
    "restrict": "restriction restrictions restricted restrict",
    "politically": "politically political",
    "exposed": "exposed exposure",
}.items() for w in words.split()}
_DENYING = {w: cls for cls, words in {  # words that deny by themselves
    "allow": "blocked prohibited forbidden barred disallowed restricted frozen suspended",
    "suit": "unsuitable inappropriate",
}.items() for w in words.split()}
_ALIASES = {"pep": "politically exposed person", "peps": "politically exposed persons"}
# Words a denied fact can do without ("not flagged as politically exposed": "not a PEP").
_LIGHT = frozenset({"is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "any", "the", "a",
                    "an", "of", "as", "to", "for", "on", "flagged", "marked", "listed", "trading"})
_AGENT = frozenset({"i", "we"})
_SCOPE = 8  # the words after a negation that it denies
_SKIPPED = frozenset({"be", "been", "able", "to", "a", "any", "even", "really", "yet", "currently", "quite"})
_INABILITY = frozenset({"tell", "say", "confirm", "verify", "check", "determine", "know", "find", "retrieve", "access",
                        "get", "see", "answer", "help", "provide", "give", "look", "pull", "reach", "fetch", "load",
                        "obtain", "share", "disclose", "guarantee", "comment", "advise", "recommend", "assist",
                        "locate", "sure", "certain", "clear"})
_NO_KNOWLEDGE = frozenset({"information", "info", "data", "record", "records", "details", "way", "access", "idea",
                           "result", "results", "response", "answer", "visibility"})
_CLAUSE_BREAK = re.compile(r"[.;!?](?=\s|$)|\n|\b(?:but|however|although|though|whereas|while)\b")


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
    """Case-folded, dates as ``dateYYYYMMDD`` words (so their parts are never numbers),
    negations spelt out ("isn't" → "is not", "can't" and "cannot" → "can not")."""
    folded = _DATE.sub(_iso, text.replace("\u2019", "'").replace("\u00a0", " ")).casefold()
    return _CONTRACTION.sub(_spelt_out, folded) if "n't" in folded or "cannot" in folded else folded


def _spelt_out(match: re.Match[str]) -> str:
    return _SPELT_OUT.get(match.group(0), " not")


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
            if scale > 1e6:  # and "$19.6 billion" states 19,624.9 (millions) too
                out.append(_Number(float(digits) * scale / 1e6, unit * scale / 1e6, significant, bool(percent)))
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
    denied = _denial(fact)
    if denied is not None:
        return _denies(denied, text)
    names = fact_words.split()  # a name in another order ("Henderson, Barbara")
    return 2 <= len(names) <= 3 and fact.strip()[:1].isupper() and all(f" {w} " in words for w in names)


def _meaning(word: str) -> str:
    cls = _MEANING.get(word)
    if cls is not None:
        return cls
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[:-len(suffix)]
    return word


@lru_cache(maxsize=1024)
def _denial(fact: str) -> tuple[frozenset[str], str | None] | None:
    """A fact that denies something: the meanings a clause must hold (and deny), and the one
    it may leave out after "nothing" or "none" ("no pending orders": "nothing is pending").
    None for a fact that denies nothing."""
    tokens = _words(_normalise(fact)).split()
    if not _NEGATIONS.intersection(tokens):
        return None
    meanings = [_meaning(w) for w in tokens if w not in _NEGATIONS and w not in _LIGHT]
    if not meanings:
        return None
    head = meanings[-1] if tokens[0] == "no" and len(meanings) > 1 else None
    return frozenset(meanings), head


@lru_cache(maxsize=4096)
def _clauses(text: str) -> tuple[tuple[str, ...], ...]:
    """The answer's clauses as words, abbreviations spelt out ("PEP")."""
    out = []
    for clause in _CLAUSE_BREAK.split(_normalise(text)):
        tokens = []
        for w in _words(clause).split():
            tokens.extend(_ALIASES[w].split() if w in _ALIASES else (w,))
        if tokens:
            out.append(tuple(tokens))
    return tuple(out)


def _denies(denied: tuple[frozenset[str], str | None], text: str) -> bool:
    """Whether a clause of ``text`` denies what the fact ``denied`` (``_denial``) denies."""
    meanings, head = denied
    for tokens in _clauses(text):
        held: set[str] = set()
        cues: list[tuple[int, str]] = []
        denied_at: list[int] = []  # where a meaning of the fact stands
        by_itself = reversed_denial = False
        for i, w in enumerate(tokens):
            before = tokens[max(0, i - 3):i]
            if w in _NEGATIONS:
                if _real_denial(tokens, i, before):
                    cues.append((i, w))
            elif w in _DENYING and _DENYING[w] in meanings:
                held.add(_DENYING[w])
                if _NEGATIONS.intersection(before):
                    reversed_denial = True  # "not blocked"
                else:
                    by_itself = True
            elif w in ("can", "able") and _AGENT.intersection(before):
                continue  # the agent's own ability ("I can't place it") is no permission
            else:
                meaning = _meaning(w)
                held.add(meaning)
                if meaning in meanings:
                    denied_at.append(i + 2 if w == "can" else i)  # "can not": the modal is denied by its "not"
        if reversed_denial:
            continue
        # A negation denies what follows it ("is suitable, and no checks are needed" denies no suitability).
        in_scope = [w for i, w in cues if any(i < at <= i + _SCOPE for at in denied_at)]
        if not (in_scope or by_itself):
            continue
        needed = meanings - {head} if head is not None and {"nothing", "none"}.intersection(in_scope) else meanings
        if needed <= held:
            return True
    return False


def _real_denial(tokens: tuple[str, ...], i: int, before: tuple[str, ...]) -> bool:
    """Whether the negation ``tokens[i]`` denies a fact: not the agent's own ("I can't",
    "we don't"), an inability ("not able to confirm") or "no information"."""
    if tokens[i] in ("not", "never") and _AGENT.intersection(before):
        return False
    following = next((w for w in tokens[i + 1:i + 5] if w not in _SKIPPED), "")
    if following in _INABILITY:
        return False
    return not (tokens[i] == "no" and following in _NO_KNOWLEDGE)


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
    """The answer (normalised) without the query's sentences it quotes word for word (with or
    without their closing mark)."""
    text = " ".join(_normalise(response).split())
    for sentence in _SENTENCE_END.split(" ".join(_normalise(query).split())):
        sentence = sentence.rstrip(".?!")
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


def gives_a_denial(response: str | None, facts: Sequence[str], query: str = "") -> bool:
    """Whether the answer states one of ``facts`` that denies something ("not allowed", "is
    not suitable"): "I can't place that sell: their compliance status doesn't permit selling"
    declines because the data says no, and gives that reason; it is an answer, not an
    over-refusal."""
    denials = [f for f in facts if _denial(f) is not None]
    return bool(denials) and answer_score(response, denials, query) > 0.0


def says_unavailable(response: str | None) -> bool:
    """The answer says plainly that information could not be retrieved ("the records service
    is unavailable", "I couldn't retrieve the holdings", "every request failed with a 503",
    "the system timed out", "I have no data to report"), not merely that it declines."""
    if not response:
        return False
    text = response[:MAX_ANSWER_CHARS].replace("\u2019", "'")
    if "n't" in text or "nnot" in text:  # "wasn't able to" is "was not able to"
        text = _CONTRACTION.sub(_spelt_out, text.casefold())
    return bool(_UNAVAILABLE.search(text))
