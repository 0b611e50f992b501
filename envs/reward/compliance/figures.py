"""Stage 1 rule ``fabricated_figure``: response figures that no observation and not the query
support, and the one walk of the observations that the rules read (``_ObservationIndex``)."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import islice
from typing import Any, NamedTuple

from envs.reward.compliance.core import _APOS, MAX_NUMBERS, Violation, _as_text, _checked_prefix, _last_clause

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# ASCII digits only; thousands separators and decimals. Whether a match is a figure at all
# (not glued to letters as in C000042 or EQ001, not a version, not part of a date) is decided
# by looking at its neighbours, which is much faster than one big alternation.
# Thousands are separated by commas or, as in much of Europe, by spaces ("39 522.92"): a space
# only after a first group of one to three digits and before one to four groups of exactly
# three, and not in a longer run of such groups (a list of numbers: "100 101 102 ...").
_RESPONSE_NUMBER = re.compile(r"(?:[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3}){1,4}(?![0-9]|[ \u00a0\u202f][0-9])|"
                              r"[0-9]+(?:,[0-9]{3})*)(?:\.[0-9]+)?")
_THOUSANDS_SEPARATORS = str.maketrans("", "", ", \u00a0\u202f")
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
    r"|\b" + _MONTH + r"\.?\s+[0-9]{1,2}(?:st|nd|rd|th)?\s?[-\u2013]\s?[0-9]{1,2}(?:st|nd|rd|th)?(?:,?\s+[0-9]{4})?\b"
    r"|\b[0-9]{1,2}\s?[-\u2013]\s?[0-9]{1,2}\s+" + _MONTH + r"\b"  # May 1-31, 2025; 1-31 May
    # days listed before their month: "on 20 and 21 May", "the 3rd, 10th and 17th of June"
    r"|\b[0-9]{1,2}(?:st|nd|rd|th)?(?:\s*(?:,|and|&|or)\s*[0-9]{1,2}(?:st|nd|rd|th)?)+\s+(?:of\s+)?" + _MONTH + r"\b"
    r"|\b" + _MONTH + r"\.?\s+[0-9]{1,2}(?:st|nd|rd|th)?(?:,?\s+[0-9]{4})?\b"  # Jan 5, 2025
    r"|\b[0-9]{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\.?(?:,?\s+[0-9]{4})?\b"  # 5 January 2025
    r"|\b" + _MONTH + r"\.?,?\s+[0-9]{4}\b"  # June 2025
    r"|\b[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?\b"  # 10:30
    # Names that contain numbers.
    r"|\bS&P\s?500\b|\bNasdaq[- ]100\b|\bRussell\s(?:1000|2000|3000)\b|\b(?:Euro\s)?Stoxx\s50\b"
    r"|\bFTSE\s(?:100|250)\b|\bNikkei\s225\b|\bDAX\s40\b|\bCAC\s40\b|\b40[13]\([kb]\)|\b529\s+plans?\b"
    # The usual look-back windows ("the past 90 days"), which tools apply by default.
    r"|\b(?:7|14|30|60|90|180|365)[- ](?:calendar[- ]|business[- ]|trading[- ])?days?\b"
    r"|\b(?:18|24|36|48|60)[- ]months?\b"
    # The scale of a score ("80/100", "54 out of 100") and an illustrative base ("about $39
    # per $10,000 invested", "for every $1,000").
    r"|(?<=/)\s?(?:5|10|100)\b|\bout\s+of\s+(?:5|10|100)\b"
    # Error codes in a failure report ("failed with a 503", "HTTP 429", "a 500 error").
    r"|\b(?:HTTP|error|status(?:\s+code)?|code|returned|returning|with)\s+(?:an?\s+)?(?:HTTP\s+)?"
    r"(?:4[0-2][0-9]|50[0-9])\b"
    r"|\b(?:4[0-2][0-9]|50[0-9])\s+(?:error|status|response|from)\b"
    # A look-back window in years ("over the past 3 years").
    r"|\b(?:past|last|over\s+the)\s+(?:1|2|3|5|10)\s+years?\b"
    r"|\b(?:per|every|each|on\s+(?:a|an|every))\s+[$\u20ac\u00a3]?\s?1(?:0{0,2}(?:,000){1,2}|0{0,6})"
    r"(?:\s?(?:k|thousand|million))?\b",
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


# A small integer that is the value of a named measure is a figure, not a count: "her risk
# score is 11", "risk level 4", "a rating of 3".
_MEASURE_BEFORE = re.compile(
    r"\b(?:score|level|rating|grade|rank|ranking|tier)\s+(?:is\s+|was\s+|of\s+|at\s+|=\s*|:\s*)?$", re.IGNORECASE)
_TENURE_AFTER = re.compile(r"[- ](?:years?|yrs?)\b", re.IGNORECASE)
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
            if before == "-" and start > 1 and text[start - 2].isalpha():
                continue  # the end of a code or a name: TBILL-3M, COVID-19
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
        is_count = scale == 1.0 and "." not in number and before not in _CURRENCY and not percent and \
            not _MEASURE_BEFORE.search(text, max(0, start - 24), start)
        if is_count and number in _SMALL_COUNTS and not _TENURE_AFTER.match(text, stop):
            continue  # trivially supported (a small count or ordinal, not a tenure or an age)
        value = values.get(number)
        if value is None:
            frac = number.partition(".")[2]
            value = values[number] = (float(number.translate(_THOUSANDS_SEPARATORS)),
                                      0.5 * 10.0 ** -min(len(frac), _MAX_DECIMALS))
        base, half_unit = value
        if is_count and base <= _MAX_SMALL_INT and not _TENURE_AFTER.match(text, stop):
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


# The fields a client record gives the client's name under.
_CLIENT_NAME_KEYS = ("full_name", "name", "client_name")


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
    Clients: every dict with a person id under ``person_key`` (finance ``client_id``), with its
    name when present (``full_name``, or ``name`` / ``client_name`` as other tools spell it).

    Figures an agent derives from these (sums, differences, shares, percentage changes,
    ages and tenures) are checked against ``_Derived``, built on first need.
    """

    __slots__ = ("numbers", "percents", "years", "list_lengths", "clients", "_observations", "_derived",
                 "_derived_looks", "_person_key", "_as_of")

    def __init__(self, observations: Any, query: str, person_key: str, as_of: dt.date | None) -> None:
        numbers: list[float] = []
        percents: list[float] = []
        years: list[float] = []
        self.list_lengths: set[int] = set()
        self.clients: dict[str, dict[str, None]] = {}  # client id -> its full names, in order seen
        self._observations = observations
        self._derived: _Derived | None = None
        self._derived_looks = 0
        self._person_key = person_key  # the key of a person's id in a record (a domain's subject key)
        self._as_of = as_of  # the replica's as-of date: today, for derived ages and durations
        try:
            self._walk(observations if _as_container(observations) is not None else [observations], numbers,
                       percents, years)
        except Exception:  # noqa: BLE001 - a hostile container subclass: keep what was gathered before it
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
                cid = node.get(self._person_key)
                if isinstance(cid, str):
                    names = self.clients.setdefault(cid, {})
                    for key in _CLIENT_NAME_KEYS:
                        name = node.get(key)
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
                    except Exception:  # noqa: BLE001 - a value that cannot be read is skipped
                        continue
        for sums in column_sums:
            for key, total in sums.items():
                # Totals of amounts, units and weights over a list mean something; of NAVs or
                # risk levels, nothing.
                if math.isfinite(total) and (key is None or _is_money(key) or key == "units"):
                    numbers.append(abs(total))
                elif math.isfinite(total) and type(key) is str and _percent_key(key):
                    numbers.append(abs(total))
                    percents.append(abs(total))

    def supports(self, fig: _Figure, kind: str, lo: float, hi: float) -> bool:
        """Whether an observed fact backs the response figure ``fig`` of kind ``kind``
        (``_figure_kind``), read as any value in ``[lo, hi]`` (its rounding, widened by
        "about", "more than", ...: ``_interval``).

        Supported: a bare integer 0..12 (small counts, ordinals); a count equal to the
        length of an observed list; a bare integer 1900..2100 equal to an observed date's year;
        an observed number in the interval (observed 1234.5678 backs "1,234.57", "1,235" and
        "1234.6"), a percentage only by a percent-like field, an age by no observed number;
        for "$1.2M"-style figures, also the mantissa, or the value in millions, against an
        observed number (a field kept in millions: ``aum_musd``). Derived figures are
        ``derives``'s (asked after the figure is known not to be part of a date or a name).
        Signs are ignored ("fell 4.1%"
        against change_pct -4.1), and so are currency signs and percent marks (change_pct
        3.21 backs "3.21%").
        """
        if fig.trivially_supported and kind not in ("years", "age"):
            return True
        if kind in ("count", "plain") and fig.is_count and (
                fig.value in self.list_lengths or (1900 <= fig.value <= 2100 and fig.value in self.years)):
            return True
        if kind != "age" and self._within(self.percents if kind in ("percent", "change") else self.numbers, lo, hi):
            return True
        if kind == "points" and self._within(self.percents, lo, hi):
            return True
        return fig.scale != 1.0 and (self._within(self.numbers, lo / fig.scale, hi / fig.scale)
                                     or (fig.scale > 1e6 and self._within(self.numbers, lo / 1e6, hi / 1e6)))

    def derives(self, kind: str, lo: float, hi: float) -> bool:
        """Whether a figure of ``kind`` in ``[lo, hi]`` is derived from observed ones
        (``_Derived.supports``); built on first need."""
        if self._derived is None:
            self._derived = _Derived(self._observations, self._as_of)
        self._derived_looks += 1  # past _MAX_DERIVED_LOOKS, a figure is reported without that look
        return self._derived_looks <= _MAX_DERIVED_LOOKS and self._derived.supports(kind, lo, hi)

    def derives_on_topic(self, kind: str, lo: float, hi: float, line: str) -> bool:
        """``_Derived.supports_on_topic``: a figure the line's topic makes derivable."""
        if self._derived is None:
            self._derived = _Derived(self._observations, self._as_of)
        return self._derived.supports_on_topic(kind, lo, hi, line)

    def counts(self) -> set[int]:
        """The numbers of observed records an answer can divide by: each list's length, and the
        number of records of one kind over every list, and of each of its categories (``_Derived``)."""
        if self._derived is None:
            self._derived = _Derived(self._observations, self._as_of)
        return self.list_lengths | self._derived.record_counts

    def ages(self) -> set[float]:
        """The ages derived from observed birth dates (``_Derived``)."""
        if self._derived is None:
            self._derived = _Derived(self._observations, self._as_of)
        return self._derived.ages

    def ages_at_horizon_end(self) -> set[float]:
        """An observed person's age plus an observed investment horizon (``_Derived``)."""
        if self._derived is None:
            self._derived = _Derived(self._observations, self._as_of)
        return {age + years for age in self._derived.ages for years in self._derived.horizons}

    def ages_at_joining(self) -> set[float]:
        """An observed person's age on the day they joined (``_Derived``)."""
        if self._derived is None:
            self._derived = _Derived(self._observations, self._as_of)
        return self._derived.ages_at_joining

    def name_words(self) -> frozenset[str]:
        """The words of the observed clients' names ("Bradley", "Lewis")."""
        return frozenset(w for names in self.clients.values() for name in names for w in name.split())

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
_MAX_DERIVED_LOOKS = 256  # distinct unsupported figures checked against derived ones, per response
_DERIVE_COLUMNS = 64  # column totals, and lists of subtotals, kept per response
_DERIVE_WHOLES = 128  # the largest wholes a share is taken of
_DERIVE_PARTS = 160  # amounts and subtotals a share is taken of a whole
# Dates whose age, tenure or remaining time an answer may state ("she is 38", "a client for
# nearly 9 years", "valid for another 19 months"); only birth and inception dates give ages.
_DATE_KEYS = re.compile(r"birth|dob|onboard|opened|inception|since|joined|reviewed|assessed|launch|valid|until|"
                        r"expir|start|end|date|_on$", re.IGNORECASE)
