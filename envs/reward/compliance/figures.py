"""Stage 1 rule ``fabricated_figure``: response figures that no observation and not the query
support, and the one walk of the observations that the rules read (``_ObservationIndex``)."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import islice
from typing import Any, NamedTuple

from envs.reward.compliance.core import MAX_NUMBERS, Violation, _as_text, _checked_prefix

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)")
# ASCII digits only; thousands separators and decimals. Whether a match is a figure at all
# (not glued to letters as in C000042 or EQ001, not a version, not part of a date) is decided
# by looking at its neighbours, which is much faster than one big alternation.
_RESPONSE_NUMBER = re.compile(r"[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?")
_PLAIN_NUMBER = re.compile(r"(?<![\w.])(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?(?!\w|\.[0-9])")
_HAS_DIGIT = re.compile(r"[0-9]")
_CURRENCY = "$\u20ac\u00a3"
_PERCENT_AFTER = re.compile(r"\s?(?:%|percent\b|per\s+cent\b|bps\b|basis\s+points?\b)", re.IGNORECASE)
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
        is_count = scale == 1.0 and "." not in number and before not in _CURRENCY
        if is_count:
            # _PERCENT_AFTER.match(text, stop), skipped where it cannot match.
            c = text[stop] if stop < n else ""
            if c in _PERCENT_STARTS or (c.isspace() and text[stop + 1:stop + 2] in _PERCENT_STARTS):
                is_count = percent_match(text, stop) is None
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
                                            is_count)))
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
    ("2025-01-05" gives 2025, 1 and 5, so the years of observed dates are known numbers;
    "C000042" gives nothing), the sum of each numeric field over a list of records (so "a
    combined balance of ..." is supported) and the sum of each list of numbers. List lengths
    are kept apart (they support counts only). Clients: every dict with a ``client_id`` key,
    with its ``full_name`` when present.
    """

    __slots__ = ("numbers", "list_lengths", "clients")

    def __init__(self, observations: Any, query: str) -> None:
        numbers: list[float] = []
        self.list_lengths: set[int] = set()
        self.clients: dict[str, dict[str, None]] = {}  # client id -> its full names, in order seen
        try:
            self._walk(observations if _as_container(observations) is not None else [observations], numbers)
        except Exception:  # a hostile container subclass: keep what was gathered before it
            pass
        if query:
            numbers.extend(_string_numbers(_checked_prefix(query)))
        self.numbers = sorted(numbers)

    def _walk(self, root: Any, numbers: list[float]) -> None:
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
                        found = _cached_numbers_in(value)
                    elif len(value) <= chars:
                        chars -= len(value)
                        found = _numbers_in(value, budget)
                    else:
                        continue  # past the character budget
                    if found:
                        extend(found)
                        budget -= len(found)
                        if budget <= 0:
                            break
                elif kind is float or kind is int:
                    if value == value and -1e300 < value < 1e300:  # not NaN, inf or beyond a float
                        number = float(value)
                        append(abs(number))
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
                            found = _numbers_in(text, budget)
                            extend(found)
                            budget -= len(found)
                        else:
                            f = _as_float(value)
                            if f is not None:
                                append(abs(f))
                    except Exception:
                        continue
        for sums in column_sums:
            numbers.extend(abs(total) for total in sums.values() if math.isfinite(total))

    def supports(self, fig: _Figure) -> bool:
        """Whether an observed fact backs the response figure ``fig``.

        Supported: a bare integer 0..12 (small counts, ordinals); a bare integer equal to the
        length of an observed list; a figure equal to an observed number rounded to the
        figure's decimals (observed 1234.5678 backs "1,234.57", "1,235" and "1234.6");
        for "$1.2M"-style figures, also the mantissa against an observed number (a field
        kept in millions). Signs are ignored ("fell 4.1%" against change_pct -4.1), and so
        are currency signs and percent marks (change_pct 3.21 backs "3.21%").
        """
        if fig.trivially_supported or (fig.is_count and fig.value in self.list_lengths):
            return True
        if self._near(fig.value, fig.tolerance):
            return True
        # "$1.2 million" may also quote a field already in millions (aum_musd: 1.2).
        return fig.scale != 1.0 and self._near(fig.value / fig.scale, fig.tolerance / fig.scale)

    def _near(self, value: float, tolerance: float) -> bool:
        # Observed numbers rounded to the response's precision: |observed - value| <= half a unit.
        if not math.isfinite(value):
            return False
        slack = tolerance * (1 + 1e-9) + 1e-9 * abs(value)
        i = bisect.bisect_left(self.numbers, value - slack)
        return i < len(self.numbers) and self.numbers[i] <= value + slack


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


def _numbers_in(s: str, limit: int | None = None) -> tuple[float, ...]:
    """Standalone numbers in an observed string: "2025-01-05" -> 2025, 1, 5; "C000042" -> none.

    At most ``limit`` of them, when given.
    """
    # Fast paths for what most observed strings are, with the regex's results.
    if s.isalnum():  # one token: an id (C000042), a word (active) or a bare number
        return (float(s),) if s.isascii() and s.isdigit() else ()
    if len(s) == 10 and s[4] == "-" and s[7] == "-" and s.isascii():
        year, month, day = s[:4], s[5:7], s[8:]
        if year.isdigit() and month.isdigit() and day.isdigit():
            return (float(year), float(month), float(day))
    if not _HAS_DIGIT.search(s):
        return ()
    if limit is not None:
        return tuple(float(m.group().replace(",", "")) for m in islice(_PLAIN_NUMBER.finditer(s), max(limit, 0)))
    return tuple(float(tok.replace(",", "")) for tok in _PLAIN_NUMBER.findall(s))


_cached_numbers_in = lru_cache(maxsize=1 << 16)(_numbers_in)  # dates and codes repeat a lot


def _string_numbers(s: str) -> tuple[float, ...]:
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
    supported: dict[tuple[float, float, float, bool], bool] = {}
    spans: dict[tuple[str, int, int], bool] = {}
    scans = 0
    for fig in figures:
        if fig.text in reported:
            continue  # the report keeps one violation per evidence
        key = (fig.value, fig.tolerance, fig.scale, fig.is_count)
        ok = supported.get(key)
        if ok is None:
            ok = supported[key] = index.supports(fig)
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
