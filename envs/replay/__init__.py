"""Re-scoring finished trajectories: offline scoring now; production log replay builds on it.

``score_trajectory`` replays a finished exchange (an OpenAI-style message list, or the raw
assistant turns) through the environment, so the reward is exactly what stepping the env
would have given: the env stays the single source of truth for parsing, tool execution and
reward. Trainers' reward functions, rejection sampling and SFT filtering use it.
"""

from envs.replay.scoring import ScoredTrajectory, assistant_turns, score_trajectory

__all__ = ["ScoredTrajectory", "assistant_turns", "score_trajectory"]