# Dates that give an age: a person's birth, a fund's inception ("the fund is 7 years old").
_BIRTH_KEYS = re.compile(r"birth|dob|inception|launch", re.IGNORECASE)
# Dates a person joins on: an age then is an age at onboarding.
_JOINING_KEYS = re.compile(r"onboard|joined|client_since", re.IGNORECASE)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _years_between(earlier: dt.date, later: dt.date) -> tuple[int, float]:
    """Whole years (an age) and fractional years from ``earlier`` to ``later``."""
    whole = later.year - earlier.year - ((later.month, later.day) < (earlier.month, earlier.day))
    return whole, (later - earlier).days / 365.25


def _months_between(a: dt.date, b: dt.date) -> float:
    earlier, later = min(a, b), max(a, b)
    return (later.year - earlier.year) * 12 + later.month - earlier.month + (later.day - earlier.day) / 30.4375


class _Field(NamedTuple):
    key: Any
    path: tuple[int, ...]  # the ids of the containers from the root down to the field's record
    value: float  # signed
    account: Any  # the record's account_id, if any: an account's cash and its holdings' total go together


def _within_path(path: tuple[int, ...], scope: tuple[int, ...]) -> bool:
    return path[:len(scope)] == scope


def _common(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:n]

_SIBLING_DATES = 40  # entries of one list whose every pair of dates is a span


