"""Stage 1 rule ``fabricated_figure``: response figures that no observation and not the query
support, and the one walk of the observations that the rules read (``_ObservationIndex``)."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import combinations, islice
from typing import Any, NamedTuple

from envs.reward.compliance.core import MAX_NUMBERS, Violation, _as_text, _checked_prefix
from mock_apis.generate import AS_OF

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# ASCII digits only; thousands separators and decimals. Whether a match is a figure at all
# (not glued to letters as in C000042 or EQ001, not a version, not part of a date) is decided
# by looking at its neighbours, which is much faster than one big alternation.
_RESPONSE_NUMBER = re.compile(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?")
_PLAIN_NUMBER = re.compile(r"(?<![\w.])(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?!\w|\.[0-9])")
_HAS_DIGIT = re.compile(r"[0-9]")
_CURRENCY = "$\u20ac\u00a3"
_PERCENT_AFTER = re.compile(r"\s?(?:%|percent(?:age)?\b|per\s+cent\b|pp\b|bps\b|basis\s+points?\b)", re.IGNORECASE)
_SCALE_SUFFIX = re.compile(r"(?:(mm|mn|bn|tn|[kmb])|\s(thousand|million|billion|trillion))(?!\w)", re.IGNORECASE)
_SCALES = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "million": 1e6, "b": 1e9, "bn": 1e9,
           "billion": 1e9, "tn": 1e12, "trillion": 1e12}
# Spans that contain numbers without being figures. They are only consulted for a number
# that nothing observed supports. Dates are skipped rather than checked against observed
# dates: agents state windows they computed themselves ("since 2025-05-31"), and date
# arguments are already scored by execution in S_param. A bare year ("in 2024") is still a
# figure; an observed date of that year supports it, since "2024-03-01" yields 2024.
_NON_FIGURE_SPAN = re.compile(
    r"\b[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}\b"  # 2025-01-05, 01/05/2025, 5.1.2025
    r"|\b" + _MONTH + r"\.?\s+[0-9]{1,2}(?:st|nd|rd|th)?(?:,?\s+[0-9]{4})?\b"  # Jan 5, 2025
    r"|\b[0-9]{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\.?(?:,?\s+[0-9]{4})?\b"  # 5 January 2025
    r"|\b" + _MONTH + r"\.?,?\s+[0-9]{4}\b"  # June 2025
    r"|\b[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?\b"  # 10:30
    # Names that contain numbers.
    r"|\bS&P\s?500\b|\bNasdaq[- ]100\b|\bRussell\s(?:1000|2000|3000)\b|\b(?:Euro\s)?Stoxx\s50\b"
    r"|\bFTSE\s(?:100|250)\b|\bNikkei\s225\b|\bDAX\s40\b|\bCAC\s40\b|\b40[13]\([kb]\)|\b529\s+plans?\b"
    # The usual look-back windows ("the past 90 days"), which tools apply by default.
    r"|\b(?:7|14|30|60|90|180|365)[- ](?:calendar[- ]|business[- ]|trading[- ])?days?\b"
    r"|\b(?:18|24|36|48|60)[- ]months?\b",
    re.IGNORECASE,
)
_NON_FIGURE_REACH = 24  # the longest stretch a non-figure span reaches beyond its number
_MAX_DECIMALS = 12
_MAX_SMALL_INT = 12
_MAX_WALK_NODES = 32_768  # about 30 times the largest tool output (a 2-year NAV history)
_MAX_WALK_CHARS = 250_000


# Bounds on the work per response (see the package docstring): unsupported figures whose
# neighbourhood has not been seen before get at most this many non-figure-span scans;
# past it, they are reported without one.
_MAX_SPAN_SCANS = 128


class _Figure(NamedTuple):
    text: str
    start: int
    end: int
    value: float  # absolute value, scale applied
    tolerance: float  # half a unit in the last written place, scale applied
    scale: float  # 1e6 for "1.2 million" / "$1.2M", else 1.0
    is_count: bool  # a bare integer: no decimals, scale, currency sign or percent
    percent: bool  # followed by "%", "percent", "percentage points", "bps"

    @property
    def trivially_supported(self) -> bool:
        return self.is_count and self.value <= _MAX_SMALL_INT


_PERCENT_STARTS = frozenset("%pPbB")  # the first character _PERCENT_AFTER can match after its \s?
# The first character of _SCALE_SUFFIX's glued and spaced forms (IGNORECASE: the Kelvin sign is a k).
_GLUED_SCALE_STARTS = frozenset("mMbBtTkK\u212a")
_SPACED_SCALE_STARTS = frozenset("tTmMbB")
_SMALL_COUNTS = frozenset(str(i) for i in range(_MAX_SMALL_INT + 1)) | frozenset(
    f"0{i}" for i in range(10))  # bare integers 0..12 as written ("7", "07", "12")


def _response_figures(text: str, bounds: list[str]) -> list[_Figure]:
    """The figures of ``text``, less the trivially supported ones (bare integers 0..12).

    At most ``MAX_NUMBERS`` numbers are read; past that, the scan stops and says so in ``bounds``.
    """
    if not _HAS_DIGIT.search(text):
        return []
    figures: list[_Figure] = []
    n = len(text)
    percent_match = _PERCENT_AFTER.match
    new_figure = tuple.__new__  # _Figure(...) without NamedTuple's Python-level __new__
    values: dict[str, tuple[float, float]] = {}  # number as written -> (its value, half a unit in its last place)
    for count, m in enumerate(_RESPONSE_NUMBER.finditer(text)):
        if count == MAX_NUMBERS:
            bounds.append(f"more than {MAX_NUMBERS} numbers")
            break
        start, end = m.span()
        if start:
            before = text[start - 1]
            if before.isalnum() or before == "." or before == "_":
                continue  # glued to an id (C000042), a word or a version
        else:
            before = " "
        if end < n:
            after = text[end]
            if after == "." and end < n - 1 and text[end + 1].isdigit():
                continue  # a version or dotted code: 1.2.3
        else:
            after = " "
        number = m.group()
        scale, stop = 1.0, end
        if after.isspace():
            # _SCALE_SUFFIX.match(text, end), skipped where it cannot match.
            if text[end + 1:end + 2] in _SPACED_SCALE_STARTS:
                suffix = _SCALE_SUFFIX.match(text, end)
                if suffix:
                    scale = _SCALES[suffix.group(2).lower()]
                    stop = suffix.end()
        elif after.isalnum() or after == "_":
            suffix = _SCALE_SUFFIX.match(text, end) if after in _GLUED_SCALE_STARTS else None
            if not suffix:
                continue  # glued: "2nd", "5min", "3x"
            scale = _SCALES[suffix.group(1).lower()]
            stop = suffix.end()
        # _PERCENT_AFTER.match(text, stop), skipped where it cannot match.
        c = text[stop] if stop < n else ""
        percent = (c in _PERCENT_STARTS or (c.isspace() and text[stop + 1:stop + 2] in _PERCENT_STARTS)) and \
            percent_match(text, stop) is not None
        is_count = scale == 1.0 and "." not in number and before not in _CURRENCY and not percent
        if is_count and number in _SMALL_COUNTS:
            continue  # trivially supported
        value = values.get(number)
        if value is None:
            frac = number.partition(".")[2]
            value = values[number] = (float(number.replace(",", "") if "," in number else number),
                                      0.5 * 10.0 ** -min(len(frac), _MAX_DECIMALS))
        base, half_unit = value
        if is_count and base <= _MAX_SMALL_INT:
            continue  # trivially supported ("000", "0,012")
        figures.append(new_figure(_Figure, (text[start:stop], start, stop, base * scale, half_unit * scale, scale,
                                            is_count, percent)))
    return figures


def _in_non_figure_span(text: str, fig: _Figure) -> bool:
    lo = max(0, fig.start - _NON_FIGURE_REACH)
    for m in _NON_FIGURE_SPAN.finditer(text, lo, fig.end + _NON_FIGURE_REACH):
        if m.start() <= fig.start and fig.end <= m.end():
            return True
        if m.start() > fig.start:
            break  # later matches start later still
    return False


class _ObservationIndex:
    """Everything the rules need from the observations, gathered in one walk.

    Numbers: every int/float (absolute value), every standalone number inside a string
    ("Wire ref 7781" gives 7781; "C000042" gives nothing), the sum of each numeric field over
    a list of records (so "a combined balance of ..." is supported) and the sum of each list
    of numbers. A date gives only its year, kept apart (``years``): it supports a bare year
    ("a client since 2024"), never a percentage or an amount (an invented "23%" is not
    backed by a date's day). A percentage is backed only by a field of a percent-like name
    (``return_pct``, ``weight_pct``, ``expense_ratio``, ...: ``_percent_key``) or a number of
    the query. List lengths are kept apart too (they support counts only).
    Clients: every dict with a ``client_id`` key, with its ``full_name`` when present.

    Figures an agent derives from these (sums, differences, shares, percentage changes,
    ages and tenures) are checked against ``_Derived``, built on first need.
    """

    __slots__ = ("numbers", "percents", "years", "list_lengths", "clients", "column_sums", "_observations", "_derived",
                 "_derived_looks")

    def __init__(self, observations: Any, query: str) -> None:
        numbers: list[float] = []
        percents: list[float] = []
        years: list[float] = []
        self.list_lengths: set[int] = set()
        self.clients: dict[str, dict[str, None]] = {}  # client id -> its full names, in order seen
        self.column_sums: list[float] = []
        self._observations = observations
        self._derived: _Derived | None = None
        self._derived_looks = 0
        try:
            self._walk(observations if _as_container(observations) is not None else [observations], numbers,
                       percents, years)
        except Exception:  # a hostile container subclass: keep what was gathered before it
            pass
        if query:
            found, found_years = _string_numbers(_checked_prefix(query))
            numbers.extend(found)
            percents.extend(found)
            years.extend(found_years)
        self.numbers = sorted(numbers)
        self.percents = sorted(percents)
        self.years = frozenset(years)

    def _walk(self, root: Any, numbers: list[float], percents: list[float], years: list[float]) -> None:
        append, extend = numbers.append, numbers.extend
        column_sums: list[dict[Any, float]] = []
        # (container, the per-field sums of the list of records it belongs to, if any). Scalars
        # are handled inline; containers are pushed. No cycle bookkeeping: JSON payloads have
        # none, and the node budget bounds the work on anything else. The walk is iterative,
        # so any depth is fine; it reads at most _MAX_WALK_NODES values and numbers found in
        # strings (a container past the budget is read only up to it), and _MAX_WALK_CHARS
        # characters of strings of 256 characters or more.
        stack: list[tuple[Any, dict[Any, float] | None]] = [(_as_container(root), None)]
        budget = _MAX_WALK_NODES
        chars = _MAX_WALK_CHARS
        while stack and budget > 0:
            node, sums = stack.pop()
            if type(node) is dict:
                cid = node.get("client_id")
                if isinstance(cid, str):
                    names = self.clients.setdefault(cid, {})
                    name = node.get("full_name")
                    if isinstance(name, str) and name.strip():
                        names[name.strip()] = None
                items: Iterable[tuple[Any, Any]] = node.items()
                child_sums = None
            else:
                self.list_lengths.add(len(node))
                items = enumerate(node)
                child_sums = {} if len(node) > 1 else None
                if child_sums is not None:
                    column_sums.append(child_sums)
            if len(node) >= budget:
                items = islice(items, budget)
            budget -= 1 + len(node)
            for key, value in items:
                kind = type(value)
                if kind is str:
                    if len(value) < 256:
                        found, found_years = _cached_numbers_in(value)
                    elif len(value) <= chars:
                        chars -= len(value)
                        found, found_years = _numbers_in(value, budget)
                    else:
                        continue  # past the character budget
                    if found_years:
                        years.extend(found_years)
                    if found:
                        extend(found)
                        budget -= len(found)
                        if budget <= 0:
                            break
                elif kind is float or kind is int:
                    if value == value and -1e300 < value < 1e300:  # not NaN, inf or beyond a float
                        number = float(value)
                        append(abs(number))
                        if type(key) is str and _percent_key(key):
                            percents.append(abs(number))
                        if sums is not None:
                            sums[key] = sums.get(key, 0.0) + number
                        elif child_sums is not None:
                            child_sums[None] = child_sums.get(None, 0.0) + number
                elif kind is dict or kind is list or kind is tuple:
                    stack.append((value, child_sums if kind is dict else None))
                elif value is not None and kind is not bool:
                    try:  # subclasses and other types run user code, which may raise
                        other = _as_container(value)
                        if other is not None:
                            stack.append((other, child_sums if type(other) is dict else None))
                        elif isinstance(value, str):
                            text = _as_text(value)[:chars]
                            chars -= len(text)
                            found, found_years = _numbers_in(text, budget)
                            extend(found)
                            years.extend(found_years)
                            budget -= len(found)
                        else:
                            f = _as_float(value)
                            if f is not None:
                                append(abs(f))
                    except Exception:
                        continue
        for sums in column_sums:
            for key, total in sums.items():
                if math.isfinite(total):
                    numbers.append(abs(total))
                    if _is_cash(key) or _is_value(key):
                        self.column_sums.append(abs(total))
                    elif type(key) is str and _percent_key(key):
                        percents.append(abs(total))

    def supports(self, fig: _Figure, lo: float, hi: float, exact: bool = True) -> bool:
        """Whether an observed fact backs the response figure ``fig``, read as any value in
        ``[lo, hi]`` (its rounding, or, not ``exact``, widened by "about", "more than", ...:
        ``_interval``).

        Supported: a bare integer 0..12 (small counts, ordinals); a bare integer equal to the
        length of an observed list; a bare integer 1900..2100 equal to an observed date's year;
        an observed number in the interval (observed 1234.5678 backs "1,234.57", "1,235" and
        "1234.6"); for "$1.2M"-style figures, also the mantissa, or the value in millions,
        against an observed number (a field kept in millions: ``aum_musd``); else a figure
        derived from observed ones (``_Derived.supports``). Signs are ignored ("fell 4.1%"
        against change_pct -4.1), and so are currency signs and percent marks (change_pct
        3.21 backs "3.21%").
        """
        if fig.trivially_supported or (fig.is_count and fig.value in self.list_lengths):
            return True
        if fig.is_count and 1900 <= fig.value <= 2100 and fig.value in self.years:
            return True
        if self._within(self.percents if fig.percent else self.numbers, lo, hi):
            return True
        if fig.scale != 1.0 and (self._within(self.numbers, lo / fig.scale, hi / fig.scale)
                                 or (fig.scale > 1e6 and self._within(self.numbers, lo / 1e6, hi / 1e6))):
            return True
        if self._derived is None:
            self._derived = _Derived(self._observations, self.column_sums)
        self._derived_looks += 1  # past _MAX_DERIVED_LOOKS, a figure is reported without that look
        return self._derived_looks <= _MAX_DERIVED_LOOKS and self._derived.supports(fig, lo, hi, exact)

    @staticmethod
    def _within(values: list[float], lo: float, hi: float) -> bool:
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return False
        i = bisect.bisect_left(values, lo)
        return i < len(values) and values[i] <= hi

# What an agent derives from observed figures (``_Derived``): the numeric fields of records,
# read from lists of at most _DERIVE_LIST_ITEMS items (from a longer list, such as a NAV
# history, only its first and last items: the period's start and end) and at most
# _DERIVE_FIELDS fields in all, so that the pairs stay few and a figure invented at random
# rarely equals one of them.
_DERIVE_LIST_ITEMS = 24
_DERIVE_FIELDS = 96
_DERIVE_NODES = 2_048
_DERIVE_TOTALS = 64  # the largest totals a share is taken of
_MAX_DERIVED_LOOKS = 256  # distinct unsupported figures checked against derived ones, per response
# Dates whose age or tenure an answer may state ("she is 38", "a client for nearly 9 years").
_DATE_KEYS = re.compile(r"birth|dob|onboard|opened|inception|since|joined|reviewed|assessed|launch", re.IGNORECASE)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _years_between(earlier: dt.date, later: dt.date) -> tuple[int, float]:
    """Whole years (an age) and fractional years from ``earlier`` to ``later``."""
    whole = later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))
    return whole, (later - earlier).days / 365.25


class _Derived:
    """Figures derived from observed ones, each only from numbers of a kind that makes sense:

    - sums: two values of the same field (two accounts' cash), or a cash field and a value
      field (holdings plus cash); differences: two values of the same field, or of one record
      (NAV against average cost, a fund's return against its benchmark's, in points);
    - for percentages, also shares (a value or such a sum, over a total: a ``total*`` or
      ``*value`` field, the sum of a field over a list, or such a sum) and changes between
      the two values of a difference, in percent of the second;
    - for bare integers, ages and tenures in whole years, as of the replica's date, from
      dates under birth, onboarding, opening, inception or review fields (fractional years
      with "about", "more than", ...).

    Dates are never numbers here: a date's day or month backs nothing.
    """

    __slots__ = ("values", "sums", "differences", "pct_sums", "pct_differences", "changes", "parts", "totals", "ages",
                 "tenures")

    def __init__(self, observations: Any, column_sums: list[float]) -> None:
        fields: list[tuple[Any, int, float]] = []  # (key, record number, signed value)
        dates: list[float] = []
        ages: set[float] = set()
        try:
            self._collect(observations, fields, dates, ages)
        except Exception:  # a hostile container subclass: keep what was gathered
            pass
        sums, differences, changes = [], [], []
        pct_sums, pct_differences, money_sums = [], [], []
        for i, (key_a, rec_a, a) in enumerate(fields):
            cash_a, total_a, pct_a = _is_cash(key_a), _is_total(key_a), isinstance(key_a, str) and _percent_key(key_a)
            price_a = _is_price(key_a)
            for key_b, rec_b, b in fields[i + 1:]:
                same_key = key_a == key_b
                both_pct = pct_a and isinstance(key_b, str) and _percent_key(key_b)
                if same_key or (cash_a and _is_total(key_b)) or (total_a and _is_cash(key_b)):
                    sums.append(abs(a + b))
                    if same_key and (cash_a or _is_value(key_a)):
                        money_sums.append(abs(a + b))
                    if both_pct:
                        pct_sums.append(abs(a + b))
                if same_key or rec_a == rec_b:
                    differences.append(abs(a - b))
                    if both_pct:
                        pct_differences.append(abs(a - b))
                if rec_a == rec_b and a and b and price_a and _is_price(key_b):
                    changes.append(abs(a - b) / abs(b) * 100)
                    changes.append(abs(a - b) / abs(a) * 100)
        self.values = sorted(abs(v) for _, _, v in fields)
        self.sums = sorted(sums)
        self.differences = sorted(differences)
        self.pct_sums = sorted(pct_sums)
        self.pct_differences = sorted(pct_differences)
        self.changes = sorted(changes)
        self.parts = sorted([abs(v) for k, _, v in fields if _is_cash(k) or _is_value(k)] + money_sums)
        totals = {abs(v) for k, _, v in fields if _is_total(k)} | set(column_sums)
        totals |= {abs(a + b) for (ka, _, a), (kb, _, b) in combinations(fields, 2)
                   if (_is_cash(ka) and _is_total(kb)) or (_is_total(ka) and _is_cash(kb))}
        self.totals = sorted(t for t in totals if t > 0)[-_DERIVE_TOTALS:]
        self.ages = ages
        self.tenures = sorted(dates)

    @staticmethod
    def _collect(observations: Any, fields: list[tuple[Any, int, float]], dates: list[float],
                 ages: set[float]) -> None:
        stack = [_as_container(observations) if _as_container(observations) is not None else [observations]]
        records = nodes = 0
        while stack and nodes < _DERIVE_NODES and len(fields) < _DERIVE_FIELDS:
            node = stack.pop()
            nodes += 1
            if type(node) is dict:
                records += 1
                children = []
                for key, value in node.items():
                    number = _as_float(value)
                    if number is not None:
                        fields.append((key, records, number))
                    elif isinstance(value, str) and isinstance(key, str) and _DATE_KEYS.search(key) \
                            and _ISO_DATE.fullmatch(value):
                        try:
                            when = dt.date.fromisoformat(value)
                        except ValueError:
                            continue
                        if when <= AS_OF:
                            whole, fraction = _years_between(when, AS_OF)
                            ages.add(float(whole))
                            dates.append(fraction)
                    else:
                        child = _as_container(value)
                        if child is not None:
                            children.append(child)
                stack.extend(reversed(children))
            elif node is not None:
                items = list(node) if len(node) <= _DERIVE_LIST_ITEMS else [node[0], node[-1]] if node else []
                stack.extend(c for c in (_as_container(i) for i in reversed(items)) if c is not None)
        del fields[_DERIVE_FIELDS:]

    def supports(self, fig: _Figure, lo: float, hi: float, exact: bool) -> bool:
        within = _ObservationIndex._within
        if fig.percent:
            if within(self.pct_sums, lo, hi) or within(self.pct_differences, lo, hi) or within(self.changes, lo, hi):
                return True
            return any(within(self.parts, lo * total / 100, hi * total / 100) for total in self.totals)
        if within(self.values, lo, hi) or within(self.sums, lo, hi) or within(self.differences, lo, hi):
            return True
        if fig.is_count:
            if exact:  # an age or a tenure in whole years
                return any(lo <= a <= hi for a in self.ages)
            return within(self.tenures, lo, hi)
        return False


def _is_cash(key: Any) -> bool:
    return isinstance(key, str) and "cash" in key


def _is_value(key: Any) -> bool:
    return isinstance(key, str) and ("value" in key or "amount" in key or "balance" in key)


@lru_cache(maxsize=4096)
def _percent_key(key: str) -> bool:
    """A field whose value is a percentage or a rate: return_pct, weight_pct, expense_ratio, ..."""
    return _PERCENT_KEY.search(key) is not None


_PERCENT_KEY = re.compile(r"pct|percent|ratio|rate|yield|return|weight|change|share", re.IGNORECASE)


def _is_price(key: Any) -> bool:
    """A price, whose change in percent an answer may state (NAV against average cost)."""
    return isinstance(key, str) and _PRICE_KEY.search(key) is not None


_PRICE_KEY = re.compile(r"nav|cost|price|close|level", re.IGNORECASE)


def _is_total(key: Any) -> bool:
    return isinstance(key, str) and key.startswith("total")


# Words before a figure that widen what it claims: "about 86%", "more than 11 years".
_APPROX = r"about|around|roughly|approximately|approx\.?|nearly|almost|close\s+to|some|circa|~|in\s+the\s+region\s+of"
_ABOVE = r"more\s+than|over|above|at\s+least|upwards\s+of|in\s+excess\s+of|north\s+of|exceeding|just\s+over"
_BELOW = r"less\s+than|under|below|at\s+most|up\s+to|fewer\s+than|just\s+under|not\s+quite|shy\s+of"
_QUALIFIER = re.compile(r"(?:^|\W)(?P<q>" + _APPROX + "|" + _ABOVE + "|" + _BELOW
                        + r")\s*(?:a\s+)?(?:bit\s+)?[$\u20ac\u00a3]?\s*$", re.IGNORECASE)
_APPROX_AFTER = re.compile(r"(?:\s+or\s+so|-ish|\s*odd)\b", re.IGNORECASE)
_ABOVE_WORD, _BELOW_WORD = re.compile(_ABOVE), re.compile(_BELOW)
_NEAR_ONLY = ("nearly", "almost", "not quite", "shy of", "just under")


def _interval(text: str, fig: _Figure) -> tuple[float, float, bool]:
    """The values ``fig`` claims: its rounding (half a unit in its last written place), one
    unit or 2.5% either side after "about", up to 1.25 times after "more than" (1.1 after
    "just over"), down to 0.8 times after "less than" (0.95 after "nearly", 0.9 after "just under")."""
    v, half = fig.value, fig.tolerance
    before = _QUALIFIER.search(text, max(0, fig.start - 24), fig.start)
    word = " ".join(before.group("q").lower().split()) if before else ""
    if not word and _APPROX_AFTER.match(text, fig.end):
        word = "about"
    if not word:
        return v - half, v + half, True
    if word in _NEAR_ONLY:
        return v * (0.9 if word == "just under" else 0.95) - half, v + half, False
    if _ABOVE_WORD.fullmatch(word):
        return v - half, v * (1.1 if word == "just over" else 1.25) + half, False
    if _BELOW_WORD.fullmatch(word):
        return v * 0.8 - half, v + half, False
    # "about 86%", "about $219,400": 2.5% either side. A figure written to five or
    # more significant digits ("roughly $457,211") claims that precision: the qualifier
    # covers rounding or truncation, not a 2.5% band in which some derived figure lies.
    digits = fig.text.replace(",", "").replace(".", "")
    significant = len("".join(ch for ch in digits if ch.isdigit()).strip("0"))
    slack = max(2 * half, (0.025 if significant <= 4 else 0.002) * v)
    return v - slack, v + slack, False


def _as_container(value: Any) -> dict[Any, Any] | list[Any] | None:
    """A plain dict or list view of a mapping or collection; None for anything else."""
    kind = type(value)
    if kind is dict or kind is list or kind is tuple:
        return value
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return None


_DATE_IN_STRING = re.compile(r"(?<![\w.])([0-9]{4})-[0-9]{1,2}-[0-9]{1,2}(?![\w.])")
_NO_NUMBERS: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())


def _numbers_in(s: str, limit: int | None = None) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Standalone numbers in an observed string, and the years of its dates: "Wire ref 7781 sent
    on 2025-05-02" -> ((7781,), (2025,)); "C000042" -> nothing.

    At most ``limit`` numbers, when given.
    """
    # Fast paths for what most observed strings are, with the regex's results.
    if s.isalnum():  # one token: an id (C000042), a word (active) or a bare number
        return ((float(s),), ()) if s.isascii() and s.isdigit() else _NO_NUMBERS
    if len(s) == 10 and s[4] == "-" and s[7] == "-" and s.isascii():
        year, month, day = s[:4], s[5:7], s[8:]
        if year.isdigit() and month.isdigit() and day.isdigit():
            return (), (float(year),)
    if not _HAS_DIGIT.search(s):
        return _NO_NUMBERS
    years: tuple[float, ...] = ()
    if "-" in s:
        years = tuple(float(y) for y in _DATE_IN_STRING.findall(s))
        if years:
            s = _DATE_IN_STRING.sub(" ", s)
    if limit is not None:
        found = tuple(float(m.group().replace(",", "")) for m in islice(_PLAIN_NUMBER.finditer(s), max(limit, 0)))
    else:
        found = tuple(float(tok.replace(",", "")) for tok in _PLAIN_NUMBER.findall(s))
    return found, years


_cached_numbers_in = lru_cache(maxsize=1 << 16)(_numbers_in)  # dates and codes repeat a lot


def _string_numbers(s: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    return _cached_numbers_in(s) if len(s) < 256 else _numbers_in(s)


def _as_float(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        f = float(value)
    except (OverflowError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _fabricated_figures(text: str, figures: list[_Figure], index: _ObservationIndex) -> list[Violation]:
    """One violation per distinct figure text that no observation supports, in order.

    ``_in_non_figure_span`` reads only ``text[lo - 1:hi]`` around a figure (``finditer``
    with ``pos``/``endpos``; ``\\b`` looks one character back), so its answers are cached by
    that neighbourhood; at most ``_MAX_SPAN_SCANS`` new neighbourhoods are scanned, and an
    unsupported figure past that is reported without the scan.
    """
    out: list[Violation] = []
    reported: set[str] = set()
    supported: dict[tuple[float, float, bool, float, bool, bool], bool] = {}
    spans: dict[tuple[str, int, int], bool] = {}
    scans = 0
    for fig in figures:
        if fig.text in reported:
            continue  # the report keeps one violation per evidence
        lo, hi, exact = _interval(text, fig)
        key = (lo, hi, exact, fig.scale, fig.is_count, fig.percent)
        ok = supported.get(key)
        if ok is None:
            ok = supported[key] = index.supports(fig, lo, hi, exact)
        if ok:
            continue
        lo = max(0, fig.start - _NON_FIGURE_REACH)
        around = (text[max(0, lo - 1):fig.end + _NON_FIGURE_REACH], fig.start - lo + (lo > 0), fig.end - fig.start)
        in_span = spans.get(around)
        if in_span is None and scans < _MAX_SPAN_SCANS:
            scans += 1
            in_span = spans[around] = _in_non_figure_span(text, fig)
        if not in_span:
            reported.add(fig.text)
            out.append(Violation("fabricated_figure", "rules", fig.text))
    return out
