"""Re-scoring finished trajectories (offline scoring), and production logs replayed as episodes.

``score_trajectory`` replays a finished exchange (an OpenAI-style message list, or the raw
assistant turns) through the environment, so the reward is exactly what stepping the env
would have given: the env stays the single source of truth for parsing, tool execution and
reward. Trainers' reward functions, rejection sampling and SFT filtering use it.

Production logs (``advisorgym replay``, ``cli``), one module per job: ``logformat`` (the chat and
ReAct log formats, the session record, reject reasons), ``simulate`` (realistic logs from the
scripted agents), ``ingest`` (every line ingested or rejected, de-identification), ``rescore``
(replay and re-score, strict or lenient), ``flags`` (hard cases), ``export`` (tasks, SFT, DPO).
"""

from envs.replay.scoring import ScoredTrajectory, assistant_turns, score_trajectory

__all__ = ["ScoredTrajectory", "assistant_turns", "score_trajectory"]