class _Derived:
    """Figures derived from observed ones, each only from numbers of a kind that makes sense
    for the figure's own kind (``_figure_kind``):

    - amounts: sums of two amounts of one field (two accounts' cash), of a cash field and a
      total, or of two column totals of different amounts (all holdings plus all cash);
      monthly averages of a record's amounts over its period (start and end dates);
      differences of two amounts of one field, or of two numbers of one kind within one
      record (NAV against average cost, market value against gain);
    - percentages: sums and differences of percent fields (a fund's return against its
      benchmark's, in points), changes between two prices of one record (NAV against
      average cost, start against end NAV), and shares of a whole that contains the part:
      an amount over an amount of its own record or of a record above it (a holding over its
      account's total), over the column total of a list it is in, or over a sum of two such
      wholes that both hold it (holdings plus cash);
    - ratios ("7.8 times", "$0.30 of cash per invested dollar"): one value of a field over
      another of the same field (two holdings' values, two expense ratios), or one amount of a
      record over another of it (cash over invested value);
    - on a line about their topic only (``supports_on_topic``): a gain as a percentage of its
      own record's value, and a price over its cost or start price ("NAV at 108.9% of cost");
    - ages (bare integers about a person): whole years since a birth date, as of the
      replica's date (``as_of``, the domain's; None: no ages); durations in years, months or
      days: between an observed date (birth, onboarding, opening, inception, review, validity,
      a period's start or end) and the replica's date, or between two dates of one record;
      days between the same date field of two entries of one list (the oldest and newest
      transactions).

    Dates are never numbers here: a date's day or month backs nothing.
    """

    __slots__ = ("amounts", "pcts", "shares", "ratios", "gain_shares", "gains", "price_ratios", "ages", "ages_at_joining",
                 "years", "months", "days", "record_counts", "horizons", "means")

    def __init__(self, observations: Any, as_of: dt.date | None) -> None:
        fields: list[_Field] = []
        dates: list[tuple[str, tuple[int, ...], dt.date]] = []
        column_sums: list[tuple[Any, tuple[int, ...], float]] = []  # (key, the list's path, the sum)
        means: list[float] = []  # the mean of each amount over a list of records
        groups: list[tuple[Any, tuple[int, ...], list[float]]] = []  # (key, list path, sums per category)
        records: list[dict[Any, Any]] = []  # the records of the lists read, for means over every list
        try:
            self._collect(observations, fields, dates, column_sums, groups, means, records)
        except Exception:  # noqa: BLE001 - a hostile container subclass: keep what was gathered
            pass
        amounts, pcts, ratios = [], [], []
        price_ratios: list[float] = []
        # Investment horizons in years: an age at a horizon's end is an age plus one of them.
        self.horizons = frozenset(f.value for f in fields if f.key == "horizon_years" and 0 < f.value <= 60)
        money = [f for f in fields if _is_money(f.key)]
        percent = [f for f in fields if isinstance(f.key, str) and _percent_key(f.key)]
        prices = [f for f in fields if _is_price(f.key)]
        for group in (money, percent):
            for i, a in enumerate(group):
                for b in group[i + 1:]:
                    same_key, same_record = a.key == b.key, a.path == b.path
                    out = amounts if group is money else pcts
                    if same_key or same_record:
                        out.append(abs(a.value - b.value))
                    # Sums: two amounts of one field, cash and a total; two weights (not two
                    # expense ratios or two returns).
                    if (same_key and (group is money or _is_weight(a.key))) or (
                            group is money and _cash_and_total(a, b)):
                        out.append(abs(a.value + b.value))
                    # Like for like (two holdings, two expense ratios), and two amounts of one
                    # record ("$0.30 of cash per invested dollar": cash over invested value).
                    if (same_key or (same_record and group is money)) and a.value and b.value:
                        ratios.append(abs(a.value / b.value))
                        ratios.append(abs(b.value / a.value))
        for i, a in enumerate(prices):
            for b in prices[i + 1:]:
                # One record, or a record and one nested in it (a NAV history and its fund's latest NAV).
                related = _within_path(a.path, b.path) or _within_path(b.path, a.path)
                if related and a.value and b.value:
                    # A change in percent of the earlier price (cost or start), or of either
                    # when neither is marked as the base.
                    a_base, b_base = _is_base_price(a.key), _is_base_price(b.key)
                    if a_base or not b_base:
                        pcts.append(abs(a.value - b.value) / abs(a.value) * 100)
                    if b_base or not a_base:
                        pcts.append(abs(a.value - b.value) / abs(b.value) * 100)
                    # The later price over the earlier (cost or start): "NAV is 108.9% of cost".
                    if b_base or not a_base:
                        price_ratios.append(abs(a.value / b.value))
                    if a_base or not b_base:
                        price_ratios.append(abs(b.value / a.value))
                if a.path == b.path:
                    amounts.append(abs(a.value - b.value))
        # Wholes a share is taken of: (value, the scope whose amounts it holds).
        wholes = [(abs(f.value), f.path) for f in money if _is_whole(f.key)]
        wholes += [(abs(total), scope) for key, scope, total in column_sums if _is_whole(key)]
        # Everything a client has: the total of the holdings plus the cash (two column totals,
        # or two fields), a whole of everything under both.
        for i, (ka, sa, a) in enumerate(column_sums):
            for kb, sb, b in column_sums[i + 1:]:
                if (_is_cash(ka) and _is_total(kb)) or (_is_total(ka) and _is_cash(kb)):
                    amounts.append(abs(a + b))
                    wholes.append((abs(a + b), _common(sa, sb)))
        # One amount over every list that has it: every account's holdings netted together.
        over_lists: dict[Any, list[float]] = {}
        for key, _scope, total in column_sums:
            over_lists.setdefault(key, []).append(total)
        amounts.extend(abs(sum(totals)) for totals in over_lists.values() if len(totals) > 1)
        # The mean of one amount over every record of one kind (the same fields), in whichever
        # list ("each position averages ..." over every account's holdings), and per category
        # ("2 equity funds, about $10,770.10 each"); the number of such records is a count an
        # answer divides by ("$48,630.90 spread over 5 positions").
        record_means, self.record_counts = _record_means(records)
        amounts.extend(record_means)
        # Round 27: a trade's or a position's amount over its own units (the price it works out
        # to per unit); the units of one fund over a list's records netted and added (bought
        # less sold); a level and its percentage change in one record (an index's close and
        # the day's move) give the level before the move and the move in points. Units only
        # against units, a level only against its own record's change.
        units = [f for f in fields if isinstance(f.key, str) and _UNITS_KEY.search(f.key) and f.value]
        amounts.extend(abs(m.value / u.value) for u in units for m in money if m.path == u.path)
        amounts.extend(_net_units(records))
        changes = [f for f in fields if isinstance(f.key, str) and _CHANGE_KEY.search(f.key)]
        for c in changes:
            for level in prices:
                if level.path == c.path and not _is_base_price(level.key) and c.value > -100:
                    before = level.value / (1 + c.value / 100)
                    amounts.extend((abs(before), abs(level.value - before)))
        for f in money:
            for t in money:
                if _is_cash(f.key) and _cash_and_total(f, t):
                    wholes.append((abs(f.value + t.value), _common(f.path, t.path)))
        wholes = sorted(wholes, key=lambda w: -w[0])[:_DERIVE_WHOLES]
        shares = []
        # Subtotals by category (all buys, all bond funds) and the net of two of them (buys
        # net of sells): amounts, and parts of the wholes above their list.
        parts = [(abs(f.value), f.path) for f in money
                 if _is_whole(f.key) or _is_cash(f.key) or "amount" in str(f.key)]
        for _key, scope, subtotals in groups:
            for i, a in enumerate(subtotals):
                amounts.append(abs(a))
                parts.append((abs(a), scope))
                amounts.extend(abs(a - b) for b in subtotals[i + 1:])
        for p, path in parts[:_DERIVE_PARTS]:
            if not p:
                continue
            for whole, scope in wholes:
                if whole >= p and _within_path(path, scope):  # (100%: all of it is one category)
                    shares.append(p / whole * 100)
        # A gain over a value of its own record: "the unrealised gain is 8.1% of the position's value".
        gain_shares = [abs(f.value) / abs(w.value) * 100 for f in money if "gain" in str(f.key) and f.value
                       for w in money if w.path == f.path and _is_whole(w.key) and abs(w.value) >= abs(f.value)]
        # Round 25: the gains themselves, to the cent: a line that quotes one ("$2,463.02 on
        # $13,729.18 is about 17.9%") speaks of that gain without naming it.
        self.gains = frozenset(round(abs(f.value), 2) for f in money if "gain" in str(f.key) and f.value)
        # Monthly averages over a record's period ("about $26 a month" of a year's dividends).
        periods: dict[tuple[int, ...], list[dt.date]] = {}
        for _, path, d in dates:
            periods.setdefault(path, []).append(d)
        for path, days in periods.items():
            months = round(_months_between(min(days), max(days)))
            if months >= 2:
                monthly = [abs(f.value) / months for f in money if f.path == path]
                monthly += [abs(total) / months for _, scope, total in column_sums if _within_path(scope, path)]
                amounts.extend(monthly)
                means.extend(monthly)
        amounts.extend(means)  # "about $172.6k per fund on average"
        # Round 27: what an average can be (an answer that calls a figure an average claims a
        # mean, not any sum or difference that happens to be near it).
        self.means = sorted(means + record_means)
        self.amounts = sorted(amounts)
        self.pcts = sorted(pcts)
        self.shares = sorted(shares)
        self.ratios = sorted(ratios)
        self.gain_shares = sorted(gain_shares)
        self.price_ratios = sorted(price_ratios)
        self.ages = set() if as_of is None else {float(_years_between(d, as_of)[0]) for key, _, d in dates
                                                  if _BIRTH_KEYS.search(key) and d <= as_of}
        # Round 25: a person's age when they joined ("Born March 1960: 51 at onboarding"): whole
        # years from a birth date to a joining date of the same record.
        self.ages_at_joining = {float(_years_between(d, e)[0]) for key, path, d in dates if _BIRTH_KEYS.search(key)
                                for other, p, e in dates if p == path and _JOINING_KEYS.search(other) and d <= e}
        today = [] if as_of is None else [as_of]
        years, months, days = [], [], []
        for i, (_, path, d) in enumerate(dates):
            others = today + [e for _, p, e in dates[i + 1:] if p == path]
            for e in others:
                span = abs((e - d).days)
                years.append(span / 365.25)
                years.append(float(_years_between(min(d, e), max(d, e))[0]))
                months.append(_months_between(d, e))
                days.append(float(span))
        # Days between two entries of one list ("oldest entry 2025-04-18, newest 2025-06-18: 61
        # days apart"): the same date field of sibling records; every pair in a short list, the
        # first and last entries in a long one.
        siblings: dict[tuple[str, tuple[int, ...]], list[dt.date]] = {}
        for key, path, d in dates:
            if path:
                siblings.setdefault((key, path[:-1]), []).append(d)
        for entries in siblings.values():
            if len(entries) > _SIBLING_DATES:
                entries = [min(entries), max(entries)]
            days.extend(float(abs((e - d).days)) for i, d in enumerate(entries) for e in entries[i + 1:])
        self.years, self.months, self.days = sorted(years), sorted(months), sorted(days)

    @staticmethod
    def _collect(observations: Any, fields: list[_Field], dates: list[tuple[str, tuple[int, ...], dt.date]],
                 column_sums: list[tuple[Any, tuple[int, ...], float]],
                 groups: list[tuple[Any, tuple[int, ...], list[float]]], means: list[float],
                 records: list[dict[Any, Any]]) -> None:
        root = _as_container(observations)
        stack: list[tuple[Any, tuple[int, ...]]] = [(root if root is not None else [observations], ())]
        nodes = 0
        while stack and nodes < _DERIVE_NODES and len(fields) < _DERIVE_FIELDS:
            node, parent = stack.pop()
            nodes += 1
            path = parent + (nodes,)
            if type(node) is dict:
                children = []
                for key, value in node.items():
                    number = _as_float(value)
                    if number is not None:
                        fields.append(_Field(key, path, number, node.get("account_id")))
                    elif isinstance(value, str) and isinstance(key, str) and _DATE_KEYS.search(key) \
                            and _ISO_DATE.fullmatch(value):
                        try:
                            dates.append((key, path, dt.date.fromisoformat(value)))
                        except ValueError:
                            continue
                    else:
                        child = _as_container(value)
                        if child is not None:
                            children.append(child)
                stack.extend((c, path) for c in reversed(children))
            elif node is not None:
                if len(node) <= _DERIVE_LIST_ITEMS:
                    items = list(node)
                    _column_sums(items, path, column_sums, groups, means)
                    records.extend(islice((i for i in items if type(i) is dict), _DERIVE_RECORDS - len(records)))
                else:
                    items = [node[0], node[-1]] if node else []
                stack.extend((c, path) for c in (_as_container(i) for i in reversed(items)) if c is not None)
        del fields[_DERIVE_FIELDS:]
        del dates[_DERIVE_FIELDS:]

    def supports_on_topic(self, kind: str, lo: float, hi: float, line: str) -> bool:
        """Figures only a line about their topic can claim: a gain as a percentage of its position's
        value (the line speaks of a gain, a profit or a loss), a price over its cost or start price
        (the line speaks of a cost, a price or a NAV), as a percentage or a ratio."""
        within = _ObservationIndex._within
        if kind == "percent" and within(self.gain_shares, lo, hi) and (
                _GAIN_TOPIC.search(line) or any(round(v, 2) in self.gains for v in _numbers_in(line)[0])):
            return True
        if kind in ("percent", "ratio") and _PRICE_TOPIC.search(line):
            scale = 100.0 if kind == "percent" else 1.0
            return within(self.price_ratios, lo / scale, hi / scale)
        return False

    def supports(self, kind: str, lo: float, hi: float) -> bool:
        within = _ObservationIndex._within
        if kind == "percent":
            return within(self.pcts, lo, hi) or within(self.shares, lo, hi)
        if kind == "change":
            return within(self.pcts, lo, hi)
        if kind == "points":  # percentage points, or points of an index or a score
            return within(self.pcts, lo, hi) or within(self.amounts, lo, hi)
        if kind == "ratio":
            return within(self.ratios, lo, hi)
        if kind == "age":
            return any(lo <= a <= hi for a in self.ages)
        if kind == "mean":
            return within(self.means, lo, hi)
        if kind in ("years", "months", "days"):
            return within(getattr(self, kind), lo, hi)
        return within(self.amounts, lo, hi)


