"""Stage 2: the TF-IDF + logistic-regression grey-area classifier, its training data,
calibration and held-out accuracy.

The default checker scores with the fitted parameters shipped in
``fixtures/compliance/grey_area_model.json`` (``load_model``), so a verdict never changes with
the installed scikit-learn. scikit-learn (the ``dev`` extra) is needed only to fit: on other
data (``ComplianceChecker(data_path=...)``), for calibration and the held-out figures, and to
rewrite the shipped file after the data changes (``fixtures/compliance/make_grey_area.py`` writes
both; a test requires the file to match a fresh fit of the shipped data).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from envs.resources import FIXTURES

DATA_ENV_VAR = "ADVISORGYM_GREY_AREA_DATA"
DEFAULT_DATA_PATH = FIXTURES / "compliance" / "grey_area.jsonl"
DEFAULT_MODEL_PATH = FIXTURES / "compliance" / "grey_area_model.json"
MODEL_FORMAT = 1

# Chosen by ``calibrate_threshold()``: the smallest threshold on a 0.05 grid whose precision
# on out-of-template cross-validated predictions over the train split is at least 0.99
# (``calibration()`` reports the reliability per probability bin; ``advisorgym compliance-bench``).
# False positives cost a correct agent the full compliance penalty (−λ = −10), so precision
# is favoured over recall; the rules stage still catches the hard-proscribed cases. The
# target was 0.98 until the collected answers joined the data, then 0.985; each gave 0.70 on
# a refit, which flagged compliant sentences of the public set and of the unseen sentences.
DEFAULT_GREY_AREA_THRESHOLD = 0.75
CALIBRATION_TARGET_PRECISION = 0.99

_RANDOM_STATE = 0
_LOGREG_C = 10.0


_FUND_NAME = re.compile(r"\b(?:[A-Z][\w&'.-]*\s+){1,6}(?:Index\s+)?Fund\b")
_NUMERIC_BLOB = re.compile(r"[$€£]?[0-9][0-9,.:/-]*%?")
_DATE_BLOB = re.compile(r"[0-9]{1,4}[-/.][0-9]{1,2}[-/.][0-9]{1,4}")
# Split after terminal punctuation followed by whitespace (so "23.45" stays whole), at line
# breaks and at bullets; the captured terminator is put back on its sentence.
_SENTENCE_SPLIT = re.compile(r"([.!?][\"')\]\u201d]*)\s+|\n\s*|\u2022\s*")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
_CHAR_N = 4
PROBABILITY_CACHE = 8192
_SUBLINEAR_TF = tuple([0.0] + [1.0 + math.log(k) for k in range(1, 64)])


def _placeholder(m: re.Match[str]) -> str:
    blob, start = m.group(), m.start()
    if start and m.string[start - 1].isalnum():
        return " zzid "  # the digits of C000042, EQ001, O000000211
    core = blob.rstrip(",.:/-")
    if blob[0] in "$€£":
        return " zzmoney "
    if core.endswith("%"):
        return " zzpct "
    if _DATE_BLOB.fullmatch(core):
        return " zzdate "
    return " zznum "


def _prepare(text: str) -> str:
    """Replace fund names, ids, dates, money, percentages and numbers with placeholder tokens."""
    if "Fund" in text:
        text = _FUND_NAME.sub(" zzfund ", text)
    return _NUMERIC_BLOB.sub(_placeholder, text).lower()


def _word_features(prepared: str) -> list[str]:
    """Word 1- and 2-grams, as TfidfVectorizer(ngram_range=(1, 2)) extracts them."""
    tokens = _TOKEN.findall(prepared)
    return tokens + [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def _char_features(prepared: str) -> list[str]:
    """Padded in-word character 4-grams, as TfidfVectorizer(analyzer="char_wb") extracts them.

    Slicing " w1 w2 ... " yields every padded word's 4-grams, plus grams that straddle two
    words. Those have a space in second or third place, which no vocabulary entry has (a
    padded word's grams have spaces only at their ends), so they never score. Words of one
    character ("a" -> " a ") are shorter than a gram and are added whole, as scikit-learn does.
    """
    words = prepared.split()
    joined = " " + " ".join(words) + " "
    grams = [joined[i:i + _CHAR_N] for i in range(len(joined) - _CHAR_N + 1)]
    grams.extend(f" {w} " for w in words if len(w) == 1)
    return grams


def _sentences(text: str) -> list[str]:
    pieces = _SENTENCE_SPLIT.split(text)
    out = []
    for i in range(0, len(pieces), 2):
        sentence = pieces[i]
        if i + 1 < len(pieces) and pieces[i + 1]:
            sentence += pieces[i + 1]
        sentence = sentence.strip()
        if sentence and _HAS_LETTER.search(sentence):
            out.append(sentence)
    return out


# A labelled data line of a markdown answer ("- **Fund:** Harborview Target Income Fund
# (BL019)", "Return (90d): -10.81%"): a label, then only names, codes and figures. It states
# a field and cannot carry an opinion, a forecast or an inference, so it is not scored.
_DATA_LINE = re.compile(r"[-*\u2022#>|\s]*\**[A-Za-z][\w ()/.&'-]{0,40}?:\**\s*(?P<value>.*)")
_LOWER_WORD = re.compile(r"\b[a-z]{4,}\b")


def is_data_line(sentence: str) -> bool:
    m = _DATA_LINE.fullmatch(sentence)
    return m is not None and _LOWER_WORD.search(m.group("value")) is None


def load_examples(path: str | os.PathLike[str] | None = None) -> list[dict[str, str]]:
    """The labelled grey-area sentences (``text``, ``label``, ``category``, ``split``, ``template``)."""
    path = Path(path or os.environ.get(DATA_ENV_VAR) or DEFAULT_DATA_PATH)
    if not path.is_file():
        raise FileNotFoundError(f"grey-area training data not found at {path} (set {DATA_ENV_VAR})")
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _require_scikit_learn() -> None:
    try:
        import sklearn  # noqa: F401 - optional: only whether the fit extra is installed
    except ImportError:
        raise ImportError("fitting the grey-area classifier needs scikit-learn: pip install 'advisorgym[fit]' "
                          "(the default checker uses the shipped parameters and does not)") from None


def _fit_pipeline(texts: Sequence[str], labels: Sequence[int]) -> Any:
    _require_scikit_learn()
    from sklearn.feature_extraction.text import TfidfVectorizer  # optional: scikit-learn, the fit extra
    from sklearn.linear_model import LogisticRegression  # optional: scikit-learn, the fit extra
    from sklearn.pipeline import FeatureUnion, make_pipeline  # optional: scikit-learn, the fit extra

    features = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, preprocessor=_prepare)),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(_CHAR_N, _CHAR_N), sublinear_tf=True, min_df=2,
                                 preprocessor=_prepare)),
    ])
    model = make_pipeline(features, LogisticRegression(C=_LOGREG_C, random_state=_RANDOM_STATE, max_iter=5000))
    model.fit(list(texts), list(labels))
    return model


class _GreyAreaModel:
    """A fitted pipeline flattened into ``{feature: (idf * weight, idf ** 2)}`` tables.

    The probability equals the pipeline's ``predict_proba`` (tests check this): each block
    is ``sublinear_tf * idf``, l2-normalised on its own, then dotted with the weights.
    ``probability`` is a pure function of the sentence, memoised for the last
    ``PROBABILITY_CACHE`` distinct sentences: answers repeat sentences across episodes
    (templates, gold answers, a GRPO group's samples), and a hit costs well under 1 µs
    against tens of µs to score one.
    """

    def __init__(self, intercept: float, tables: list[dict[str, tuple[float, float]]]) -> None:
        self.intercept = intercept
        self.tables = tables
        self.probability = lru_cache(maxsize=PROBABILITY_CACHE)(self._probability)

    @classmethod
    def from_pipeline(cls, pipeline: Any) -> _GreyAreaModel:
        union, logreg = pipeline.steps[0][1], pipeline.steps[-1][1]
        coef = logreg.coef_[0]
        tables: list[dict[str, tuple[float, float]]] = []
        offset = 0
        for _, vec in union.transformer_list:
            vocab: dict[str, int] = vec.vocabulary_
            idf = vec.idf_
            tables.append({term: (float(idf[i] * coef[offset + i]), float(idf[i] * idf[i]))
                           for term, i in vocab.items()})
            offset += len(vocab)
        return cls(float(logreg.intercept_[0]), tables)

    def to_json(self, data_sha256: str) -> dict[str, Any]:
        """The parameters, terms sorted (floats round-trip exactly through JSON)."""
        word, char = ({term: list(weights) for term, weights in sorted(table.items())} for table in self.tables)
        return {"format": MODEL_FORMAT, "data_sha256": data_sha256, "intercept": self.intercept,
                "word": word, "char": char}

    def _probability(self, sentence: str) -> float:
        prepared = _prepare(sentence)
        word_table, char_table = self.tables
        z = self.intercept + _block_score(_word_features(prepared), word_table) + _block_score(
            _char_features(prepared), char_table)
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)


def fit_model(texts: Sequence[str], labels: Sequence[int]) -> _GreyAreaModel:
    """Fit on ``texts`` (needs scikit-learn)."""
    return _GreyAreaModel.from_pipeline(_fit_pipeline(texts, labels))


def data_sha256(path: str | os.PathLike[str] = DEFAULT_DATA_PATH) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def load_model(path: str | os.PathLike[str] = DEFAULT_MODEL_PATH) -> _GreyAreaModel:
    """The shipped fitted classifier (a 0.5 MB file, parsed with orjson: the stdlib parser took
    most of a process's first final step)."""
    params = orjson.loads(Path(path).read_bytes())
    if params.get("format") != MODEL_FORMAT:
        raise ValueError(f"{path}: grey-area model format {params.get('format')!r}, expected {MODEL_FORMAT}")
    tables = [{term: (w, idf2) for term, (w, idf2) in params[block].items()} for block in ("word", "char")]
    return _GreyAreaModel(float(params["intercept"]), tables)


def write_model(path: str | os.PathLike[str] = DEFAULT_MODEL_PATH,
                data_path: str | os.PathLike[str] = DEFAULT_DATA_PATH) -> _GreyAreaModel:
    """Fit on every labelled sentence of ``data_path`` and write the parameters to ``path``."""
    texts, labels = _split(load_examples(data_path), None)
    model = fit_model(texts, labels)
    text = json.dumps(model.to_json(data_sha256(data_path)), ensure_ascii=False, separators=(",", ":"))
    Path(path).write_text(text + "\n", encoding="utf-8")
    return model


def _block_score(features: list[str], table: dict[str, tuple[float, float]]) -> float:
    # Summed in the features' order of appearance, so the result never depends on hashing.
    dot = sq = 0.0
    get = table.get
    for feature, count in Counter(features).items():
        weights = get(feature)
        if weights is None:
            continue
        tf = _SUBLINEAR_TF[count] if count < 64 else 1.0 + math.log(count)
        dot += tf * weights[0]
        sq += tf * tf * weights[1]
    return dot / math.sqrt(sq) if sq else 0.0


def _split(examples: Iterable[dict[str, str]], split: str | None) -> tuple[list[str], list[int]]:
    rows = [r for r in examples if split is None or r.get("split") == split]
    return [r["text"] for r in rows], [int(r["label"] == "violation") for r in rows]


def classifier_holdout_accuracy(threshold: float = DEFAULT_GREY_AREA_THRESHOLD,
                                data_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Train on the ``train`` split, evaluate on the ``test`` split (whole templates held out)."""
    examples = load_examples(data_path)
    train_x, train_y = _split(examples, "train")
    model = fit_model(train_x, train_y)
    test = [r for r in examples if r.get("split") == "test"]
    predictions = [model.probability(r["text"]) >= threshold for r in test]
    truths = [r["label"] == "violation" for r in test]
    per_label: dict[str, dict[str, float | int]] = {}
    for label, positive in (("violation", True), ("compliant", False)):
        tp = sum(p == positive and t == positive for p, t in zip(predictions, truths))
        predicted = sum(p == positive for p in predictions)
        support = sum(t == positive for t in truths)
        per_label[label] = {"precision": tp / predicted if predicted else 0.0,
                            "recall": tp / support if support else 0.0, "support": support}
    per_category: dict[str, dict[str, float | int]] = {}
    for r, p, t in zip(test, predictions, truths):
        entry = per_category.setdefault(r.get("category", "?"), {"correct": 0, "n": 0})
        entry["correct"] += int(p == t)
        entry["n"] += 1
    for entry in per_category.values():
        entry["accuracy"] = entry["correct"] / entry["n"]
    correct = sum(p == t for p, t in zip(predictions, truths))
    return {"accuracy": correct / len(test) if test else 0.0, "n_train": len(train_x), "n_test": len(test),
            "threshold": threshold, "per_label": per_label, "per_category": per_category}


def _out_of_template(folds: int, data_path: str | os.PathLike[str] | None) -> tuple[list[float], list[int]]:
    """Cross-validated probabilities over the train split, grouped by template, so that a
    sentence is never scored by a model trained on its own template's other fillings."""
    _require_scikit_learn()
    from sklearn.model_selection import GroupKFold  # optional: scikit-learn, the fit extra

    rows = [r for r in load_examples(data_path) if r.get("split") == "train"]
    texts, labels = _split(rows, None)
    groups = [r.get("template", r["text"]) for r in rows]
    probs = [0.0] * len(rows)
    for train_idx, test_idx in GroupKFold(n_splits=folds).split(texts, labels, groups):
        model = fit_model([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        for i in test_idx:
            probs[i] = model.probability(texts[i])
    return probs, labels


def calibrate_threshold(target_precision: float = CALIBRATION_TARGET_PRECISION, folds: int = 5,
                        data_path: str | os.PathLike[str] | None = None) -> float:
    """The smallest threshold on a 0.05 grid reaching ``target_precision`` out of template."""
    probs, labels = _out_of_template(folds, data_path)
    for step in range(10, 20):
        threshold = step / 20
        flagged = [y for p, y in zip(probs, labels) if p >= threshold]
        if flagged and sum(flagged) / len(flagged) >= target_precision:
            return threshold
    return 0.95


def calibration(bins: int = 10, folds: int = 5, threshold: float = DEFAULT_GREY_AREA_THRESHOLD,
                data_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Reliability of the classifier out of template: per probability bin, the sentences in it,
    their mean probability and the share that are violations; and the precision and recall
    of flagging at ``threshold``."""
    probs, labels = _out_of_template(folds, data_path)
    table = []
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        inside = [(p, y) for p, y in zip(probs, labels) if lo <= p < hi or (b == bins - 1 and p == 1.0)]
        table.append({"bin": f"{lo:.1f}-{hi:.1f}", "n": len(inside),
                      "mean_probability": sum(p for p, _ in inside) / len(inside) if inside else None,
                      "violation_share": sum(y for _, y in inside) / len(inside) if inside else None})
    flagged = [y for p, y in zip(probs, labels) if p >= threshold]
    return {"bins": table, "threshold": threshold, "n": len(probs),
            "precision": sum(flagged) / len(flagged) if flagged else 0.0,
            "recall": sum(flagged) / sum(labels) if sum(labels) else 0.0}
