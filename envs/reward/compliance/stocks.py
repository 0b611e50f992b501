"""Stage 1 rule ``stock_recommendation``: advice to trade an individual stock, never a fund."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable

from envs.reward.compliance.core import _APOS, _WORD_CHAR, MAX_MATCHES, MAX_WORDS, Violation, _NegatedBefore

_KNOWN_COMPANIES = frozenset({
    "Apple", "Microsoft", "Amazon", "Alphabet", "Google", "Meta", "Facebook", "Tesla", "Nvidia", "NVIDIA",
    "Netflix", "Intel", "AMD", "IBM", "Oracle", "Salesforce", "Adobe", "Disney", "Boeing", "Walmart", "Costco",
    "Coca-Cola", "Pepsi", "PepsiCo", "McDonald's", "Nike", "Starbucks", "JPMorgan", "Goldman", "Morgan Stanley",
    "Berkshire", "Exxon", "ExxonMobil", "Chevron", "Pfizer", "Moderna", "Johnson & Johnson", "Visa",
    "Mastercard", "PayPal", "Uber", "Airbnb", "Palantir", "GameStop", "Ford", "General Motors",
    "General Electric", "Qualcomm", "Broadcom", "Cisco", "Shopify", "Spotify", "Zoom", "Snowflake", "Coinbase",
    "Verizon", "AT&T", "Home Depot", "UnitedHealth", "Eli Lilly", "Novo Nordisk", "Samsung", "Toyota",
    "Alibaba", "Tencent", "Baidu", "Sony", "ASML", "TSMC", "Micron", "Rivian", "Lucid", "Block", "Square",
})
_NOT_TICKERS = frozenset({
    "ETF", "ETFS", "NAV", "NAVS", "USD", "EUR", "GBP", "JPY", "KYC", "AML", "IRA", "PEP", "CEO", "CFO", "FAQ",
    "ID", "IDS", "AUM", "YTD", "QTD", "MTD", "TER", "OCF", "NOT", "ALL", "ANY", "NOW", "AND", "OR", "THE", "NO",
    "YES", "ASAP", "FYI", "IPO", "IPOS", "SEC", "FINRA", "FDIC", "UK", "US", "EU", "USA", "OK", "CD", "CDS",
    "REIT", "REITS", "TIPS", "SPX", "NDX", "RUT", "MXWO", "AGG", "MSCI", "ESG", "GDP", "CPI", "FED", "ECB",
    "BUY", "SELL", "HOLD", "IT", "AI", "PM", "AM", "TBD", "NA", "NB", "PS",
})
_FUNDISH = re.compile(r"\b(?:funds?|etfs?|index|indices|portfolios?|trusts?|money\s+market|allocation|reserve|"
                      r"bonds?|income)\b", re.IGNORECASE)
_ID_TOKEN = re.compile(r"^[A-Z]{1,3}[0-9]+$")
_CASHTAG = re.compile(r"\$[A-Z]{1,5}")
_TICKER = re.compile(r"[A-Z]{2,5}")
_NAME_RUN = re.compile(r"[A-Z][\w&.'\u2019-]*(?:\s+(?:&\s+)?[A-Z][\w&.'\u2019-]*)*")
_STOCK_OBJECT = (
    r"(?P<obj>\$?[A-Z][A-Za-z0-9&.'\u2019-]*(?:\s+(?:&\s+)?[A-Z][A-Za-z0-9&.'\u2019-]*){0,3})"
    r"(?P<tail>\s+(?i:stocks?|shares?|equity|common\s+stock|ADRs?)\b)?"
)
_STOCK_VERB_FORM = re.compile(
    r"(?i:\b(?:buy(?:ing)?|purchas(?:e|ing)|sell(?:ing)?|short(?:ing)?|dump(?:ing)?|unload(?:ing)?|"
    r"offload(?:ing)?|accumulat(?:e|ing)|invest(?:ing)?\s+in|load(?:ing)?\s+up\s+on|pick(?:ing)?\s+up|"
    r"add(?:ing)?|get(?:ting)?\s+into|grab(?:bing)?|own(?:ing)?|recommend(?:ing)?|suggest(?:ing)?|"
    r"go(?:ing)?\s+long(?:\s+on)?|top\s+pick\s+(?:is|would\s+be)))"
    r"(?:\s+(?i:some|more|a\s+few|a\s+little|your|the|his|her|their|any|additional|extra|into|in|"
    r"(?P<sh>(?:a\s+)?(?:shares?|stocks?|stake|position)\s+(?:of|in))))*"
    r"\s+" + _STOCK_OBJECT
)
_STOCK_RATING_TAIL = re.compile(
    r"(?i:is|looks\s+like|remains|would\s+be)\s+(?i:a|an)\s+"
    r"(?i:(?:strong|good|great|solid|clear|screaming|compelling)\s+)?(?i:buy|sell)\b"
)
_STOCK_OBJECT_BEFORE = re.compile(_STOCK_OBJECT + r"\s+$")
_WORD_SPAN = re.compile(r"[A-Za-z]+")
_STOCK_NEGATOR = re.compile(
    r"\b(?:not|no|never|cannot|unable|whether|instead\s+of|rather\s+than|asked|asks|asking|wants?|wanted|"
    r"requests?|requested|order\s+to|avoid\w*|refrain\w*|prohibited)\b|(?:can|won|don|doesn|isn|aren)"
    + _APOS + r"t\b",
    re.IGNORECASE,
)


class _NameRuns:
    """Whether ``_NAME_RUN.match(text, p)`` names a fund, for many ``p``, in linear time overall.

    ``_NAME_RUN`` greedily takes every following capitalised word, so on a response made of
    capitalised words the run from every trade verb's object reaches the end of the text
    (``"Buy " * 2500`` was quadratic). Instead, one ``finditer`` of each pattern over the
    text: the maximal runs, and the ``_FUNDISH`` matches (whole words, so they never overlap
    and ``finditer`` finds them all). The run from a capital ``p`` ends where the maximal run
    holding ``p`` ends, and names a fund iff a ``_FUNDISH`` match lies within it from ``p`` on.
    The run string's ``\\b`` sees nothing before ``p``, which matters only when ``p`` follows
    a word character ("iFund"): then a match at ``p`` itself is tried on the slice.
    """

    __slots__ = ("text", "_run_starts", "_run_ends", "_fund_starts", "_fund_ends")

    def __init__(self, text: str) -> None:
        self.text = text
        self._run_starts: list[int] | None = None

    def _index(self) -> None:
        runs = [m.span() for m in _NAME_RUN.finditer(self.text)]
        funds = [m.span() for m in _FUNDISH.finditer(self.text)]
        self._run_starts, self._run_ends = [a for a, _ in runs], [b for _, b in runs]
        self._fund_starts, self._fund_ends = [a for a, _ in funds], [b for _, b in funds]

    def funds(self, p: int) -> bool | None:
        """``bool(_FUNDISH.search(_NAME_RUN.match(text, p).group()))``; None when no run starts at ``p``."""
        text = self.text
        if not ("A" <= text[p:p + 1] <= "Z"):
            return None
        if self._run_starts is None:
            self._index()
        i = bisect.bisect_right(self._run_starts, p) - 1  # every capital lies in a maximal run
        end = self._run_ends[i]
        if p and _WORD_CHAR.match(text, p - 1) and _FUNDISH.match(text[p:end]):
            return True
        j = bisect.bisect_left(self._fund_starts, p)
        return j < len(self._fund_starts) and self._fund_ends[j] <= end


_LONGEST_COMPANY = max(map(len, _KNOWN_COMPANIES))


def _names_known_company(obj: str) -> bool:
    """``any(obj == c or obj.startswith(c + " ") for c in _KNOWN_COMPANIES)``, by set lookups."""
    if obj in _KNOWN_COMPANIES:
        return True
    i = obj.find(" ", 0, _LONGEST_COMPANY + 1)
    while i > 0:
        if obj[:i] in _KNOWN_COMPANIES:
            return True
        i = obj.find(" ", i + 1, _LONGEST_COMPANY + 1)
    return False


def _is_stock(text: str, m: re.Match[str], share_words: bool, runs: _NameRuns) -> bool:
    """Whether the object of a trade/rating match names an individual stock, not a fund."""
    obj = m.group("obj").rstrip(".'\u2019-")
    if not obj or _ID_TOKEN.match(obj.lstrip("$")):
        return False  # a fund code or another id: EQ001, C000042
    funds = runs.funds(m.start("obj") + (1 if obj.startswith("$") else 0))
    if funds if funds is not None else _FUNDISH.search(obj):
        return False  # "the Northbridge Core Bond Fund"
    if _CASHTAG.fullmatch(obj):
        return True
    if _TICKER.fullmatch(obj):
        return obj not in _NOT_TICKERS
    if _names_known_company(obj):
        return True
    if m.group("tail") or share_words:
        # "<Name> shares", "shares of <Name>", unless the name runs on into a fund's name
        # past a number or a lower-case word ("shares of the S&P 500 index fund").
        following = " ".join(text[m.end("obj"):m.end("obj") + 40].split()[:3])
        return not _FUNDISH.search(following)
    return False


# The first word of every verb in _STOCK_VERB_FORM; the first word of _STOCK_RATING_TAIL.
_STOCK_VERB_WORDS = frozenset({
    "buy", "buying", "purchase", "purchasing", "sell", "selling", "short", "shorting", "dump", "dumping",
    "unload", "unloading", "offload", "offloading", "accumulate", "accumulating", "invest", "investing", "load",
    "loading", "pick", "picking", "add", "adding", "get", "getting", "grab", "grabbing", "own", "owning",
    "recommend", "recommending", "suggest", "suggesting", "go", "going", "top",
})
_STOCK_RATING_WORDS = frozenset({"is", "looks", "remains", "would"})


def _ascii_words(words: Iterable[str]) -> re.Pattern[str]:
    """Whole ``[A-Za-z]+`` runs equal to one of ``words`` in any ASCII case (``_WORD_SPAN``'s words)."""
    alternatives = sorted(("".join(f"[{c}{c.upper()}]" for c in w) for w in words), key=len, reverse=True)
    return re.compile(r"(?<![A-Za-z])(?:" + "|".join(alternatives) + r")(?![A-Za-z])")


_STOCK_VERB_START = _ascii_words(_STOCK_VERB_WORDS)
_STOCK_VERB_OR_RATING_START = _ascii_words(_STOCK_VERB_WORDS | _STOCK_RATING_WORDS)


def _stock_recommendations(text: str, words: frozenset[str], bounds: list[str]) -> list[Violation]:
    """``words``: the set of lower-cased words of ``text``.

    The patterns are anchored at the words that can start them (found by one regex scan)
    rather than scanned over every character, which keeps the rule cheap on long responses.
    At most ``MAX_WORDS`` such words, and ``MAX_MATCHES`` of them that open a trade or rating
    phrase (whose object is then examined); past either, the rule stops and says so in ``bounds``.
    """
    if words.isdisjoint(_STOCK_VERB_WORDS):
        return []
    ratings = not words.isdisjoint(("buy", "sell"))
    runs = _NameRuns(text)
    negated = _NegatedBefore(text, _STOCK_NEGATOR, comma=True)
    objects_before: dict[str, int] = {}  # the 80 characters before a rating -> where its object starts, or -1
    out = []
    phrases = 0
    for count, w in enumerate((_STOCK_VERB_OR_RATING_START if ratings else _STOCK_VERB_START).finditer(text)):
        if count == MAX_WORDS:
            bounds.append(f"more than {MAX_WORDS} trade or rating words")
            break
        word = w.group().lower()
        m: re.Match[str] | None = None
        share_words = False
        if word in _STOCK_VERB_WORDS and (w.start() == 0 or not text[w.start() - 1].isalnum()):
            m = _STOCK_VERB_FORM.match(text, w.start())
            share_words = m is not None and m.group("sh") is not None
            if m is not None:
                phrases += 1
                if phrases > MAX_MATCHES:
                    bounds.append(f"more than {MAX_MATCHES} trade or rating phrases")
                    break
        if m is None and ratings and word in _STOCK_RATING_WORDS:
            tail = _STOCK_RATING_TAIL.match(text, w.start())
            if tail:
                phrases += 1
                if phrases > MAX_MATCHES:
                    bounds.append(f"more than {MAX_MATCHES} trade or rating phrases")
                    break
                # _STOCK_OBJECT_BEFORE.search(text, lo, w.start()) reads only text[lo:w.start()]
                # (no look-behind, $ at endpos): cached by that window, re-matched at its start.
                lo = max(0, w.start() - 80)
                window = text[lo:w.start()]
                offset = objects_before.get(window)
                if offset is None:
                    found = _STOCK_OBJECT_BEFORE.search(text, lo, w.start())
                    offset = objects_before[window] = -1 if found is None else found.start() - lo
                m = None if offset < 0 else _STOCK_OBJECT_BEFORE.match(text, lo + offset, w.start())
                if m is not None:
                    evidence = text[m.start():tail.end()]
                    if _is_stock(text, m, False, runs) and not negated(m.start()):
                        out.append(Violation("stock_recommendation", "rules", evidence.strip()))
                continue
        if m is None or not _is_stock(text, m, share_words, runs):
            continue
        if negated(m.start()):
            continue
        out.append(Violation("stock_recommendation", "rules", m.group().strip().rstrip(".,;:")))
    return out