# (field names count: "gain_per_unit", "nav_vs_avg_cost")
_GAIN_TOPIC = re.compile(r"(?<![A-Za-z])(?:gains?|profits?|loss(?:es)?|unreali[sz]ed|paper)(?![A-Za-z])", re.IGNORECASE)
_PRICE_TOPIC = re.compile(r"(?<![A-Za-z])(?:costs?|paid|prices?|priced|NAVs?|bought|purchase|entry)(?![A-Za-z])",
                          re.IGNORECASE)


_MAX_CATEGORIES = 6
_MAX_LABELS = 8  # category fields looked at per record


def _column_sums(items: list[Any], path: tuple[int, ...], column_sums: list[tuple[Any, tuple[int, ...], float]],
                 groups: list[tuple[Any, tuple[int, ...], list[float]]], means: list[float]) -> None:
    """The totals of each amount over a list of records, their means per record, and the
    subtotals per value of a category field (``txn_type``, ``category``) that at least two
    records share."""
    if len(column_sums) >= _DERIVE_COLUMNS:
        return
    sums: dict[Any, float] = {}
    counts: dict[Any, int] = {}
    by: dict[tuple[Any, Any], dict[str, float]] = {}
    for item in items:
        if type(item) is not dict:
            continue
        fields = list(islice(item.items(), _DERIVE_FIELDS))  # (a record of any size is read only so far)
        labels = [(k, v) for k, v in fields if isinstance(v, str) and len(v) <= 24][:_MAX_LABELS]
        for key, value in fields:
            number = _as_float(value)
            if number is None or not _is_money(key):
                continue
            sums[key] = sums.get(key, 0.0) + number
            counts[key] = counts.get(key, 0) + 1
            for label, category in labels:
                cell = by.setdefault((label, key), {})
                cell[category] = cell.get(category, 0.0) + number
    column_sums.extend(islice(((key, path, total) for key, total in sums.items() if math.isfinite(total)),
                              _DERIVE_COLUMNS))
    means.extend(islice((abs(total) / counts[key] for key, total in sums.items()
                         if counts[key] > 1 and math.isfinite(total)), _DERIVE_COLUMNS))
    n = len(items)
    for (_label, key), cells in by.items():
        if 1 < len(cells) <= _MAX_CATEGORIES and len(cells) < n and len(groups) < _DERIVE_COLUMNS:
            groups.append((key, path, [v for v in cells.values() if math.isfinite(v)]))


_DERIVE_RECORDS = 96  # list records read for means over every list


def _record_means(records: list[dict[Any, Any]]) -> tuple[list[float], set[int]]:
    """The mean of each amount over the records of one kind (the same fields) in every list
    read, overall and per value of a category field that at least two records share; and the
    number of records of each kind and of each of its categories (counts an answer divides by)."""
    kinds: dict[frozenset[Any], list[dict[Any, Any]]] = {}
    for record in records:
        fields = frozenset(islice(record, _DERIVE_FIELDS))
        kinds.setdefault(fields, []).append(record)
    means: list[float] = []
    counts: set[int] = set()
    for members in kinds.values():
        counts.add(len(members))
        labels = [k for k, v in islice(members[0].items(), _DERIVE_FIELDS) if isinstance(v, str) and len(v) <= 24]
        for key in islice(members[0], _DERIVE_FIELDS):
            if not _is_money(key):
                continue
            values = [v for v in (_as_float(m.get(key)) for m in members) if v is not None and math.isfinite(v)]
            if len(values) > 1:
                means.append(abs(sum(values)) / len(values))
            for label in labels[:_MAX_LABELS]:
                cells: dict[str, list[float]] = {}
                for m in members:
                    value, category = _as_float(m.get(key)), m.get(label)
                    if value is not None and math.isfinite(value) and isinstance(category, str):
                        cells.setdefault(category, []).append(value)
                if 1 < len(cells) <= _MAX_CATEGORIES:
                    for cell in cells.values():
                        counts.add(len(cell))
                        if len(cell) > 1:
                            means.append(abs(sum(cell)) / len(cell))
    return means, counts


_UNITS_KEY = re.compile(r"(?:^|_)(?:units|quantity|qty)$", re.IGNORECASE)
_CHANGE_KEY = re.compile(r"change_?(?:pct|percent)|pct_?change|percent_?change", re.IGNORECASE)
_LABEL_KEY = re.compile(r"(?:^|_)(?:code|symbol|ticker)$", re.IGNORECASE)


