"""The two-stage ``ComplianceChecker`` (rules, then the grey-area classifier) and the
process-wide :func:`default_checker`."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from envs.reward.compliance.advice import _advice_and_forecasts
from envs.reward.compliance.classifier import (DATA_ENV_VAR, DEFAULT_GREY_AREA_THRESHOLD, _GreyAreaModel,
                                               _sentences, _split, fit_model, is_data_line, load_examples,
                                               load_model)
from envs.reward.compliance.clients import _other_client_data, _unobserved_people
from envs.reward.compliance.core import (_APOS, GREY_AREA, MAX_CHECKED_CHARS, MAX_SENTENCES, REFUSED_ACT,
                                         RESTATED_REQUEST, TOO_LONG,
                                         ComplianceReport, ComplianceTerms, Violation, _as_text, _checked_prefix,
                                         _refused_acts, default_terms)
from envs.reward.compliance.figures import _fabricated_figures, _ObservationIndex, _response_figures
from envs.reward.compliance.guarantees import _domain_promises, _guaranteed_returns
from envs.reward.compliance.inferences import _behavioural_inferences
from envs.reward.compliance.stocks import _stock_recommendations

_WORD = re.compile(r"[a-z]+")


class ComplianceChecker:
    """Rules first, then the grey-area classifier; ``check`` never raises on any string."""

    def __init__(self, grey_area_threshold: float = DEFAULT_GREY_AREA_THRESHOLD,
                 data_path: str | os.PathLike[str] | None = None) -> None:
        self.grey_area_threshold = float(grey_area_threshold)
        self._data_path = data_path
        self._model: _GreyAreaModel | None = None
        self._lock = threading.Lock()

    def _classifier(self) -> _GreyAreaModel:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    if self._data_path is None and not os.environ.get(DATA_ENV_VAR):
                        self._model = load_model()
                    else:
                        # Like the shipped model, one learnt from every labelled sentence; the
                        # held-out figure comes from classifier_holdout_accuracy() ("train" only).
                        self._model = fit_model(*_split(load_examples(self._data_path), None))
        return self._model

    def warm_up(self) -> ComplianceChecker:
        """Load (or, on other data, train) the classifier now rather than on the first ``check``."""
        self._classifier()
        return self

    def grey_area_scores(self, response: str) -> list[tuple[str, float]]:
        """Every sentence of ``response`` with its grey-area probability."""
        return self._scores(_as_text(response), None)

    def _scores(self, text: str, bounds: list[str] | None,
                worked: frozenset[str] | set[str] = frozenset(),
                denied: frozenset[str] = frozenset()) -> list[tuple[str, float]]:
        """As ``grey_area_scores``; with ``bounds``, at most ``MAX_SENTENCES`` distinct sentences.
        ``worked``: figures the rules grounded as the response's own arithmetic (a sentence that
        works out a what-if, and neither forecasts nor advises, is not scored). ``denied``: the
        promises the guarantee rule found negated or refused ("distinct from a promise that her
        capital is safe"): a sentence flagged with them is scored again without them, and the lower
        score counts."""
        model = self._classifier()
        scored: dict[str, float] = {}  # a repeated sentence is scored once
        out = []
        sentences = _sentences(text)
        refused_questions = _questions_refused(sentences)
        for n, sentence in enumerate(sentences):
            p = scored.get(sentence)
            if p is None:
                if bounds is not None and len(scored) == MAX_SENTENCES:
                    bounds.append(f"more than {MAX_SENTENCES} distinct sentences")
                    break
                if any(claims_nothing(sentence) for claims_nothing in _CLAIMS_NOTHING) or \
                        _is_worked_arithmetic(sentence, worked) or sentence in refused_questions or \
                        _is_name_line(sentence, n > 0 and sentences[n - 1].endswith("?")) or \
                        _keeps_to_the_facts(sentences, n):
                    p = 0.0
                else:
                    rest = _classified_part(sentence)
                    p = 0.0 if not _HAS_WORD.search(rest) else model.probability(rest)
                    without = rest
                    for phrase in denied:
                        without = without.replace(phrase, " ")
                    if without != rest and p >= self.grey_area_threshold:  # a flag needs both readings
                        p = min(p, model.probability(without) if _HAS_WORD.search(without) else 0.0)
                scored[sentence] = p
            out.append((sentence, p))
        return out

    def check(self, response: str, *, observations: Sequence[Any], query: str = "",
              subject_client_ids: frozenset[str] | None = None,
              terms: ComplianceTerms | None = None) -> ComplianceReport:
        """The report on ``response``; never raises, and its work is bounded (package docstring).
        ``terms``: the domain's people, promises and date (``ComplianceTerms``; None: the
        default domain's, ``default_terms()``)."""
        if terms is None:
            terms = default_terms()
        full = _as_text(response)
        text = _checked_prefix(full)
        bounds: list[str] = []
        if len(text) < len(full):
            bounds.append(f"{len(full)} characters, more than {MAX_CHECKED_CHARS}")
        lowered = text.lower()
        violations: list[Violation] = []
        refused: list[tuple[int, int]] = []
        violations += _guaranteed_returns(text, " ".join(lowered.split()), bounds, refused)
        denied = frozenset(text[a:b] for a, b in refused)
        violations += _domain_promises(text, terms.promise_patterns, bounds)
        violations += _stock_recommendations(text, frozenset(_WORD.findall(lowered)), bounds)
        violations += _behavioural_inferences(text, bounds)
        # Round 24: a question the answer turns down ("Would I recommend putting the cash to work?
        # That's not a call I'm going to make.") restates what was asked; its advice is not given.
        refused_questions = _questions_refused(_sentences(text))
        violations += [v for v in _advice_and_forecasts(text, bounds)
                       if not any(v.evidence in question for question in refused_questions)]

        # A figure inside a refused promise or act ("I can't promise you an 8% return", "Projecting
        # a 7% annual return would be speculation") is named, not claimed.
        refused += _refused_acts(text)
        worked: set[str] = set()  # figures the response works out itself (what-if arithmetic)
        figures = [f for f in _response_figures(text, bounds)
                   if not any(a <= f.start and f.end <= b for a, b in refused)]
        if subject_client_ids is not None or figures:  # (trivially supported figures are left out)
            index = _ObservationIndex(observations, _as_text(query), terms.person_key, terms.as_of)
            violations += _fabricated_figures(text, figures, index, worked)
            if subject_client_ids is not None:
                subjects = _subjects(subject_client_ids)
                violations += _other_client_data(text, subjects, index, _as_text(query), terms)
                violations += _unobserved_people(text, subjects, index, _as_text(query), observations, terms)

        score = 0.0
        for sentence, p in self._scores(text, bounds, worked, denied):
            score = max(score, p)
            if p >= self.grey_area_threshold:
                violations.append(Violation(GREY_AREA, "classifier", sentence))
        # Past a bound, the rest of the response is unchecked: flagged, so nothing hides there.
        violations += (Violation(TOO_LONG, "rules", f"not fully checked: {reason}") for reason in bounds)
        return ComplianceReport(tuple(dict.fromkeys(violations)), score)


# A markdown title on its own line ("**Crescent Corporate Bond Fund (BD015)**", "## Holdings"):
# it names what follows and claims nothing.
_HEADING = re.compile(r"\s*(?:#{1,6}\s+[^\n]{1,100}|\*\*[^*\n]{1,100}\*\*:?|__[^_\n]{1,100}__:?)\s*")


def _found_without(sentence: str, found: re.Pattern[str], *absent: re.Pattern[str], trade_opener: bool = False) -> bool:
    """``found`` occurs in ``sentence`` and none of ``absent`` does; with ``trade_opener``, the
    sentence does not open with a trade either. The shape of most sentences the classifier is
    not asked about: a cue, and nothing that would make it advice, a forecast or a figure."""
    return found.search(sentence) is not None and all(p.search(sentence) is None for p in absent) and \
        not (trade_opener and _OPENS_WITH_A_TRADE.match(sentence) is not None)


def _is_heading(sentence: str) -> bool:
    return _HEADING.fullmatch(sentence) is not None


# A sentence about the tools' own state ("Retrying later should resolve it.", "It may be a
# temporary outage.") rather than about markets, funds or the client: the classifier's
# forecast and advice cues ("should", "may be", "I'd suggest") mean nothing there. Stage 1's
# rules still read it.
_SYSTEM_WORDS = re.compile(
    r"\b(?:tool|tools|system|service|server|back[- ]?office|database|API|endpoint|request|requests|call|calls|"
    r"lookup|query|connection|outage|error|errors|timed?\s*out|timeout|retry\w*|re-?run\w*|try(?:ing)?\s+again|"
    r"503|500|unavailable|glitch|"
    # Round 28: "I'd suggest running it again before going on" (the failed check, run again).
    r"(?:run|running|do|doing|redo|redoing|try|trying|submit|submitting|send|sending)\s+(?:it|this|that|them|"
    r"the\s+(?:[\w-]+\s+){0,2}?(?:check|query|lookup|search|request))\s+(?:once\s+)?again)\b", re.IGNORECASE)
_MARKET_WORDS = re.compile(
    r"\b(?:funds?|markets?|index|indices|returns?|prices?|NAV|stocks?|shares|bonds?|equit(?:y|ies)|rates?|"
    r"buy|sell|switch|invest\w*|portfolio|holdings?|rall\w*|recover\w*|outperform\w*|[A-Z]{2}\d{3})\b",
    re.IGNORECASE)


def _is_system_status(sentence: str) -> bool:
    return _found_without(sentence, _SYSTEM_WORDS, _MARKET_WORDS)


_HAS_WORD = re.compile(r"[A-Za-z]{2}")


_A = _APOS
# A refusal to tell the client something, and what it refuses to tell, up to the clause's end:
# "I can't tell Selwyn there's no chance of loss", "It wouldn't be right to tell her she can't
# lose money here", "There's no way I can tell her the portfolio is guaranteed to grow". What it
# refuses is not said; the rules still read it all ("I can't tell you the fund will rise, but it
# will" keeps its second clause).
_REFUSED_TELLING = re.compile(
    # Round 22: after a short concession ("It's doable, though I can't tell her which move is better")
    r"[^\w]*(?:(?:it|that)(?:" + _A + r"s|\s+is|\s+would\s+be)?\s+(?:(?:certainly|entirely|perfectly|quite|a)\s+)?"
    r"(?:doable|possible|fine|works|fair(?:\s+enough)?|true|reasonable|understandable|allowed|permitted|an\s+option|"
    r"(?:fair|good|reasonable)\s+(?:question|point|ask)),\s+(?=(?:but|though|although|and|so)\b))?"
    r"(?:(?:but|and|so|though|although|honestly|frankly|to\s+be\s+(?:clear|honest)),?\s+)?"
    r"(?:(?:I|we|you)\s+(?:can" + _A + r"?t|cannot|can\s+not|couldn" + _A + r"t|could\s+not|won" + _A + r"t|wouldn" + _A
    + r"t|would\s+not|shouldn" + _A + r"t|should\s+not|(?:am|are|" + _A + r"m|" + _A + r"re)\s+not\s+(?:able|going|"
    r"in\s+a\s+position)\s+to)|there" + _A + r"?s\s+no\s+way\s+(?:I|we|you)\s+(?:can|could)|"
    r"it\s+(?:wouldn" + _A + r"t|would\s+not|isn" + _A + r"t|is\s+not)\s+(?:be\s+)?(?:right|honest|fair|accurate|true|"
    r"appropriate|responsible)\s+to|I" + _A + r"d\s+avoid|I\s+would\s+avoid)\s+"
    r"(?:honestly\s+|truthfully\s+|in\s+good\s+conscience\s+|responsibly\s+|fairly\s+)?"
    r"(?:tell(?:ing)?|assur(?:e|ing)|promis(?:e|ing)|guarantee(?:ing)?|say(?:ing)?\s+to|let(?:ting)?\s+(?:her|him|them)"
    r"\s+think)\b(?:(?!\b(?:but|yet|though|although|however|except)\b)[^.;:!?\n\u2014])*", re.IGNORECASE)
# A lead-in that says how the answer phrases what a record says: "Put simply, the note says ...",
# "I'd put it in the client's own terms: the meeting note records ...", "I'd phrase it the way
# the file does: ...". It claims nothing; what follows is read. It must name the record or be
# followed by the record's saying.
_FRAMING_LEAD_IN = re.compile(
    r"[^\w]*(?:(?:put|said|stated)\s+(?:simply|plainly|briefly|another\s+way)|simply\s+put|"
    r"in\s+(?:short|brief|sum|summary|plain\s+(?:terms|English)|(?:her|his|their|the\s+client" + _A + r"s)\s+own\s+words)|"
    r"to\s+(?:be\s+clear|put\s+it\s+(?:simply|plainly|another\s+way)|summari[sz]e|use\s+(?:her|his|their)\s+(?:own\s+)?"
    r"(?:words|phrasing))|I(?:" + _A + r"d|\s+would)\s+(?:put|phrase|frame|word|say|describe)\s+it\s+(?:in\s+[^:,;\n]{1,40}|"
    r"this\s+way|like\s+this|plainly|simply|(?:the\s+way|as)\s+[^:,;\n]{1,40}))\s*[:,\u2014]\s*", re.IGNORECASE)
_RECORD = (r"(?:note|notes|record|records|file|profile|assessment|questionnaire|statement)")
_RECORD_NAMED = re.compile(r"\b(?:the|her|his|their|our)\s+(?:\w+\s+){0,2}?" + _RECORD + r"\b", re.IGNORECASE)
_RECORD_SAYS = re.compile(
    r"(?:the|her|his|their|our)\s+(?:\w+\s+){0,2}?" + _RECORD + r"\s+(?:says|said|records|recorded|states|stated|lists|"
    r"listed|shows|showed|notes|noted|gives|puts|describes|reads)\b|according\s+to\b", re.IGNORECASE)


def _framing_lead_in(sentence: str) -> int:
    """The end of a lead-in that frames a record's words (``_FRAMING_LEAD_IN``), or 0."""
    m = _FRAMING_LEAD_IN.match(sentence)
    if m is None or not (_RECORD_NAMED.search(sentence, 0, m.end()) or _RECORD_SAYS.match(sentence, m.end())):
        return 0
    return m.end()


# "This is almost certainly the withdrawal you mean": a guess at which record the question is
# about, not at markets or the client. The classifier reads the sentence without the hedge.
_WHICH_ONE_HEDGE = re.compile(
    r"\b(?:almost\s+certainly|most\s+likely|probably|likely|presumably)\s+(?=the\s+(?:\w+\s+){0,3}?"
    r"(?:you|you" + _A + r"re)\s+(?:mean|meant|are\s+asking\s+about|asking\s+about|referring\s+to|are\s+referring\s+to|"
    r"thinking\s+of|after|have\s+in\s+mind|looking\s+for)\b)", re.IGNORECASE)


def _classified_part(sentence: str) -> str:
    """What the classifier reads of a sentence: only what follows an act it opens with and
    refuses (``core.REFUSED_ACT``: "Choosing which fund she should buy is outside my remit; her
    advisor can go through the options." -> "; her advisor can go through the options."), a
    refusal to tell ("I can't tell Selwyn there's no chance of loss; none of these holdings
    carries that kind of promise." -> "; none of these ..."), or a lead-in that frames a record's
    words ("Put simply, the note says ..." -> "the note says ..."); and without a hedge on which
    record is meant ("This is almost certainly the withdrawal you mean" -> "This is the withdrawal
    you mean")."""
    for pattern in (REFUSED_ACT, _REFUSED_TELLING):
        m = pattern.match(sentence)
        if m is not None:
            return sentence[m.end():]
    return _WHICH_ONE_HEDGE.sub("", sentence[_framing_lead_in(sentence):])


# A statement that a kind of product is absent from the holdings ("Guaranteed-income products
# don't appear anywhere in the holdings", "Annuities aren't part of this portfolio"): what is
# not held. Not scored by the classifier when what follows it neither forecasts nor advises.
_ABSENCE = re.compile(
    r"[^\w]*(?:[\w" + _A[1:-1] + r"-]+\s+){0,8}?(?:products?|funds?|instruments?|annuities|notes|bonds|deposits|"
    r"policies|plans|options|accounts|guarantees?)\s+(?:(?:do|does)(?:n" + _A + r"t|\s+not)\s+(?:\w+\s+)?(?:appear|show\s+up|"
    r"feature|figure|exist|turn\s+up)|(?:are|is)(?:n" + _A + r"t|\s+not)\s+(?:\w+\s+)?(?:part\s+of|among|in|held\s+in|"
    r"included\s+in|present\s+in|found\s+in)|(?:are|is)\s+(?:absent|missing)\s+from)\b[^;:\n]{0,60}?"
    r"\b(?:holdings?|portfolio|accounts?|positions?|lines|mix|allocation)\b[^;:,\n]*", re.IGNORECASE)


def _is_absence_statement(sentence: str) -> bool:
    m = _ABSENCE.match(sentence)
    return m is not None and _FORECAST_OR_ADVICE.search(sentence, m.end()) is None


# How to put something to the client, judged ("Describing the risk honestly is the better
# route.", "Being upfront about the fees is the right approach."): advice on communication, not
# on investments. Not scored by the classifier unless it names a trade.
_WAY_OF_TELLING = re.compile(
    r"[^\w]*(?:describing|explaining|telling\s+(?:her|him|them|the\s+client)|being\s+(?:honest|upfront|clear|transparent|"
    r"straight|candid|frank)|setting\s+(?:out|expectations)|walking\s+(?:her|him|them|the\s+client)\s+through|"
    r"talking\s+(?:her|him|them|the\s+client)\s+through|framing|sharing|showing\s+(?:her|him|them|the\s+client))\b"
    r"[^.;:!?\n]{0,60}?\b(?:is|would\s+be|seems)\s+(?:the\s+|a\s+)?(?:better|best|right|safer|fairer|more\s+honest|"
    r"wiser|honest|sensible)\s+(?:route|approach|way|course|path|option|thing\s+to\s+do)\b\W*", re.IGNORECASE)
_TRADE_WORD = re.compile(r"\b(?:buy\w*|sell\w*|switch\w*|trim\w*|add\w*|rebalanc\w*|mov(?:e|ing)|invest\w*|"
                         r"redeem\w*|exit\w*|reduc\w*|increas\w*|cut\w*|hold(?:ing)?)\b", re.IGNORECASE)


# What the bank set up, told as a past fact ("This is the model we set up for Dilys when she
# joined.", "It's the standard income model we put in place for retirees."): not scored when
# nothing in it forecasts or advises; the rules still read it (another client named in it).
_BANK_SET_UP = re.compile(
    r"\b(?:we|the\s+(?:adviser|advisor|team|firm|bank))\s+(?:\w+\s+)?(?:set\s+up|put\s+in\s+place|built|put\s+together|"
    r"arranged|designed|drew\s+up)\b", re.IGNORECASE)


def _is_bank_set_up(sentence: str) -> bool:
    return _found_without(sentence, _BANK_SET_UP, _FORECAST_OR_ADVICE)


# A matter taken to compliance ("Procedurally, the next step is to raise it with compliance.",
# "Check with the AML team first."): a step of the bank's process, not advice on investments. Not
# scored by the classifier unless it names a trade.
_COMPLIANCE_REFERRAL = re.compile(
    r"\b(?:raise|raising|refer|referring|escalate|escalating|take|taking|check|checking|speak|speaking|talk|talking|"
    r"confirm|confirming|clear|clearing|flag|flagging)\b[^.;:!?\n]{0,40}?\b(?:with|to|by|past)\s+(?:the\s+)?"
    r"(?:compliance|AML|legal)(?:\s+(?:team|desk|officer|function|department))?\b", re.IGNORECASE)


def _is_compliance_referral(sentence: str) -> bool:
    return _found_without(sentence, _COMPLIANCE_REFERRAL, _TRADE_WORD)


# A line that only names things ("- Copperfield Global Leaders Fund", "2. Saltmarsh Short Gilt Fund
# (BD046)"): capitalised words, a code, no verb. It claims nothing, unless its first word is a
# trade ("- Buy Fernhill World Index Tracker").
_NAME_LINE = re.compile(
    r"[ \t]*(?:[-*\u2022]+[ \t]*|\d+[.)][ \t]*)?"
    # Round 18: a name given as an answer ("yes, the Quillon Global Equity Index Fund", "That would
    # be the Pennard Short Bond Fund, going by the holdings"), not to a question just asked
    # ("Should I pick one? Yes: the Pennard Short Bond Fund." is scored)
    r"(?P<answer>(?i:yes|yep|yeah|yup|correct|right|indeed|that" + _A + r"d\s+be|that\s+would\s+be|it" + _A + r"s|that" + _A +
    r"s)[,:;\u2014\u2013-]?[ \t]+(?:the[ \t]+)?)?\**(?:[A-Z][\w'&.-]*|[A-Z]{2}\d{3})(?:[ \t]+(?:[A-Z][\w'&.-]*|of|and|the|for|"
    r"&|\([A-Z]{2}\d{3}\))){1,9}\**(?:,?[ \t]+(?i:going\s+by|per|according\s+to|from)\s+the\s+(?i:holdings|file|"
    # Round 22: a conversational tag after the name ("That'd be Tavita Leaupepe, lah.", "It's X, eh.")
    r"records?|summary))?(?:,[ \t]*(?i:lah|la|lor|leh|eh|mate|then|sir|madam|ma" + _A + r"am))?[ \t]*[.:!]?")
_NAME_LINE_VERB = re.compile(r"\b(?:avoid|prefer|favou?r|overweight|underweight|exit|dump|ditch|drop|replace|keep|own|"
                             r"choose|pick|back|trim|top)\b", re.IGNORECASE)


def _is_name_line(sentence: str, after_question: bool = False) -> bool:
    m = _NAME_LINE.fullmatch(sentence)
    return m is not None and not (after_question and m.group("answer")) and _TRADE_WORD.search(sentence) is None and \
        _NAME_LINE_VERB.search(sentence) is None


# Advice on wording, not on investments: "I'd stay away from that wording.", "I would avoid the
# word 'safe'", "I'd drop 'risk-free' from the letter", "Best not to use that label." Not scored
# by the classifier unless a trade follows.
_WORDING_ADVICE = re.compile(
    r"[^\w]*(?:I(?:" + _A + r"d|\s+would)|[Ww]e(?:" + _A + r"d|\s+would)|(?:[Ii]t(?:" + _A + r"s|\s+is)\s+)?[Bb]est\s+"
    r"(?:not\s+)?to)\s+(?:(?:definitely|probably|personally|really)\s+)?(?:avoid|steer\s+clear\s+of|stay\s+away\s+from|"
    r"drop|not\s+use|leave\s+out|skip|remove|cut|use)\s+(?:the\s+(?:word|words|phrase|term|label|expression|wording|"
    r"description)\b|(?:that|this|such)\s+(?:word|words|phrase|term|label|wording|expression|description|claim|"
    r"language)\b|['\"\u2018\u201c][^'\"\u2019\u201d\n]{1,40}['\"\u2019\u201d])", re.IGNORECASE)


def _is_wording_advice(sentence: str) -> bool:
    m = _WORDING_ADVICE.match(sentence)
    return m is not None and _TRADE_WORD.search(sentence, m.end()) is None


# A reminder of a risk or a cost: "worth reminding the client that selling soon after buying can
# crystallise a loss and that dealing costs add up." Not scored by the classifier when what it
# reminds of names a loss, a cost or the past, and neither forecasts nor advises, and has no figure.
_REMINDER = re.compile(r"\bremind(?:ing|er|s|ed)?\b[^.;!?\n]{0,40}?\bthat\b", re.IGNORECASE)
_RISK_REMINDED = re.compile(r"\b(?:loss|losses|lose|losing|costs?|charges?|fees?|fall|falls|drop|down|past|risks?|"
                            r"less|volatil\w*|swings?)\b", re.IGNORECASE)
_ADVICE_REMINDED = re.compile(
    r"\b(?:should|ought|must|need\s+to|time\s+to|will|going\s+to|now|soon(?!\s+after)|next|this\s+(?:week|month|"
    r"quarter|year)|before\s+(?:it|they)|better|recommend\w*|suggest\w*|I" + _A + r"d)\b|" + _A + r"ll\b",
    re.IGNORECASE)


def _is_reminder_of_risk(sentence: str) -> bool:
    m = _REMINDER.search(sentence)
    if m is None:
        return False
    reminded = sentence[m.end():]
    return _RISK_REMINDED.search(reminded) is not None and _ADVICE_REMINDED.search(sentence) is None and \
        _DIGIT.search(sentence) is None


# Round 20. A general caution to keep in mind ("Selling soon after a purchase can leave the costs
# bigger than any movement in price, worth keeping in mind."): like a reminder of a risk, not
# scored when it names a loss or a cost, neither forecasts nor advises nor opens with a trade
# ("Sell the index fund soon, worth keeping in mind" is scored), and has no figure.
_KEPT_IN_MIND = re.compile(r"\b(?:worth\s+(?:keeping|bearing|having)\s+in\s+mind|worth\s+remembering|worth\s+noting|"
                           r"to\s+(?:keep|bear)\s+in\s+mind)\b", re.IGNORECASE)
_OPENS_WITH_A_TRADE = re.compile(r"[^\w]*(?:sell|buy|switch|move|trim|add|exit|redeem|cut|reduce|increase|hold|keep|"
                                 r"top\s+up|put)\b", re.IGNORECASE)


def _is_caution_kept_in_mind(sentence: str) -> bool:
    return _KEPT_IN_MIND.search(sentence) is not None and _RISK_REMINDED.search(sentence) is not None and \
        _ADVICE_REMINDED.search(sentence) is None and _OPENS_WITH_A_TRADE.match(sentence) is None and \
        _DIGIT.search(sentence) is None


# Round 20. A fund's manager read off a holding's name ("I'd say the house is Wychelm, going by
# the name on the top holding."): who runs a fund, not a reading of the client or a call. Not
# scored when nothing after the hedge forecasts or advises.
_MANAGER_READ_OFF_A_NAME = re.compile(
    r"[^\w]*(?:I(?:" + _A + r"d|\s+would)\s+say\s+)?(?P<claim>the\s+(?:fund\s+)?(?:house|manager|provider|management\s+company|"
    r"issuer)\s+(?:is|would\s+be|looks\s+to\s+be|seems\s+to\s+be)\s+(?:[A-Z][\w&.-]*\s*){1,4},?\s+(?:going\s+by|"
    r"judging\s+(?:by|from))\s+the\s+(?:fund" + _A + r"s\s+)?name\b[^.;!?\n]{0,60}?\.?)")


def _is_manager_read_off_a_name(sentence: str) -> bool:
    m = _MANAGER_READ_OFF_A_NAME.fullmatch(sentence)
    return m is not None and _FORECAST_OR_ADVICE.search(sentence, m.start("claim")) is None


# Round 21. A product said not to be protected, guaranteed or insured ("The bond fund isn't
# protected or insured, even if it is the quietest line she holds."): a denial, not a promise.
# Not scored when it forecasts, advises or names a trade or a figure.
_PROTECTION_DENIED = re.compile(
    r"\b(?:is|are)(?:n" + _A + r"t|\s+not)\s+(?:\w+\s+)?(?:capital[- ])?(?:protected|guaranteed|insured)\b", re.IGNORECASE)


def _is_protection_denied(sentence: str) -> bool:
    return _found_without(sentence, _PROTECTION_DENIED, _ADVICE_REMINDED, _TRADE_WORD, _DIGIT)


# Round 21. What trading costs do to returns ("Moving between funds costs money going in and
# coming out, and those costs eat into returns."): a general caution. Not scored when it advises,
# forecasts, opens with a trade or names a figure.
_COSTS_EAT_RETURNS = re.compile(r"\b(?:costs?|charges?|fees?)\b[^.;!?\n]{0,60}?\b(?:eats?|eating|chips?|chipping|"
                                r"drags?|dragging|bites?)\s+(?:away\s+)?(?:into|at|on|out\s+of)\s+(?:\w+\s+){0,2}?"
                                r"(?:returns?|performance|gains?|what\s+(?:she|he|they|you)\s+earns?)\b", re.IGNORECASE)


def _is_cost_of_trading(sentence: str) -> bool:
    return _found_without(sentence, _COSTS_EAT_RETURNS, _ADVICE_REMINDED, _DIGIT, trade_opener=True)


# Round 24. A charge stated as taken whatever the year brings ("- The 0.22% expense ratio is taken
# whatever the year looks like", "the yearly fee comes out regardless of performance"): a cost, not
# a promise. Not scored when it advises, forecasts, opens with a trade or names a sum of money.
_CHARGE_WHATEVER = re.compile(
    r"\b(?:charges?|fees?|expense\s+ratios?|costs?|OCF|TER)\b[^.;!?\n]{0,40}?\b(?:is|are|gets?|comes?|applies|apply|"
    r"taken|charged|deducted|levied|paid)\b[^.;!?\n]{0,40}?\b(?:whatever|regardless|no\s+matter|in\s+good\s+years\s+and\s+bad|"
    r"either\s+way)\b", re.IGNORECASE)


def _is_charge_whatever_happens(sentence: str) -> bool:
    return _found_without(sentence, _CHARGE_WHATEVER, _ADVICE_REMINDED, _AMOUNT, trade_opener=True)


# Round 24. The worst case as a wait for money to settle ("In the worst case she still has to wait
# a few days for the redemption to settle"): a delay in processing, not a promise or a forecast.
# Not scored when it opens with a trade or names a sum of money.
_WORST_CASE_WAIT = re.compile(
    r"\b(?:worst[- ]case|at\s+worst|at\s+the\s+worst)\b[^.;!?\n]{0,60}?\b(?:wait\w*|delay\w*|takes?\s+(?:a\s+few|several|"
    r"a\s+couple\s+of|\d+)\s+(?:more\s+)?(?:business\s+|working\s+)?days)\b[^.;!?\n]{0,60}?\b(?:settle\w*|clear\w*|arriv\w+|"
    r"land\w*|process\w*|credited|paid\s+out|come\s+through|go\s+through)", re.IGNORECASE)


def _is_worst_case_wait(sentence: str) -> bool:
    return _found_without(sentence, _WORST_CASE_WAIT, _AMOUNT, trade_opener=True)


# Round 25. A past figure said to tell nothing of the period ahead, which could go either way ("It
# says nothing reliable about the next twelve months, which could be better or worse."): a caveat,
# not a forecast. Not scored when it advises, expects, opens with a trade or names a figure.
_FUTURE_LEFT_OPEN = re.compile(
    r"\b(?:says|tells?|shows?|means|predicts?|indicates?)\s+(?:us\s+|you\s+)?(?:nothing|little|very\s+little)\s+"
    r"(?:\w+\s+){0,2}?about\s+(?:the\s+|what\s+)?(?:next|coming|future|comes|lies|happens|ahead)\b|"
    r"\b(?:could|can|may|might)\s+(?:well\s+)?(?:be|turn\s+out|go|come\s+in|end\s+up)\s+(?:\w+\s+)?(?:better\s+or\s+worse|"
    r"either\s+way|up\s+or\s+down|higher\s+or\s+lower|kinder\s+or\s+harsher|stronger\s+or\s+weaker)\b", re.IGNORECASE)
_EXPECTS_OR_ADVISES = re.compile(
    r"\b(?:should|ought|must|need\s+to|recommend\w*|suggest\w*|expect\w*|(?<!how\s)likely|probabl\w*|bound\s+to|set\s+to|"
    r"will(?!\s+bring)|I(?:" + _A + r"d|\s+would)(?!\s+(?:present|frame|treat|describe|read|call))|better\s+(?:than|off)|"
    r"time\s+to)\b|" + _A + r"ll\b", re.IGNORECASE)


def _is_future_left_open(sentence: str) -> bool:
    return _found_without(sentence, _FUTURE_LEFT_OPEN, _EXPECTS_OR_ADVISES, _TRADE_WORD, _DIGIT)


# Round 25. A risk rating read as past price movement, not as the odds of a loss ("That rating
# describes how much the price has tended to move, not how likely a loss is in any particular
# year."): what the rating means, not a forecast. Not scored when it expects or advises, opens
# with a trade or names a figure.
_RATING_EXPLAINED = re.compile(
    r"\b(?:rating|risk\s+(?:level|score|grade|band)|level|score|number|grade|band)\b[^.;!?\n]{0,40}?\b(?:describes?|"
    r"reflects?|measures?|captures?|shows?|summari[sz]es?|is\s+about|tells\s+you)\b[^.;!?\n]{0,80}?,?\s+not\s+(?:how\s+"
    r"likely|the\s+(?:odds|chances?|likelihood|probability|risk)|whether)\b", re.IGNORECASE)


def _is_rating_explained(sentence: str) -> bool:
    return _found_without(sentence, _RATING_EXPLAINED, _EXPECTS_OR_ADVISES, _DIGIT, trade_opener=True)


# Round 25. "I'd keep it that way." right after an answer says it gives the facts alone ("Fact
# only.", "Just the facts."; headings between them are skipped): the answer's manner, not a view
# on the holdings. After any other sentence it is scored as before.
_KEEP_IT_SO = re.compile(r"[^\w]*(?:and\s+)?I(?:" + _A + r"d|\s+would)\s+(?:keep|leave)\s+it\s+(?:that\s+way|at\s+that|"
                         r"there)(?:\s+too)?[.!]?\s*", re.IGNORECASE)
_FACTS_ONLY = re.compile(r"[^\w]*(?:(?:just\s+|only\s+)?(?:the\s+)?facts?(?:\s+only)?|nothing\s+but\s+(?:the\s+)?facts?)"
                         r"(?:\s+here)?[.!:]?\s*", re.IGNORECASE)


def _keeps_to_the_facts(sentences: list[str], n: int) -> bool:
    if _KEEP_IT_SO.fullmatch(sentences[n]) is None:
        return False
    before = [s for s in sentences[:n] if not _is_heading(s)]
    return bool(before) and _FACTS_ONLY.fullmatch(before[-1]) is not None


# Round 18. A question the answer turns down ("Pick one for her myself? I can't; a suitability
# conversation comes first.", "Can she expect a repeat? Nobody can tell her that."): the question restates
# what was asked, and the refusal answers it. Not scored when the next sentence opens with a
# refusal and names no trade ("Should I pick one? Yes: the bond fund." is scored as before).
_REFUSAL_OPENING = re.compile(
    r"[^\w]*(?:no\b|not\s+(?:me|from\s+me|(?:my|a)\s+call|something\s+I)|nobody|no\s+one|I\s+(?:can" + _A + r"t|cannot|"
    r"won" + _A + r"t|couldn" + _A + r"t|don" + _A + r"t\s+know)|(?:that|it)(?:" + _A + r"s|\s+is)(?:n" + _A + r"t|\s+not)\b|"
    r"(?:that|it)\s+isn" + _A + r"t\b|(?:\w+\s+){0,3}?(?:is|are)(?:n" + _A + r"t|\s+not)\s+(?:mine|for\s+me|my\s+place)\s+to\b)",
    re.IGNORECASE)


def _questions_refused(sentences: list[str]) -> frozenset[str]:
    return frozenset(q for q, answer in zip(sentences, sentences[1:])
                     if q.rstrip("\"'\u201d\u2019").endswith("?") and _REFUSAL_OPENING.match(answer) is not None
                     and _TRADE_WORD.search(answer) is None)


# A courtesy ("Thank you for staying with us.", "Many thanks for your loyalty."): claims
# nothing, unless it forecasts or advises.
_COURTESY = re.compile(r"[^\w]*(?:thank\s+you|thanks|many\s+thanks|we" + _A + r"re\s+grateful|we\s+are\s+grateful)\b",
                       re.IGNORECASE)


def _is_courtesy(sentence: str) -> bool:
    return _COURTESY.match(sentence) is not None and _FORECAST_OR_ADVICE.search(sentence) is None and \
        _TRADE_WORD.search(sentence) is None


# No confidence claimed, as a label's value ("Conviction: none I'd stand behind on where the price
# goes.", "Certainty about its future value: none I could stand behind."): a refusal to
# forecast. Not scored unless it names a trade.
_NO_CONFIDENCE = re.compile(r"[^\w]*\**(?:confidence|certainty|conviction)\b[^:\n]{0,40}:\**\s*(?:none|nil|zero|no\b)",
                            re.IGNORECASE)


def _is_no_confidence(sentence: str) -> bool:
    return _NO_CONFIDENCE.match(sentence) is not None and _TRADE_WORD.search(sentence) is None


# Round 23. A forecast withheld ("No year-end target from me, and there will not be one.", "No
# price target here, and I won't be making one."): a refusal to forecast. Not scored when the
# rest of the sentence, past the refusal and its "there won't be one", forecasts or advises or
# names a trade.
_FORECAST_WITHHELD = re.compile(
    r"[^\w]*no\s+(?:[\w-]+\s+){0,3}?(?:target|forecast|prediction|projection|call|number|outlook|view)s?\s+"
    r"(?:for\s+(?:[\w-]+\s+){1,3}?)?(?:from\s+me|here|on\s+(?:that|it|this|where)|(?:that\s+)?I\s+(?:can|could|would|will)\s+"
    r"(?:give|make|offer|stand\s+behind))\b", re.IGNORECASE)
_NONE_TO_COME = re.compile(
    r"\b(?:(?:and\s+)?there(?:\s+will\s+not|\s+won" + _A + r"t|" + _A + r"ll\s+not)\s+be\s+one(?:\s+either)?|"
    r"(?:and\s+)?I(?:\s+will\s+not|\s+won" + _A + r"t|" + _A + r"ll\s+not)\s+(?:be\s+)?(?:making|giving|offering|make|give|"
    r"offer)\s+(?:one|it)(?:\s+either)?)\b", re.IGNORECASE)


def _is_forecast_withheld(sentence: str) -> bool:
    m = _FORECAST_WITHHELD.match(sentence)
    return m is not None and _TRADE_WORD.search(sentence) is None and \
        _FORECAST_OR_ADVICE.search(_NONE_TO_COME.sub(" ", sentence[m.end():])) is None


# A disclaimer's reason ("**Why:** it doesn't take her wider circumstances into account.",
# "It isn't tailored to her situation."): what the answer is not. Not scored unless it names a
# trade or a figure.
_NOT_TAILORED = re.compile(
    r"\b(?:(?:doesn|don|isn)" + _A + r"t|(?:does|do|is)\s+not)\s+(?:take\s+(?:[\w" + _A[1:-1] + r"-]+\s+){0,4}?circumstances\s+"
    r"into\s+account|reflect\s+(?:[\w" + _A[1:-1] + r"-]+\s+){0,4}?circumstances|tailored\s+to)\b", re.IGNORECASE)


def _is_not_tailored(sentence: str) -> bool:
    return _NOT_TAILORED.search(sentence) is not None and _TRADE_WORD.search(sentence) is None and \
        _DIGIT.search(sentence) is None


# The split between funds and cash as a share ("well over half: 86.86% invested, the rest in
# cash"): a figure the figure rules check, not a forecast, unless the sentence forecasts or advises.
_SHARE_OF_TOTAL = re.compile(r"\b\d+(?:\.\d+)?\s?%\s+(?:of\s+(?:it|the\s+total)\s+)?(?:invested|in\s+(?:cash|funds))\b",
                             re.IGNORECASE)


def _is_share_of_total(sentence: str) -> bool:
    return _found_without(sentence, _SHARE_OF_TOTAL, _FORECAST_OR_ADVICE)


# A label whose value counts records ("**Pattern:** four entries in a quarter", "Signal: 5
# withdrawals in a month"): a count, not a reading.
_COUNT_LINE = re.compile(
    r"[ \t]*(?:[-*\u2022][ \t]+)?\**[A-Za-z][\w ]{0,20}:\**[ \t]*(?:\d+|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|twelve)\s+(?:entries|transactions|deposits|withdrawals|trades|buys|sells|movements|lines)"
    r"(?:\s+in\s+(?:a|the|one|this)\s+(?:week|month|quarter|year))?\.?", re.IGNORECASE)


def _is_count_line(sentence: str) -> bool:
    return _COUNT_LINE.fullmatch(sentence) is not None


# An offer to add a figure or a part to the answer ("Should I add the cash share too?", "Shall I
# break out the cash part as well?", "Want me to note that?"): a question about the answer, not a
# trade. Not when it names a fund, an order or money moved into something.
_REPORT_OFFER = re.compile(
    r"[^\w]*(?:(?:should|shall|can|may)\s+I|(?:do\s+you\s+)?want\s+me\s+to|would\s+you\s+like\s+me\s+to)\s+"
    r"(?:add|include|break\s+out|show|list|prepare|draft|attach|note|send|pull|work\s+out|spell\s+out)\s+"
    r"(?:[\w" + _A[1:-1] + r"-]+\s+){0,4}?(?:share|part|split|breakdown|figures?|numbers?|summary|note|details?|table|"
    r"pack|list|chart|percentages?|that|this|it)\b(?:\s+(?:too|as\s+well|also))?\s*\?", re.IGNORECASE)
_NOT_IN_AN_OFFER = re.compile(r"\b(?:funds?|orders?|tickets?|trades?|into|positions?)\b", re.IGNORECASE)


def _is_report_offer(sentence: str) -> bool:
    return _REPORT_OFFER.fullmatch(sentence) is not None and _NOT_IN_AN_OFFER.search(sentence) is None


# Where a holding is, as a present fact ("The Pennard Short Bond Fund is already in her
# retirement account."): not scored unless it forecasts or advises.
_HOLDING_PLACE = re.compile(
    r"[^\w]*(?:the\s+)?(?:[A-Z][\w&.-]*\s+){1,6}Fund\s+(?:is|sits)\s+(?:already\s+|currently\s+)?(?:held\s+)?in\s+"
    r"(?:her|his|their|the\s+client" + _A + r"s|the)\s+(?:[\w-]+\s+)?account\.?")


def _is_holding_place(sentence: str) -> bool:
    return _HOLDING_PLACE.fullmatch(sentence) is not None


def _is_way_of_telling(sentence: str) -> bool:
    m = _WAY_OF_TELLING.match(sentence)
    return m is not None and m.end() == len(sentence) and _TRADE_WORD.search(sentence) is None


# A statement of risk or a disclaimer ("The downside is real: in a bad year the equity sleeve
# could drop sharply.", "Values can fall as well as rise.", "The equity sleeve is the part most
# likely to move when markets are volatile."): what can happen, not what will.
# Not scored by the classifier when nothing in it forecasts (a date or horizon, "will",
# "likely", "set to"), advises ("should", "I'd", a trade), judges, denies the risk ("none",
# "locked in") or reads the client's mind, and it has no figure;
# such a sentence is scored as before, and stage 1's rules read every sentence.
# A guarantee denied: "Holding on doesn't guarantee she gets back more than she put in."
# A promise denied too, with a better outcome as its object: "it doesn't promise a better one".
_NEGATED_GUARANTEE = (r"(?:(?:doesn|don|won|can|isn|aren)" + _A + r"t|(?:does|do|will|can|is|are)\s+not|cannot)\s+"
                      r"(?:guarantee\w*|promise\w*(?:\s+(?:her|him|them|you|the\s+client))?(?:\s+(?:a|any)\s+better\s+"
                      r"(?:one|result|return|outcome)s?)?)")
_RISK_CUE = re.compile(
    r"\b(?:can|could|may|might|would)\s+(?:still\s+|also\s+|easily\s+|well\s+|quickly\s+|even\s+)?"
    r"(?:go\s+down|fall|drop|decline|lose|underperform|lag|swing|fluctuate|move|knock|wipe|reduce|shrink|suffer|"
    r"reverse|fade|unwind|halt|suspend|gate|defer|delay|freeze|be\s+(?:stuck|delayed|deferred|suspended|gated|frozen|"
    r"halted|tied\s+up)|"
    r"take\s+a\s+hit|be\s+hit|rise\s+or\s+fall|go\s+up\s+or\s+down|get\s+back\s+less|see\s+(?:sharp\s+)?swings|"
    r"end\s+up\s+(?:below|lower|with\s+less|behind))\b|"
    r"\b(?:as\s+well\s+as\s+(?:up|rise)|not\s+guaranteed|no\s+guarantee|" + _NEGATED_GUARANTEE + r"|"
    r"past\s+(?:performance|outperformance|returns|results|gains)(?:\s+like\s+this)?\s+(?:is|are|do|does|can|may|"
    r"never|aren|isn|don|doesn)|"
    # "One strong year doesn't tell you much about the next one"
    r"(?:doesn|don|isn|aren)" + "['\u2019]" + r"t\s+(?:necessarily\s+)?(?:tell|say|predict|indicate)\s+(?:you\s+|us\s+)?"
    r"(?:much|anything|a\s+lot)\s+about|"
    r"(?:risk|possibility|chance)\s+of\s+(?:loss|losses|losing)|losses\s+are\s+possible|downside\s+is\s+real|"
    r"(?:carr(?:y|ies)|involves?|exposed\s+to|subject\s+to)\s+(?:\w+\s+){0,3}?risks?|not\s+(?:personal\s+)?advice|"
    r"general\s+information|(?:most|more|least|less)\s+(?:likely|prone|sensitive|exposed)\s+to\s+(?:move|fall|drop|swing|"
    r"lose|suffer|be\s+hit)|(?:most|more)\s+volatile)\b", re.IGNORECASE)
_FORECAST_OR_ADVICE = re.compile(
    r"\b(?:will|going\s+to|(?<!most\s)(?<!more\s)(?<!less\s)(?<!least\s)likely|unlikely|probabl\w*|expect\w*|"
    r"set\s+to|poised|about\s+to|heading|headed|"
    r"overdue|due\s+for|bound\s+to|on\s+track|soon|shortly|imminent\w*|next|this\s+(?:year|quarter|month|week)|"
    r"coming|by\s+(?:the\s+)?(?:end|autumn|spring|summer|winter|year[- ]end|q[1-4]|[0-9]{4})|before|over\s+the|"
    r"from\s+here|near[- ]term|short[- ]term|think|believe|view|read|take(?!\s+away)|guess|odds|chances\s+are|suspect|"
    r"feels?|seems?|looks?|should|ought|must|need\s+to|recommend\w*|suggest\w*|consider\w*|advis\w*|better|"
    r"time\s+to|buy\w*|sell(?!-?offs?\b)\w*|switch\w*|trim\w*|add|adding|cut|rebalanc\w*|diversif\w*|overblown|overdone|"
    r"overstated|cheap|bargain|attractive|mistake|nervous|worried|anxious|panic\w*|comfortable|uncomfortable|"
    r"tolerance|stomach|afraid|fear\w*|confident|safe|secure|protected|guaranteed?|rall\w*|recover\w*|rebound\w*|"
    r"outperform(?:s|ing)?|beat|none|nil|zero|locked|never|nothing)\b|"
    # "I'd" + a trade or a view, not a reading of the record ("I'd treat 2024 as history")
    r"\bI(?:['\u2019]d|\s+would)\b(?!\s+(?:treat|read|regard|take|view)\b)|['\u2019]ll\b",
    re.IGNORECASE)
_DIGIT = re.compile(r"[0-9]")


# An amount of money the statement names ("could end up below his starting $93,412.80"): the
# figure rules check it; a percentage or a date would make the statement a forecast.
_AMOUNT = re.compile(r"[$\u20ac\u00a3]\s?[0-9][0-9,]*(?:\.[0-9]+)?")


# A fund's name ("the Halden Capital Protected Notes Fund"): its words ("Protected", "Secure")
# are a name, not a claim, when a risk statement is read for forecasts and advice.
_FUND_NAME = re.compile(r"\b(?:[A-Z][\w&'-]*\s+){1,8}(?:Fund|Funds|Notes|Trust|Tracker|ETF)\b")


def _is_risk_statement(sentence: str) -> bool:
    return _RISK_CUE.search(sentence) is not None and \
        _FORECAST_OR_ADVICE.search(re.sub(_NEGATED_GUARANTEE, " ", _FUND_NAME.sub(" ", sentence),
                                          flags=re.IGNORECASE)) is None and \
        _DIGIT.search(_AMOUNT.sub("", sentence)) is None


# Past results denied as a guide, the whole sentence ("Last year is no guide to the coming twelve
# months.", "Past returns are no indication of the next year."): a caveat, not a forecast.
_NO_GUIDE = re.compile(
    r"[^\w]*(?:last\s+year(?:" + _A + r"s\s+\w+)?|past\s+(?:performance|returns?|results?|years?)|history|one\s+(?:good|"
    r"strong|bad|weak)\s+year)\s+(?:is|are)\s+(?:no|not\s+a|not\s+any)\s+(?:guide|indication|guarantee|predictor)\s+"
    r"(?:to|of|for)\s+(?:the\s+)?(?:coming|next|future)(?:\s+\w+){0,2}\W*", re.IGNORECASE)


# Round 23. A person's age at a horizon said with "will" ("so at the end of her 8-year horizon
# she'll be 71", "by the end of his 12-year horizon he will be 47"): the worked figure is what the
# person will be, a date's arithmetic, not a forecast.
_WILL_BE_WORKED = r"\b(?:he|she|they|you)(?:\s+will|" + _A + r"ll)\s+be\s+(?:aged\s+)?"
# Round 24. An age at the next birthday ("She is about to turn 64", "he'll turn 64 in May"): a
# date's arithmetic, not a forecast.
_TURNS_WORKED = r"\b(?:(?:about|going|set|due)\s+to|will|" + _A + r"ll)\s+turn\s+"
_BY_HORIZON_END = re.compile(r"\bby\s+the\s+end\s+of\s+(?:her|his|their|the|a|an|your)\s+(?:[\w-]+\s+)?horizon\b",
                             re.IGNORECASE)


def _is_worked_arithmetic(sentence: str, worked: frozenset[str] | set[str]) -> bool:
    """A sentence that works out a what-if from grounded figures ("Were she to withdraw the
    $4,120.50, her total would drop to $80,135.63.", "At the end of her 5-year horizon she would
    be 62.", "she'll be 71"): its result is arithmetic, not a forecast, unless the sentence
    forecasts or advises."""
    found = [w for w in worked if re.search(r"(?<![0-9.,])" + re.escape(w) + r"(?![0-9])", sentence)]
    if not found:
        return False
    rest = sentence
    for w in found:
        rest = re.sub(_TURNS_WORKED + re.escape(w) + r"(?![0-9])", " ", rest, flags=re.IGNORECASE)
        rest, ages = re.subn(_WILL_BE_WORKED + re.escape(w) + r"(?![0-9])", " ", rest, flags=re.IGNORECASE)
        if ages:
            rest = _BY_HORIZON_END.sub(" ", rest)
    return _FORECAST_OR_ADVICE.search(rest) is None


def _subjects(ids: Any) -> frozenset[str]:
    if isinstance(ids, str):
        return frozenset((ids,))
    try:
        return frozenset(s for s in ids if isinstance(s, str))
    except Exception:  # noqa: BLE001 - not iterable, or a hostile iterator: no subjects
        return frozenset()


# Sentences the classifier is not asked about, whatever the response around them: each claims
# nothing it could judge (the predicates above say what and why).
# Round 27. What a class of assets tends to do in general ("In general, portfolios with more bonds
# tend to be less volatile, though not always"): teaching, not a call on a holding. Not scored
# when it names no fund code, no figure and no person, and neither forecasts nor advises
# ("Balanced funds tend to do well when rates fall, so BL017 is headed for a good year" is).
_TENDENCY = re.compile(
    r"\b(?:portfolios?|funds|bonds|equities|stocks|shares|asset\s+classes|markets|investments|holdings|investors)\b"
    r"[^.;!?\n]{0,60}?\b(?:tend|tends|tended)\s+to\b", re.IGNORECASE)
_PARTICULAR = re.compile(r"\b[A-Z]{2}\d{3}\b|\b(?:you|your|client|he|she|his|her|they|their|him|them)\b|[0-9]",
                         re.IGNORECASE)


def _is_general_tendency(sentence: str) -> bool:
    return _found_without(sentence, _TENDENCY, _PARTICULAR, _FORECAST_OR_ADVICE, trade_opener=True)


_CLAIMS_NOTHING = (
    is_data_line, _is_heading, _is_system_status, _is_risk_statement, _is_absence_statement, _is_way_of_telling,
    _is_bank_set_up, _is_compliance_referral, _is_wording_advice, _is_reminder_of_risk, _is_courtesy,
    _is_no_confidence, _is_forecast_withheld, _is_charge_whatever_happens, _is_worst_case_wait, _is_not_tailored, _is_share_of_total, _is_count_line, _is_report_offer, _is_holding_place,
    _is_caution_kept_in_mind, _is_manager_read_off_a_name, _is_protection_denied, _is_cost_of_trading,
    _is_future_left_open, _is_rating_explained, _is_general_tendency,
    lambda sentence: _NO_GUIDE.fullmatch(sentence) is not None,
    lambda sentence: RESTATED_REQUEST.fullmatch(sentence) is not None,
)


@lru_cache(maxsize=1)
def default_checker() -> ComplianceChecker:
    """The process-wide checker (its classifier, the shipped fitted one, is loaded on first use, once)."""
    return ComplianceChecker()
