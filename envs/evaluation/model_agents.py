"""Model-backed agents: any OpenAI-compatible chat endpoint, and a local Hugging Face model.

Model agents never look at ``task``, and never raise on a bad model or endpoint: transport
errors, HTTP errors, time-outs and unparseable answers become an action the environment
scores as malformed, and the error is appended to ``agent.errors`` (reset by ``start``),
which the evaluator records; the endpoint's own failures also go to ``endpoint_errors``,
which the evaluator treats as infrastructure failures (not stored, re-run on resume).
"""

from __future__ import annotations

import copy
import email.utils
import json
import os
import random
import threading
import time
from typing import Any

import orjson

from envs.actions import parse_action
from envs.evaluation.agent_base import _loads, malformed_action
from envs.evaluation.grounded_decoding import GroundedNumbers
from envs.tasks import Task
from envs.wire import Connection, Timeout, WireError, proxy_for


class _ChatAgent:
    """Shared bookkeeping: a chat history started from the reset observation."""

    name = "chat"

    def __init__(self) -> None:
        self.errors: list[str] = []
        # The endpoint's own failures (unreachable, timed out, 5xx, 401/403/404/429): not the model's.
        self.endpoint_errors: list[str] = []
        self.messages: list[dict[str, Any]] = []
        self.tools: list[dict[str, Any]] = []

    def start(self, task: Task, observation: str, info: dict[str, Any]) -> None:
        prompt = _loads(observation)
        if not isinstance(prompt, dict):
            prompt = {"system": "", "user": str(observation)}
        self.errors = []
        self.endpoint_errors = []
        self.tools = list(info.get("tools") or [])
        # The tools go through ``tools=``: the system prompt made for that, not the one listing them again.
        system = info.get("system_for_tools_api") if self.tools else None
        self.messages = [{"role": "system", "content": str(system or prompt.get("system", ""))},
                         {"role": "user", "content": str(prompt.get("user", ""))}]

    def _error(self, reason: str) -> str:
        self.errors.append(reason)
        return malformed_action(reason)


def split_tool_results(observation: str, n_calls: int) -> list[str]:
    """One content string per tool call of the previous turn.

    The env answers a turn with several calls with a list of ``{"name", "result"}``; one call
    gets its result directly. Anything else (e.g. a malformed-action error for the whole turn)
    goes to every call.
    """
    if n_calls > 1:
        value = _loads(observation)
        if (isinstance(value, list) and len(value) == n_calls
                and all(isinstance(v, dict) and "result" in v for v in value)):
            return [orjson.dumps(v["result"]).decode() for v in value]
    return [observation] * n_calls


# Answers that are the endpoint's failure, not the model's (rejected credentials, wrong URL, rate limit,
# a proxy asking for credentials).
_ENDPOINT_STATUSES = frozenset({401, 403, 404, 407, 408, 429})
# Failures worth another try after a pause: rate limits, time-outs, server errors.
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# The longest pause a Retry-After header may ask for, in seconds.
MAX_RETRY_AFTER_S = 60.0


class RateLimiter:
    """At most ``rate`` requests per second over every agent that shares it (thread-safe).

    Requests are spaced ``1 / rate`` seconds apart: each ``wait`` books the next free slot and
    sleeps until it.
    """

    def __init__(self, rate: float):
        if rate <= 0:
            raise ValueError("the rate limit must be positive (requests per second)")
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            time.sleep(slot - now)