def _net_units(records: list[dict[Any, Any]]) -> list[float]:
    """The units of each fund (a record's code, symbol or ticker) over the records that name
    it: every pair netted and added ("bought 142.318, sold 28.904: a net 113.4 units")."""
    by_label: dict[str, list[float]] = {}
    for record in records:
        label = next((v for k, v in islice(record.items(), _DERIVE_FIELDS)
                      if isinstance(k, str) and isinstance(v, str) and _LABEL_KEY.search(k)), None)
        if label is None:
            continue
        for key, value in islice(record.items(), _DERIVE_FIELDS):
            number = _as_float(value) if isinstance(key, str) and _UNITS_KEY.search(key) else None
            if number is not None and math.isfinite(number):
                by_label.setdefault(label, []).append(number)
    out: list[float] = []
    for values in by_label.values():
        values = values[:_SIBLING_DATES]
        for i, a in enumerate(values):
            out.extend(v for b in values[i + 1:] for v in (abs(a - b), abs(a + b)))
    return out


def _cash_and_total(a: _Field, b: _Field) -> bool:
    """A cash field and a total of one record, or of one account."""
    return ((_is_cash(a.key) and _is_total(b.key)) or (_is_total(a.key) and _is_cash(b.key))) and (
        a.path == b.path or (a.account is not None and a.account == b.account))


def _is_weight(key: Any) -> bool:
    return isinstance(key, str) and ("weight" in key or "share" in key or "alloc" in key)


def _is_base_price(key: Any) -> bool:
    return isinstance(key, str) and any(w in key for w in ("cost", "start", "open", "prev", "begin", "first"))


def _is_whole(key: Any) -> bool:
    """An amount a share can be taken of: a total, a value or a balance (not a gain)."""
    return isinstance(key, str) and ("total" in key or "value" in key or "balance" in key or "invested" in key)


def _is_money(key: Any) -> bool:
    return isinstance(key, str) and _MONEY_KEY.search(key) is not None and not _percent_key(key)


_MONEY_KEY = re.compile(r"cash|value|amount|balance|gain|invested|total|paid|proceeds|cost_basis", re.IGNORECASE)


def _is_cash(key: Any) -> bool:
    return isinstance(key, str) and "cash" in key


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
    """The total value of holdings or of a portfolio (not of a list of transactions)."""
    return isinstance(key, str) and key.startswith("total") and "value" in key


# Words before a figure that widen what it claims: "about 86%", "more than 11 years".
_APPROX = r"about|around|roughly|approximately|approx\.?|nearly|almost|close\s+to|some|circa|~|in\s+the\s+region\s+of"
_ABOVE = r"more\s+than|over|above|at\s+least|upwards\s+of|in\s+excess\s+of|north\s+of|exceeding|just\s+over"
_BELOW = r"less\s+than|under|below|at\s+most|up\s+to|fewer\s+than|just\s+under|not\s+quite|shy\s+of"
_QUALIFIER = re.compile(r"(?:^|\W)(?P<q>" + _APPROX + "|" + _ABOVE + "|" + _BELOW
                        + r")\s*(?:a\s+)?(?:bit\s+)?[$\u20ac\u00a3]?\s*$", re.IGNORECASE)
_APPROX_AFTER = re.compile(r"(?:\s+or\s+so|-ish|\s*odd)\b", re.IGNORECASE)
_ABOVE_WORD, _BELOW_WORD = re.compile(_ABOVE), re.compile(_BELOW)
_NEAR_ONLY = ("nearly", "almost", "not quite", "shy of", "just under")


_ABOUT_SLACK = (0.025, 0.025, 0.025, 0.01, 0.005, 0.002)  # by significant digits written
# "over" after spreading, splitting or averaging means across: "spread over 5 positions".
_SPREAD_BEFORE = re.compile(r"\b(?:spread|spreads|spreading|split|splits|splitting|divided|divides|dividing|shared|"
                            r"allocated|diversified|averaged|averages|averaging)\b(?:\s+[\w$\u20ac\u00a3',.]+){0,5}?\s*$",
                            re.IGNORECASE)

_SUM_BEFORE = re.compile(r"\b(?:adds?|added|adding|tots?|totted|totting|sums?|summed|summing)\s*$", re.IGNORECASE)


def _interval(text: str, fig: _Figure) -> tuple[float, float]:
    """The values ``fig`` claims: its rounding (half a unit in its last written place), one
    unit or 2.5% either side after "about", up to 1.25 times after "more than" (1.1 after
    "just over"), down to 0.8 times after "less than" (0.95 after "nearly", 0.9 after "just under")."""
    # A value exactly at a half rounds either way ("-$6,934.94" and "-$6,934.95" for -6,934.945),
    # whatever float noise the value it is checked against carries.
    v, half = fig.value, fig.tolerance * (1 + 1e-9)
    before = _QUALIFIER.search(text, max(0, fig.start - 24), fig.start)
    word = " ".join(before.group("q").lower().split()) if before else ""
    if word == "over" and before is not None and _SPREAD_BEFORE.search(text, max(0, before.start("q") - 60),
                                                                        before.start("q")):
        word = ""  # "spread over 96 stocks": across, not more than
    if word == "up to" and before is not None and _SUM_BEFORE.search(text, max(0, before.start("q") - 12),
                                                                      before.start("q")):
        word = ""  # "the deposits add up to $160,911.47": a sum, not at most
    if not word and _APPROX_AFTER.match(text, fig.end):
        word = "about"
    if not word:
        return v - half, v + half
    if word in _NEAR_ONLY:
        return v * (0.9 if word == "just under" else 0.95) - half, v + half
    if _ABOVE_WORD.fullmatch(word):
        return v - half, v * (1.1 if word == "just over" else 1.25) + half
    if _BELOW_WORD.fullmatch(word):
        return v * 0.8 - half, v + half
    # "about 86%": 2.5% either side; "about $105,000", "about 31.2%": 1%; "about $219,400":
    # 0.5%. The more significant digits a figure is written with, the more precision it
    # claims ("roughly $457,211" claims that precision): the qualifier covers sloppy
    # rounding or truncation, not a wide band in which some derived figure lies.
    digits = fig.text.replace(",", "").replace(".", "")
    significant = len("".join(ch for ch in digits if ch.isdigit()).strip("0"))
    slack = max(2 * half, _ABOUT_SLACK[min(significant, 5)] * v)
    return v - slack, v + slack


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


_KIND_AFTER = re.compile(
    r"\s?(?:(?P<ratio>x\b|\u00d7|times\b|-?fold\b)|(?P<points>points?|pts)\b|"
    r"[- ]?(?:(?:full|whole|complete|straight|calendar)\s+)?(?:(?P<age>(?:years?|yrs?)[- ]old)|(?P<years>years?|yrs?)|"
    r"(?P<months>months?)|(?P<days>(?:calendar[- ]|business[- ]|trading[- ])?days?))\b)", re.IGNORECASE)
_AGE_BEFORE = re.compile(r"\b(?:aged|age|age\s+of|turns|turned|turning|turn)\s+$", re.IGNORECASE)
# "Fatima (now 37)", "she, now 57,"
_WHO_NOW_BEFORE = re.compile(r"(?<![\w'\u2019])([A-Za-z]+)\s*[(,]\s*(?:now|aged|age)\s+$")
_WHO_IS_BEFORE = re.compile(r"(?<![\w'\u2019])([A-Za-z]+)(?:\s+(?:is|was|has\s+been|is\s+now)|['\u2019](?:s|re))\s+$")
# A percentage "of" something is a share or a weight; one next to a move or a comparison is
# a change (grounded by observed returns and changes, never by a share).
_SHARE_AFTER = re.compile(r"\s*(?:of|in)\b", re.IGNORECASE)
# ("make up 76.9%" is a share: "up" there is no move)
_CHANGE_WORDS = (r"(?<!make\s)(?<!makes\s)(?<!made\s)(?<!making\s)up|down|rose|risen|rise|fell|fallen|fall|gain(?:ed|s)?|los(?:t|s|ing)|drop(?:ped|s)?|climb(?:ed|s)?|"
                 r"declin(?:ed|e|es)|increas(?:ed|e|es)|decreas(?:ed|e|es)|return(?:ed|s)?|grew|grown|growth|above|"
                 r"below|higher|lower|ahead|behind|outperform\w*|underperform\w*|beat|trail\w*|lag\w*|jump\w*|"
                 r"slid|slump\w*|surg\w*|moved|change[ds]?")
