"""The ToolRLA reward (specified in docs/reward.md), as pure functions of a finished trajectory.

R = R_fmt + R_corr + R_eff + R_comp, at most 3, composed as a rubric of named nodes
(``rubric``: node types; ``compose``: each version's tree). Three versions, chosen with
``RewardConfig(version=...)``; every ``info["reward"]`` and every report names it.

``toolrla-1.2.0`` (default) judges what real models write: recovered slips cost a bounded
amount (R_fmt = 1/(1 + 0.5·slips); an unrecovered one vetoes), coverage by information
(the gold call's result contained in what the agent's calls returned, by execution),
correctness per gold call multiplied (a wrong value at most half a call's credit), the
answer score in R_corr with ``answer_weight`` 0.5 (``answers``: facts read after normalising
numbers, dates, ids and names; dumps and restatements earn nothing), least privilege (a read
of another client costs two needless calls; needless reads that returned none of the task's
information cost a noise term on top, so spraying every tool never pays; a write attempted outside the task is
unauthorised even when refused), calls after the answer counted, graceful degradation
(a failed tool the answer reports plainly is excused), and optional judges that can only
lower the total.

``toolrla-1.1.0`` closes the holes the paper's literal formulas leave open:

- R_fmt ∈ {0, 1}: every turn well-formed. With ``format="native"`` (default) each model
  family's own tool-call format is valid as written (OpenAI ``tool_calls`` with null
  content, Hermes/Qwen ``<tool_call>``, Llama and Mistral JSON calls, plain-text answers)
  and a thought is required only where the protocol has a slot for it (ReAct JSON's
  ``thought``); ``format="strict"`` requires a non-empty thought on every turn and the
  protocol's answer slot (the ToolRLA rule). R_fmt = 0 → R = min(0, R_comp).
- R_corr = S_name · S_cover · S_param, the multiplicative veto kept. S_param gives partial
  credit to the right tool with wrong values: 1 when the results match, else
  (0.1 + 0.3·key IoU + 0.6·value agreement)^criticality — strictly between the wrong tool
  (0) and gold (1), and lower for a wrong value on a critical tool (criticality 3: in finance, an order).
- R_eff = (W + 1)/(1 + x) − 1, x = needless calls / max(T*, 1), W = work done =
  0.75·S_cover + 0.25·(share of the T* calls attempted with real tools). W with no needless
  call; every needless call lowers it, towards −1 (no floor: 19 extra calls < 1 extra).
  Skipping the required tools earns nothing; calling the wrong real tool a little.
- R_comp = −λ (λ = 10) on a compliance violation of the answer, or on an
  ``unauthorized_write``: an order, cancellation or note the task did not ask for, or on
  another target (``envs.reward.writes``).
- Over-refusal (refusing a task that expects an answer), under-refusal (not refusing one
  that expects a refusal) and an episode without a final answer earn no R_corr and no
  positive R_eff. Without an answer
  R = R_fmt/2 − 1 + min(0, R_eff) + R_comp ≤ −0.5.
- Calls that failed because the back-end did (unreachable, time-out, 5xx, rejected
  credentials) are ``infra_error``: not billed to T, TIER or S_cover/S_param, and counted
  in ``infra_errors`` so that trainers and evals can drop or retry the episode.

``toolrla-1.0.0`` is the paper's literal reward, for ablations: R_eff = clip(1 − (T − T*)/T*,
0, 1), S_param without partial credit, no answer or over-refusal rule, writes unchecked,
``format="strict"``.

Compositions for ablations: ``multiplicative`` (default), ``additive`` (mean of the three
S-scores), ``binary`` (3 for a fully correct trajectory, else 0) and ``iou`` (the enterprise
guide's r_name, r_param, r_value). Every sub-score is reported whatever the composition.
Parameter accuracy is measured per call at step time against the same sandbox state (the
environment executes the gold call there too); this package only aggregates.
"""

from envs.reward.components import (
    counted_calls,
    coverage_score,
    efficiency_score,
    efficiency_score_v11,
    error_cost,
    format_score,
    iou_scores,
    key_iou,
    name_score,
    normalise_value,
    param_score,
    parameter_accuracy,
    work_score,
)
from envs.reward.answers import answer_score, gives_a_denial, says_unavailable
from envs.reward.compose import RewardBreakdown, compute_reward, rubric_for
from envs.reward.config import (ANSWER_WEIGHT, COMPOSITIONS, FORMAT_MODES, PAPER_VERSION, R_MAX, REWARD_VERSION,
                                V11_VERSION, VERSIONS, RewardConfig)
from envs.reward.records import INFRA_ERROR_CODES, CallRecord, GoldCall, tool_label
from envs.reward.rubric import Judge, JudgeInput
from envs.reward.writes import unauthorized_writes

__all__ = ["REWARD_VERSION", "V11_VERSION", "PAPER_VERSION", "VERSIONS", "ANSWER_WEIGHT", "Judge", "JudgeInput",
           "rubric_for", "answer_score", "gives_a_denial", "says_unavailable", "COMPOSITIONS", "FORMAT_MODES", "R_MAX", "RewardConfig",
           "CallRecord", "GoldCall", "RewardBreakdown", "INFRA_ERROR_CODES", "tool_label", "parameter_accuracy",
           "key_iou", "compute_reward", "format_score", "name_score", "coverage_score", "param_score",
           "efficiency_score", "efficiency_score_v11", "work_score", "iou_scores", "error_cost", "counted_calls",
           "normalise_value", "unauthorized_writes"]