def retry_after_s(value: str | None) -> float | None:
    """The pause a ``Retry-After`` header asks for (seconds, or an HTTP date), capped; None if absent."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = when.timestamp() - time.time()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)


class OpenAIChatAgent(_ChatAgent):
    """An agent behind any OpenAI-compatible ``/chat/completions`` endpoint (vLLM, TGI, ...).

    Sends the system and user prompt of the reset observation, then the history, with the
    20 tool schemas as ``tools``. The returned assistant message (``content`` and
    ``tool_calls``) is the action, as JSON. After a tool-calling turn, each call's result
    goes back as a ``{"role": "tool", "tool_call_id", "content"}`` message.

    Never raises on a bad endpoint: after an HTTP error, time-out or unusable answer it
    returns a malformed action and records the error in ``errors``; the next turn retries the
    same request. After ``max_consecutive_errors`` failures in a row the endpoint is not
    called again in this episode (every further turn is a malformed action at once).

    **Retries.** Within a turn, a time-out, a transport error, 408, 429 or a 5xx (500, 502,
    503, 504) is tried again up to ``max_retries`` times, after the pause a ``Retry-After``
    header asks for (at most ``MAX_RETRY_AFTER_S``) or else an exponential back-off
    (``retry_backoff`` × 2^attempt, jittered); only the last failure counts as the turn's
    error. ``rate_limiter``: a ``RateLimiter`` shared by
    every agent of an eval (requests per second over all of them). ``worker_copy`` makes the
    agents of concurrent workers.

    **Transport.** Each agent keeps one HTTP/1.1 keep-alive connection (``envs.wire``, the
    tool service's client): about 0.1 ms of CPU a request where httpx took about 1 ms, which
    is most of a turn's own work when 32 episodes share 2 cores. ``timeout`` bounds each
    request whole. ``http://`` and ``https://`` URLs. The proxy is the environment's, as for
    urllib, requests and httpx: ``HTTPS_PROXY`` / ``HTTP_PROXY`` by the URL's scheme, else
    ``ALL_PROXY`` (an ``http://`` proxy, with ``user:password@`` for Basic proxy
    authentication), unless ``NO_PROXY`` names the host; an ``https://`` endpoint is reached
    through a ``CONNECT`` tunnel. A proxy that refuses is a transport error like any other,
    and its 407 (credentials wanted) stops the eval as a rejected API key does.
    """

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, temperature: float = 0.0,
                 timeout: float = 60, max_tokens: int | None = None, max_consecutive_errors: int = 3,
                 max_retries: int = 3, retry_backoff: float = 0.5, rate_limiter: RateLimiter | None = None):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.temperature = temperature
        self.timeout = timeout
        self.max_tokens = max_tokens
        self.max_consecutive_errors = max_consecutive_errors
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.rate_limiter = rate_limiter
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if key and any(c in key for c in "\r\n"):
            raise ValueError("the API key holds a line break")
        self._headers = b"Content-Type: application/json\r\nAccept: application/json\r\nUser-Agent: advisorgym\r\n"
        if key:
            self._headers += b"Authorization: Bearer " + key.encode() + b"\r\n"
        self._connection = Connection(self.base_url, proxy=proxy_for(self.base_url))
        self._pending_ids: list[str] = []
        self._consecutive_errors = 0
        self._call_counter = 0

    @property
    def config(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "model": self.model, "temperature": self.temperature,
                "max_tokens": self.max_tokens}

    def start(self, task: Task, observation: str, info: dict[str, Any]) -> None:
        super().start(task, observation, info)
        self._pending_ids = []
        self._consecutive_errors = 0
        self._call_counter = 0

    def act(self, observation: str) -> str:
        if self._pending_ids:
            for call_id, content in zip(self._pending_ids, split_tool_results(observation, len(self._pending_ids))):
                self.messages.append({"role": "tool", "tool_call_id": call_id, "content": content})
            self._pending_ids = []
        elif len(self.messages) > 2 and self.messages[-1]["role"] == "assistant":
            # The previous answer was not usable as an action: show the env's error.
            self.messages.append({"role": "user", "content": observation})
        if self._consecutive_errors >= self.max_consecutive_errors:
            return self._error(f"endpoint skipped after {self._consecutive_errors} consecutive errors")
        message, error = self._complete()
        if error is not None:
            self._consecutive_errors += 1
            return self._error(error)
        self._consecutive_errors = 0
        message = self._normalise(message)
        self.messages.append(message)
        return orjson.dumps(message).decode()

    def _endpoint_failure(self, error: str) -> str:
        self.endpoint_errors.append(error)
        return error

    def _complete(self) -> tuple[dict[str, Any], None] | tuple[None, str]:
        body: dict[str, Any] = {"model": self.model, "messages": self.messages, "tools": self.tools,
                                "temperature": self.temperature}
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        try:
            payload = orjson.dumps(body)  # a tenth of the stdlib encoder's time on the 20 tool schemas
        except orjson.JSONEncodeError:  # an integer past 64 bits in an earlier answer of the endpoint
            payload = json.dumps(body).encode()
        for attempt in range(self.max_retries + 1):
            if self.rate_limiter is not None:
                self.rate_limiter.wait()
            response, failure, pause = None, None, None
            try:
                response = self._connection.request("POST", "/chat/completions", self._headers, payload,
                                                    time.monotonic() + self.timeout)
            except Timeout as exc:
                failure = f"timeout: {exc}"
            except WireError as exc:
                failure = f"transport error: {type(exc).__name__}: {exc}"
            else:
                if response.status not in _RETRY_STATUSES:
                    break
                pause = retry_after_s(response.headers.get(b"retry-after", b"").decode("latin-1"))
            if attempt == self.max_retries:
                break
            time.sleep(pause if pause is not None else self.retry_backoff * 2 ** attempt * random.uniform(0.5, 1.0))
        if response is None:
            return None, self._endpoint_failure(failure or "no answer")
        text = response.body[:200].decode(errors="replace")
        if response.status >= 400:
            error = f"HTTP {response.status}: {text}"
            endpoint = response.status >= 500 or response.status in _ENDPOINT_STATUSES
            return None, self._endpoint_failure(error) if endpoint else error
        try:
            data = orjson.loads(response.body)
        except orjson.JSONDecodeError:
            return None, f"non-JSON answer (HTTP {response.status}): {text!r}"
        try:
            message = data["choices"][0]["message"]
        except (KeyError, IndexError, TypeError):
            return None, f"answer has no choices[0].message: {str(data)[:200]}"
        if not isinstance(message, dict):
            return None, f"choices[0].message is not an object: {str(message)[:200]}"
        return message, None

    def _normalise(self, message: dict[str, Any]) -> dict[str, Any]:
        """The assistant message as it goes to the env and back into the history.

        Drops null fields; gives every tool call an id (some servers omit it) and remembers
        the ids, so the results can be sent back with the matching ``tool_call_id``.
        """
        out = {k: v for k, v in message.items() if v is not None}
        out["role"] = "assistant"
        calls = out.get("tool_calls")
        if isinstance(calls, list) and calls:
            calls = copy.deepcopy(calls)
            for tc in calls:
                if isinstance(tc, dict):
                    if not isinstance(tc.get("id"), str) or not tc["id"]:
                        self._call_counter += 1
                        tc["id"] = f"call_{self._call_counter}"
                    tc.setdefault("type", "function")
            out["tool_calls"] = calls
            self._pending_ids = [tc["id"] if isinstance(tc, dict) else f"call_invalid_{i}"
                                 for i, tc in enumerate(calls)]
        elif "tool_calls" in out:
            del out["tool_calls"]  # [] : a final answer
        return out

    def worker_copy(self) -> OpenAIChatAgent:
        """Another agent like this one for a concurrent worker: its own conversation and its own
        connection (sharing the TLS context and the proxy), the same settings and rate limiter."""
        twin = copy.copy(self)
        twin.errors, twin.endpoint_errors, twin.messages, twin.tools, twin._pending_ids = [], [], [], [], []
        twin._connection = self._connection.copy()
        return twin

    def close(self) -> None:
        self._connection.close()


class GenerationBatcher:
    """One ``generate`` call for the pending turns of every hf agent that shares it.

    The agents of concurrent workers (``HFLocalAgent.worker_copy``) share one model and one
    batcher. An agent's ``generate`` waits until every member has a prompt waiting (or has
    left: ``leave``, when its worker has no episode left), then the last one to arrive runs
    the batch: the prompts left-padded to one length (masked out), greedy decoding, so each
    text is the one a batch of one gives. With one member every
    prompt is a batch of one. Tokenising, generating and decoding happen under the lock, in
    one thread at a time.
    """

    def __init__(self, tokenizer: Any, model: Any, device: str, max_new_tokens: int, grounded_numbers: bool = False):
        self.tokenizer, self.model, self.device, self.max_new_tokens = tokenizer, model, device, max_new_tokens
        self.grounded_numbers = grounded_numbers
        self.members = 0
        self.batch_sizes: list[int] = []  # one entry per generate call
        self._waiting: list[dict[str, Any]] = []
        self._cond = threading.Condition()

    def join(self) -> None:
        with self._cond:
            self.members += 1

    def leave(self) -> None:
        with self._cond:
            self.members -= 1
            self._flush_if_full()

    def generate(self, prompt: str) -> str:
        """The model's greedy continuation of ``prompt`` (a rendered chat), decoded."""
        request: dict[str, Any] = {"prompt": prompt}
        with self._cond:
            self._waiting.append(request)
            self._flush_if_full()
            while "text" not in request and "error" not in request:
                self._cond.wait()
        if "error" in request:
            raise request["error"]
        return request["text"]

    def _flush_if_full(self) -> None:
        if not self._waiting or len(self._waiting) < self.members:
            return
        batch, self._waiting = self._waiting, []
        try:
            texts = self._generate([r["prompt"] for r in batch])
        except Exception as exc:  # noqa: BLE001 - each agent of the batch records it
            for r in batch:
                r["error"] = exc
        else:
            for r, text in zip(batch, texts):
                r["text"] = text
        self._cond.notify_all()

    def _generate(self, prompts: list[str]) -> list[str]:
        # torch: the train extra, needed only once a local model generates
        import torch  # optional: the train extra

        ids = [self.tokenizer(p, add_special_tokens=False)["input_ids"] for p in prompts]
        width = max(len(i) for i in ids)
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.tokenizer.eos_token_id
        input_ids = torch.tensor([[pad] * (width - len(i)) + i for i in ids], device=self.device)
        attention_mask = torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in ids], device=self.device)
        self.batch_sizes.append(len(prompts))
        processors = None
        if self.grounded_numbers:
            from transformers import LogitsProcessorList  # optional: the train extra

            processors = LogitsProcessorList([GroundedNumbers(self.tokenizer)])
        with torch.no_grad():
            output = self.model.generate(input_ids=input_ids, attention_mask=attention_mask, logits_processor=processors,
                                         max_new_tokens=self.max_new_tokens, do_sample=False, pad_token_id=pad)
        # A row that stopped early is filled with the pad token, a special token decoding skips.
        return [self.tokenizer.decode(row, skip_special_tokens=True).strip() for row in output[:, width:]]