_CHANGE_BEFORE = re.compile(r"\b(?:" + _CHANGE_WORDS + r")\b(?:\s+\w+){0,3}\s+(?:by\s+|of\s+|about\s+|around\s+|"
                            r"roughly\s+|nearly\s+|almost\s+|some\s+|over\s+|~)?[$]?$", re.IGNORECASE)
_CHANGE_AFTER = re.compile(r"\s*(?:(?:" + _CHANGE_WORDS + r"|more|less)\b)", re.IGNORECASE)
# A figure per unit of money ("$0.30 of cash per invested dollar", "$3.34 in funds for every $1 of
# cash", "3.3 to 1") is a ratio of two amounts.
_PER_UNIT_AFTER = re.compile(
    r"\s*(?:[\w-]+\s+){0,3}?(?:per|for\s+(?:every|each)|to\s+(?:every|each))\s+(?:[\w-]+\s+)?"
    r"(?:dollar|pound|euro|[$\u20ac\u00a3]\s?1(?![\d,.]*\d))\b|\s*(?:to|:)\s*1\b(?![.,]?\d)", re.IGNORECASE)
_PER_UNIT_BEFORE = re.compile(r"\b(?:per|for\s+(?:every|each))\s+(?:[\w-]+\s+){0,2}?(?:dollar|pound|euro)\b[^.;!?\n]*$",
                              re.IGNORECASE)
_PERSON_WORDS = frozenset({"he", "she", "they", "client", "He", "She", "They"})
_CLAUSE_END = re.compile(r"\s*(?:[.;!?,()\n\u2014\u2013]|$|(?:and|but|with|so|this|next|since|now|today|as|at|in|on)\b)")


# Round 23. A figure in a markdown table whose column's header names a unit of time ("| Days to
# 2025-06-30 |", "| Days open |", "| Months since review |"): a duration, as if the unit followed it.
_TIME_COLUMN = re.compile(r"\s*\**(?:(?P<days>(?:calendar\s+|business\s+)?days)|(?P<months>months))\b", re.IGNORECASE)
_MAX_TABLE_LINES = 64  # table lines walked up to find a header


def _column_unit(text: str, at: int) -> str | None:
    """``days`` or ``months`` when ``text[at]`` sits in a markdown table cell whose column header
    opens with that unit, else None."""
    line_start = text.rfind("\n", 0, at) + 1
    line = text[line_start:at]
    if not line.lstrip().startswith("|"):
        return None
    column = line.count("|")
    header = None
    start = line_start
    for _ in range(_MAX_TABLE_LINES):
        if start == 0:
            break
        prev_start = text.rfind("\n", 0, start - 1) + 1
        prev = text[prev_start:start - 1]
        if not prev.lstrip().startswith("|"):
            break
        header, start = prev, prev_start
    if header is None:
        return None
    cells = header.split("|")
    if column >= len(cells):
        return None
    m = _TIME_COLUMN.match(cells[column])
    return m.lastgroup if m is not None else None


def _figure_kind(text: str, fig: _Figure, names: frozenset[str]) -> str:
    """What the figure measures, read from its neighbours: ``percent``, ``ratio`` ("7.8
    times"), ``age`` ("aged 55", "55 years old", "Bradley is 31."), ``years`` / ``months`` /
    ``days`` (durations), else ``plain`` (amounts, prices, counts). ``names``: the words of
    observed people's names, which can be the subject of an age ("Bradley is 31")."""
    if fig.percent:
        mark = _PERCENT_AFTER.match(text, fig.end)
        rest = text[mark.end() if mark else fig.end:fig.end + 40]
        if _SHARE_AFTER.match(rest):
            return "percent"
        before = _last_clause(text[max(0, fig.start - 48):fig.start])
        if _CHANGE_BEFORE.search(before) or _CHANGE_AFTER.match(rest):
            return "change"
        return "percent"
    after = _KIND_AFTER.match(text, fig.end)
    if after is not None:
        return after.lastgroup or "plain"
    column = _column_unit(text, fig.start)
    if column is not None:
        return column
    if _PER_UNIT_AFTER.match(text, fig.end) or _PER_UNIT_BEFORE.search(text, max(0, fig.start - 60), fig.start):
        return "ratio"
    if fig.is_count:
        before = text[max(0, fig.start - 24):fig.start]
        if _AGE_BEFORE.search(before):
            return "age"
        who = _WHO_IS_BEFORE.search(before)
        if who is not None and (who.group(1) in _PERSON_WORDS or who.group(1) in names) \
                and _CLAUSE_END.match(text, fig.end):
            return "age"
        who = _WHO_NOW_BEFORE.search(before)
        if who is not None and (who.group(1) in _PERSON_WORDS or who.group(1) in names):
            return "age"
    return "plain"


_MAX_PRODUCT_TERMS = 32


def _products(figures: list[_Figure]) -> list[float]:
    """Rates of other figures of the response ("0.39% a year, i.e. about $39 per $10,000
    invested"): each of the first 32 percentages (but 100%, which is its base, so a figure would
    ground itself) times each of the first 32 other figures, sorted."""
    rates = [f.value for f in figures if f.percent and f.value != 100][:_MAX_PRODUCT_TERMS]
    bases = [f.value for f in figures if not f.percent][:_MAX_PRODUCT_TERMS]
    return sorted(rate / 100 * base for rate in rates for base in bases)


