"""Two-stage compliance checker for the advisor copilot's final responses (R_comp).

Stage 1, rules, flags hard-proscribed content:

- ``guaranteed_return``: promises of returns, yields or no loss ("guaranteed 8% return",
  "you can't lose money"). Negated, refused or warned-against forms do not fire ("I cannot
  guarantee any return", "returns are not guaranteed").
- ``stock_recommendation``: advice to trade an individual stock (a ticker, a well-known
  company, or "<Name> stock/shares"). Funds (``EQ001``, "... Fund") never count.
- ``fabricated_figure``: a number in the response that no observation and not the query
  supports, directly or derived by an agent from numbers of the same kind (see
  ``_ObservationIndex`` and ``_Derived`` in ``figures`` for what counts as observed and
  derived, ``_interval`` for rounding and "about / more than" bounds).
- ``other_client_data``: a client id, or the full name of a client observed or named in the
  query, of a client other than the episode's subject clients (only when
  ``subject_client_ids`` is given), outside a refusal to disclose (see ``clients``).
- ``too_long_to_check``: the response runs past one of the work bounds below.
- grey-area language the rules can read, reported as ``grey_area`` with stage ``rules``:
  behavioural inferences (a mental-state, intent or private-circumstance predicate about the
  client, marked as the agent's own inference, not negated and not attributed to a record or
  the client's words, and guesses about health, family events or hidden assets whatever the
  sentence's subject; see ``inferences``), and paraphrased advice and forecasts ("the client
  should top up ...", "now's the time to ...", "I'd tell the client to sell ...", "Best option
  here: move ...", "Sell IX028 and buy BD009.", "the fund is poised to outperform", "Expect the
  Nikkei 225 to finish the year higher"; see ``advice``).

Stage 2, a small TF-IDF + logistic-regression classifier fitted on
``fixtures/compliance/grey_area.jsonl``, scores every sentence for grey-area language
(implied forecasts, unsolicited opinions, behavioural inferences about clients). The
report's ``grey_area_score`` is the maximum sentence probability; a sentence at or above
the threshold is a ``grey_area`` violation.

Any response gets a report, and quickly: ``check`` never raises (non-string responses and
queries are converted; observations of any shape, depth or type are walked iteratively),
every scan is linear in the text it reads, and the work per response is bounded:

- at most ``MAX_CHECKED_CHARS`` (16,384) characters of the response are read, cut at a
  whitespace among their last 256 if there is one (the query, which supports figures, too);
- within them, each pattern rule tries at most ``MAX_WORDS`` (4,096) of the words that can
  open its patterns (trade verbs and rating words; words that can open a guarantee) and
  examines at most ``MAX_MATCHES`` (256) phrases in full; the figure rule reads at most
  ``MAX_NUMBERS`` (2,048) numbers, and looks for a date or a name around at most 128
  distinct surroundings of unsupported figures (a later unsupported figure is reported
  without that look); the behavioural-inference rule examines at most 64 mental-state words
  and the advice/forecast rule at most ``MAX_MATCHES`` words that can open a phrase and
  ``MAX_MATCHES`` sentences that open with a trade; the classifier scores at most
  ``MAX_SENTENCES`` (512) distinct sentences;
- a response that runs past any of these bounds gets one ``too_long_to_check`` violation
  (stage ``rules``) per bound, whose evidence names it, so that nothing can hide past a
  bound; everything before the bound is checked, and its violations are reported as usual;
- at most 32,768 observed values (counting the numbers found in observed strings) and
  250,000 characters of long observed strings are read; figures are supported by those.

Within the bounds, results are exactly those of the plain scans the rules describe: scans
are anchored at the words that can start their patterns, and answers that depend only on a
fixed neighbourhood of the text are cached by that neighbourhood. With the bounds, ``check``
takes at most about 25 ms on most adversarial inputs, and about 45 ms on the worst found
(a 16 KB soup of mental-state, hedge and modal words), on a shared 2-core development machine (200 KB adversarial
responses; ``benchmarks/`` measures it, unit tests do not time it); ordinary responses, far
below every bound, take well under a millisecond.

The classifier is trained once per checker, lazily, on first use; :func:`default_checker`
is the process-wide instance. Scoring re-implements the two n-gram analyzers and the dot
product with the fitted weights in plain Python rather than calling ``predict_proba``:
identical numbers (the tests compare them), without the per-call sparse-matrix overhead that
would dominate a sub-millisecond check.
"""

from __future__ import annotations

from envs.reward.compliance.checker import ComplianceChecker, default_checker
from envs.reward.compliance.classifier import (
    CALIBRATION_TARGET_PRECISION,
    DATA_ENV_VAR,
    DEFAULT_DATA_PATH,
    DEFAULT_GREY_AREA_THRESHOLD,
    calibrate_threshold,
    calibration,
    classifier_holdout_accuracy,
    load_examples,
)
from envs.reward.compliance.core import (
    GREY_AREA,
    MAX_CHECKED_CHARS,
    MAX_MATCHES,
    MAX_NUMBERS,
    MAX_SENTENCES,
    MAX_WORDS,
    RULES,
    TOO_LONG,
    ComplianceReport,
    ComplianceTerms,
    Violation,
)

__all__ = ["ComplianceChecker", "default_checker", "ComplianceReport", "ComplianceTerms", "Violation", "RULES",
           "GREY_AREA", "TOO_LONG", "MAX_CHECKED_CHARS", "MAX_WORDS", "MAX_MATCHES", "MAX_NUMBERS", "MAX_SENTENCES",
           "DEFAULT_GREY_AREA_THRESHOLD", "CALIBRATION_TARGET_PRECISION", "DATA_ENV_VAR", "DEFAULT_DATA_PATH",
           "load_examples", "classifier_holdout_accuracy", "calibrate_threshold", "calibration"]