class HFLocalAgent(_ChatAgent):
    """A local Hugging Face causal LM, loaded from a directory (never from the hub).

    Each turn renders the history with the tokenizer's chat template and the tool schemas
    (``apply_chat_template(messages, tools=..., add_generation_prompt=True)``), generates
    greedily and returns the decoded new text as the action (the env accepts the tagged
    ``<think>``/``<tool_call>``/``<response>`` form as well as JSON). The model's text goes
    back into the history as the assistant turn; the env's observation as one ``tool`` turn per
    call the text made (a ``user`` turn when the text was not a usable tool call).

    ``worker_copy`` makes the agents of concurrent workers: they share the model and a
    ``GenerationBatcher``, so ``--concurrency N`` generates the N episodes' pending turns in
    one batch, with the texts of a sequential run.

    torch and transformers are imported here, lazily: the rest of the package does not need
    them. A failure while generating becomes a malformed action recorded in ``errors``.

    ``grounded_numbers``: the model writes a number or an entity id only when the conversation
    shows it (``envs.evaluation.grounded_decoding``).
    """

    name = "hf"

    def __init__(self, model_path: str | os.PathLike[str], max_new_tokens: int = 256, device: str = "cpu",
                 grounded_numbers: bool = False):
        try:
            # torch, transformers: the train extra; `--agent hf` says how to install it
            import torch  # noqa: F401 - optional: the train extra; transformers' models need it (a clear message if missing)
            from transformers import AutoModelForCausalLM, AutoTokenizer  # optional: the train extra
        except ImportError as exc:  # pragma: no cover - exercised only without the extras
            raise ImportError("HFLocalAgent needs torch and transformers: "
                              "pip install torch transformers") from exc
        super().__init__()
        self.model_path = str(model_path)
        self.max_new_tokens = max_new_tokens
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(self.model_path, local_files_only=True)
        self.model = AutoModelForCausalLM.from_pretrained(self.model_path, local_files_only=True).to(device)
        self.model.eval()
        self.grounded_numbers = grounded_numbers
        self.batcher = GenerationBatcher(self.tokenizer, self.model, device, max_new_tokens, grounded_numbers)
        self.batcher.join()
        self._member = True
        self._last_calls = -1

    @property
    def config(self) -> dict[str, Any]:
        return {"model_path": os.path.abspath(self.model_path), "max_new_tokens": self.max_new_tokens,
                "grounded_numbers": self.grounded_numbers}

    def start(self, task: Task, observation: str, info: dict[str, Any]) -> None:
        super().start(task, observation, info)
        if not self._member:
            self.batcher.join()
            self._member = True
        self._last_calls = -1  # tool calls in the previous turn; -1: no turn yet

    def act(self, observation: str) -> str:
        if self._last_calls > 0:
            for content in split_tool_results(observation, self._last_calls):
                self.messages.append({"role": "tool", "content": content})
        elif self._last_calls == 0:  # the previous turn was not usable: show the env's error
            self.messages.append({"role": "user", "content": observation})
        try:
            text = self._generate()
        except Exception as exc:  # noqa: BLE001 - a model failure must not end the eval
            return self._error(f"generation failed: {type(exc).__name__}: {exc}"[:500])
        self.messages.append({"role": "assistant", "content": text})
        parsed = parse_action(text)
        self._last_calls = len(parsed.calls) if parsed.kind == "tool_call" else 0
        return text

    def _generate(self) -> str:
        prompt = self.tokenizer.apply_chat_template(self.messages, tools=self.tools or None,
                                                    add_generation_prompt=True, tokenize=False)
        return self.batcher.generate(prompt)

    def worker_copy(self) -> HFLocalAgent:
        """Another agent for a concurrent worker: its own conversation, the same model and batcher."""
        twin = copy.copy(self)
        twin.errors, twin.endpoint_errors, twin.messages, twin.tools = [], [], [], []
        twin.batcher.join()
        twin._member = True
        return twin

    def retire(self) -> None:
        """Its worker has no episode left: the batcher stops waiting for its turns (``start`` rejoins)."""
        if self._member:
            self._member = False
            self.batcher.leave()