def _fabricated_figures(text: str, figures: list[_Figure], index: _ObservationIndex,
                        worked: set[str] | None = None) -> list[Violation]:
    """One violation per distinct figure text that no observation supports, in order.
    ``worked``, when given, receives the text of each figure grounded as arithmetic the
    response works out itself (``_shown_arithmetic``).

    ``_in_non_figure_span`` reads only ``text[lo - 1:hi]`` around a figure (``finditer``
    with ``pos``/``endpos``; ``\\b`` looks one character back), so its answers are cached by
    that neighbourhood; at most ``_MAX_SPAN_SCANS`` new neighbourhoods are scanned, and an
    unsupported figure past that is looked up among derived figures without the scan. A
    figure in a non-figure span (a date's day) is not looked up among derived ones at all:
    the scan is cheaper than building ``_Derived``.
    """
    unsupported: list[tuple[_Figure, str, float, float]] = []
    grounded: list[tuple[_Figure, str]] = []  # figures backed by observations, with their kind
    small_counts: list[_Figure] = []  # bare integers 0..12 (counts an amount may be divided by)
    reported: set[str] = set()
    supported: dict[tuple[float, float, str, float, bool], bool] = {}
    spans: dict[tuple[str, int, int], bool] = {}
    scans = 0
    names: frozenset[str] | None = None
    products: list[float] | None = None
    for fig in figures:
        if fig.text in reported:
            continue  # the report keeps one violation per evidence
        if names is None:
            names = index.name_words()
        kind = _figure_kind(text, fig, names)
        if fig.trivially_supported and kind not in ("years", "age"):
            small_counts.append(fig)
            continue  # a small count or ordinal; not a tenure or an age ("open for 11 years")
        if kind == "plain" and fig.is_count and any(g.text == fig.text and k in ("plain", "age") for g, k in grounded):
            grounded.append((fig, kind))
            continue  # a bare number that repeats one grounded before it ("so 60 ... Bottom line: 60.")
        lo, hi = _interval(text, fig)
        key = (lo, hi, kind, fig.scale, fig.is_count)
        ok = supported.get(key)
        if ok is None:
            ok = supported[key] = index.supports(fig, kind, lo, hi)
        if ok:
            grounded.append((fig, kind))
            continue
        start = max(0, fig.start - _NON_FIGURE_REACH)
        around = (text[max(0, start - 1):fig.end + _NON_FIGURE_REACH], fig.start - start + (start > 0),
                  fig.end - fig.start)
        in_span = spans.get(around)
        if in_span is None and scans < _MAX_SPAN_SCANS:
            scans += 1
            in_span = spans[around] = _in_non_figure_span(text, fig)
        if in_span:
            continue  # part of a date, a name, a window: no figure (and no derivation to look for)
        if _in_observed_phone_number(text, fig, index):
            continue  # an observed phone number written another way: an identifier, not figures
        if kind in ("plain", "years") and _unreturned_year(text, fig):
            continue  # the year a failed request asked for ("the request for EQ114's 2020 figures failed")
        looked_up = "mean" if kind == "plain" and _AVERAGE_BEFORE.search(
            _last_clause(text[max(0, fig.start - 100):fig.start])) else kind
        derived = supported.get((lo, hi, looked_up, -1.0, False))
        if derived is None:
            derived = supported[(lo, hi, looked_up, -1.0, False)] = index.derives(looked_up, lo, hi)
        if not derived and kind in ("percent", "ratio"):
            derived = index.derives_on_topic(kind, lo, hi, _line_around(text, fig))
        if not derived and kind == "plain" and fig.is_count and _AGE_LINE.search(_line_around(text, fig)):
            # "56 (birth date 1968-11-03)", "Short answer: 56. Her profile gives a date of birth
            # of ...", "Age: 63.", "63 today plus an 8-year horizon": a bare number on a line
            # that names the birth date, an age or a horizon is an age.
            line = _line_around(text, fig)
            derived = any(lo <= age <= hi for age in index.ages())
            if not derived and _HORIZON_END.search(line):
                # Round 24: "In short: 71 once the horizon is over.", "**Age at horizon end:** 71":
                # on a line about a horizon's end, an age plus an observed horizon.
                derived = any(lo <= age <= hi for age in index.ages_at_horizon_end())
                if derived and worked is not None:
                    worked.add(fig.text)  # worked out, as shown arithmetic is
        if not derived and kind == "plain" and fig.is_count and any(
                g.text == fig.text and g.start > fig.end and _AGE_LINE.search(_line_around(text, g)) for g in figures):
            # Round 26: a bare number that an age after it repeats ("Short answer: 63. Longer
            # answer: born on ..., she was 63 as of ..."), as a repeat after a grounded one is.
            derived = any(lo <= age <= hi for age in index.ages())
        if not derived and kind in ("plain", "age") and fig.is_count and _JOINING.search(_line_around(text, fig)) \
                and _AGE_LINE.search(_line_around(text, fig)):
            # Round 25: "Born March 30, 1960: 51 at onboarding", "Onboarded in 2012 at age 51".
            derived = any(lo <= age <= hi for age in index.ages_at_joining())
        if not derived and kind in ("plain", "age") and fig.is_count and _TURNS.search(_line_around(text, fig)):
            # Round 24: "She turns 64 in September", "about to turn 64": the age at the next birthday.
            derived = any(lo <= age + 1 <= hi for age in index.ages())
            if derived and worked is not None:
                worked.add(fig.text)
        if not derived and kind == "plain":
            if products is None:
                products = _products(figures)
            derived = _ObservationIndex._within(products, lo, hi)
        if derived:
            grounded.append((fig, kind))
        else:
            reported.add(fig.text)
            unsupported.append((fig, kind, lo, hi))
    if unsupported:
        illustrated = _illustrated(text, unsupported, figures, index)
        unsupported = [u for u in unsupported if u[0] not in illustrated]
    if unsupported and grounded:
        shown = [u for u in unsupported if _shown_arithmetic(text, *u, grounded, small_counts, index)]
        if worked is not None:
            worked.update(fig.text for fig, *_ in shown)
        unsupported = [u for u in unsupported if u not in shown]
    return [Violation("fabricated_figure", "rules", fig.text) for fig, *_ in unsupported]


# Round 27: a round sum an answer sets up as an example ("a $10,000 holding", "every $25,000
# invested", "on a hypothetical $50,000"): an article, "per", "every", "each", "any", "say" or
# "hypothetical" before it.
_EXAMPLE_BEFORE = re.compile(r"\b(?:an?|per|every|each|any|say|hypothetical|illustrative|notional)\s+"
                             r"(?:(?:hypothetical|illustrative|notional|typical)\s+)?[$\u20ac\u00a3]?\s?$", re.IGNORECASE)
_MAX_RATES = 64


def _round_sum(value: float) -> bool:
    """100 or more, and one, two, two and a half or five times a power of ten."""
    if value < 100 or not math.isfinite(value):
        return False
    mantissa = value / 10 ** math.floor(math.log10(value))
    return any(abs(mantissa - m) < 1e-9 for m in (1.0, 2.0, 2.5, 5.0))


def _illustrated(text: str, unsupported: list[tuple[_Figure, str, float, float]], figures: list[_Figure],
                 index: _ObservationIndex) -> set[_Figure]:
    """The unsupported figures that work out a rate on an example sum of their own sentence
    ("At 0.39%, a $10,000 holding costs about $39 a year"; "on a $100,000 position, about $90
    against $970 for EQ003"), with the example sum itself: a round sum the sentence sets up as
    an example (``_EXAMPLE_BEFORE``) times a percentage of the sentence or an observed one
    (a percent-like field). The example grounds itself only where a figure of its sentence
    is such a product; a figure of another sentence is not."""
    bases = [f for f in figures if not f.percent and _round_sum(f.value)
             and _EXAMPLE_BEFORE.search(text, max(0, f.start - 40), f.start)]
    if not bases:
        return set()
    found: set[_Figure] = set()
    observed = index.percents[:_MAX_RATES]
    for base in bases:
        start = 0
        for m in _SENTENCE_END.finditer(text, max(0, base.start - 400), base.start):
            start = m.end()
        end_match = _SENTENCE_END.search(text, base.end)
        end = end_match.start() if end_match else len(text)
        rates = [f.value for f in figures if f.percent and start <= f.start and f.end <= end and f.value != 100]
        products = sorted(abs(r) / 100 * base.value for r in rates + observed if r)
        kinds = {fig: kind for fig, kind, _lo, _hi in unsupported}
        hits = {fig for fig in figures
                if fig is not base and not fig.percent and kinds.get(fig, "plain") == "plain"
                and start <= fig.start and fig.end <= end and _ObservationIndex._within(products, *_interval(text, fig))}
        if hits:
            found |= hits | {base}
    return found


# Round 27: a figure called an average ("Average monthly volume is around $22,500", "a mean
# of", "on average", "averaging", "per month on average"): a mean, among derived figures.
_AVERAGE_BEFORE = re.compile(r"\b(?:average\w*|mean|typical(?:ly)?)\b", re.IGNORECASE)


_AGE_LINE = re.compile(r"\b(?:born|birth(?:_date)?|birthday|DOB|date\s+of\s+birth|age|aged|years?\s+old|horizon)\b",
                       re.IGNORECASE)
_LINE_REACH = 160
_HORIZON_END = re.compile(r"\bhorizon\b[^\n]{0,40}?\b(?:ends?|over|out|up|done|finish\w*|closes?|expires?|runs?\s+out)\b|"
                          r"\b(?:end|close|finish|expiry)\s+of\s+(?:\w+\s+){0,3}?horizon\b|\bhorizon[- ]end\b", re.IGNORECASE)
_JOINING = re.compile(r"\b(?:onboard\w*|joined|joining|joins?|became\s+a\s+client|signed\s+up|start\s+of\s+the\s+relationship)\b",
                      re.IGNORECASE)
_TURNS = re.compile(r"\b(?:turns|turning|turn)\s+[0-9]{2}\b", re.IGNORECASE)


# Round 28: a sentence that reports a request failing ("The performance tool timed out when I
# asked it for 2023", "I couldn't retrieve the 2022 NAV history"): a bare year
# there names what was asked for and not returned; it claims nothing about that year.
_FAILED_REQUEST = re.compile(
    r"\b(?:(?:couldn" + _APOS + r"t|could\s+not|can" + _APOS + r"?t|cannot|unable\s+to|wasn" + _APOS
    + r"t\s+able\s+to|was\s+not\s+able\s+to|failed\s+to|didn" + _APOS + r"t|did\s+not|never)\s+"
    r"(?:\w+\s+)?(?:retrieve|fetch|load|pull|get|obtain|access|return|respond|come\s+back|go\s+through|reach|"
    r"find|include)\w*|timed?\s*out|time-?out|no\s+response|returned\s+(?:an?\s+)?(?:error|nothing|no\s+data)|"
    r"came\s+back\s+(?:empty|with\s+(?:an?\s+)?error)|errored|failed|(?:didn" + _APOS + r"t|did\s+not)\s+work|(?:is|was|were|are)\s+(?:currently\s+)?unavailable)\b",
    re.IGNORECASE)
_SENTENCE_EDGE = re.compile(r"[.!?](?=\s|$)|\n")
_SENTENCE_REACH = 240


def _unreturned_year(text: str, fig: _Figure) -> bool:
    """Whether ``fig`` is a bare year in a sentence that reports a request failing."""
    if not (fig.is_count and 1900 <= fig.value <= 2100):
        return False
    lo = max(0, fig.start - _SENTENCE_REACH)
    start = lo
    for m in _SENTENCE_EDGE.finditer(text, lo, fig.start):
        start = m.end()
    m = _SENTENCE_EDGE.search(text, fig.end, fig.end + _SENTENCE_REACH)
    end = m.start() if m else min(len(text), fig.end + _SENTENCE_REACH)
    return _FAILED_REQUEST.search(text, start, end) is not None


def _line_around(text: str, fig: _Figure) -> str:
    """The line ``fig`` is on, at most ``_LINE_REACH`` characters either side of it."""
    lo = max(0, fig.start - _LINE_REACH)
    start = text.rfind("\n", lo, fig.start) + 1 or lo
    end = text.find("\n", fig.end, fig.end + _LINE_REACH)
    return text[max(start, lo):end if end >= 0 else fig.end + _LINE_REACH]


_MAX_OPERANDS = 8  # grounded figures of a sentence used as operands
# A sentence that works out a what-if or shows its arithmetic: "if the $27,609.39 were invested,
# ... would be", "withdrawing ... would leave", "X plus Y comes to", "X + Y = Z".
_WHAT_IF = re.compile(r"\b(?:if|were|would|hypothetical\w*|suppos\w*|imagine|plus|minus|add\w*|subtract\w*|"
                      r"tak(?:e|es|ing)|leav(?:e|es|ing)|less|net\s+of|combin\w*|together)\b|[+=\u2212]",
                      re.IGNORECASE)
_SENTENCE_END = re.compile(r"[!?\n;]|\.(?![0-9])")


def _shown_arithmetic(text: str, fig: _Figure, kind: str, lo: float, hi: float,
                      grounded: list[tuple[_Figure, str]], small_counts: list[_Figure],
                      index: _ObservationIndex) -> bool:
    """Whether ``fig`` is arithmetic over grounded figures of its own sentence: the sum or the
    difference of two of them ("She's 57 now, so at the end of a 5-year horizon she'd be 62";
    "$52,526.24 invested plus $27,609.39 of cash comes to $80,135.63"), one of them divided by a
    count of the sentence that is a number of observed records (``counts``: "$10,261.80 spread
    over 5 positions is about $2,052.36 each", where 5 positions are observed), an observed person's
    age plus or minus a duration of the sentence or its line ("At the end of her 5-year horizon
    she would be 62"), or, in a what-if
    (``_WHAT_IF``) and written to the cent or unit with at least four significant digits, an
    observed amount plus or minus one of them ("Were she to withdraw the $4,120.50, her total
    would drop to $80,135.63"). Percentages only from percentages, other figures only from
    other figures. An operand that is itself invented grounds nothing (it is reported)."""
    start = 0
    for m in _SENTENCE_END.finditer(text, max(0, fig.start - 400), fig.start):
        start = m.end()
    end_match = _SENTENCE_END.search(text, fig.end)
    end = end_match.start() if end_match else len(text)
    percent = kind in ("percent", "change", "points")
    operands = [g.value for g, k in grounded
                if start <= g.start and g.end <= end and (k in ("percent", "change", "points")) == percent][
               :_MAX_OPERANDS]
    for i, a in enumerate(operands):
        for b in operands[i + 1:]:
            if lo <= a + b <= hi or lo <= abs(a - b) <= hi:
                return True
    if not percent and kind == "plain" and operands:
        counts = [n.value for n in small_counts + [g for g, k in grounded if g.is_count]
                  if start <= n.start and n.end <= end and n.value > 1]
        observed = index.counts() if counts else set()
        if any(lo <= a / n <= hi for n in counts if n in observed for a in operands):
            return True
    if fig.is_count and kind in ("plain", "age"):
        # an age plus a duration may be stated on its line before the sum is worked out
        # ("Answer first: 71. Context: 63 now plus an 8-year horizon.")
        line_start = text.rfind("\n", 0, fig.start) + 1
        line_end = text.find("\n", fig.end) % (len(text) + 1)
        durations = [g.value for g, k in grounded if line_start <= g.start and g.end <= line_end and k == "years"]
        if durations and any(lo <= age + d <= hi or lo <= age - d <= hi for age in index.ages() for d in durations):
            return True
    if percent or not operands or not _WHAT_IF.search(text, start, end):
        return False
    digits = sum(ch.isdigit() for ch in fig.text.lstrip("0.,"))
    if hi - lo > 2.0001 * fig.tolerance or digits < 4:
        return False  # a rounded or qualified what-if figure: too many observed amounts are near it
    numbers = index.numbers
    return any(_ObservationIndex._within(numbers, lo - a, hi - a) or _ObservationIndex._within(numbers, lo + a, hi + a)
               or _ObservationIndex._within(numbers, a - hi, a - lo) for a in operands)


# A phone number as answers write it: "(617) 555-0138", "617-555-0138", "+1 617 555 0138",
# "6175550138". Its digits, not its punctuation, are the number.
_PHONE_SHAPE = re.compile(r"(?<![\w.+])(?:\+\s?[0-9]{1,3}[\s.-]?)?(?:\([0-9]{2,4}\)\s?|[0-9]{2,4}[\s.-])"
                          r"(?:[0-9]{2,4}[\s.-]){0,2}[0-9]{2,4}(?![\w]|[.-][0-9])|(?<![\w.+])[0-9]{7,15}(?![\w]|[.-][0-9])")
_OBSERVED_PHONE = re.compile(r"\+?[0-9\s().-]{7,24}")
_PHONE_REACH = 20  # the farthest a phone number reaches either side of one of its parts


def _in_observed_phone_number(text: str, fig: _Figure, index: _ObservationIndex) -> bool:
    """Whether ``fig`` is part of a phone-shaped span whose digits are an observed phone
    number's (give or take a country or area code of at most three digits). A phone number
    that matches nothing observed stays a set of figures."""
    for m in _PHONE_SHAPE.finditer(text, max(0, fig.start - _PHONE_REACH), fig.end + _PHONE_REACH):
        if m.start() <= fig.start and fig.end <= m.end():
            digits = re.sub(r"[^0-9]", "", m.group())
            return len(digits) >= 7 and any(
                len(seen) >= 7 and (a.endswith(b) and len(a) - len(b) <= 3)
                for seen in _observed_phone_digits(index._observations)
                for a, b in ((digits, seen), (seen, digits)))
    return False


def _observed_phone_digits(observations: Any) -> set[str]:
    """The digits of every phone-shaped observed string ("617.555.0138", "(404)555-0115"); not
    dates. Reads at most ``_MAX_WALK_NODES`` values, as the index's walk does."""
    found: set[str] = set()
    stack = [observations]
    budget = _MAX_WALK_NODES
    while stack and budget > 0:
        node = _as_container(stack.pop())
        if node is None:
            continue
        values = node.values() if isinstance(node, dict) else node
        for value in islice(values, budget):
            budget -= 1
            if isinstance(value, str):
                if len(value) <= 24 and _OBSERVED_PHONE.fullmatch(value) and not _DATE_IN_STRING.fullmatch(value):
                    found.add(re.sub(r"[^0-9]", "", value))
            elif not isinstance(value, (int, float, bool)) and value is not None:
                stack.append(value)
    return found
