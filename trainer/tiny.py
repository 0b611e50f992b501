"""A tiny causal LM and tokenizer built locally in code: nothing comes from a model hub.

A byte-level BPE trained with ``tokenizers`` on the text it will see (prompts, tool schemas,
gold turns), with every digit its own pre-token and, optionally, one token per entity id of
the replica (``replica_ids``), so that an id or an amount is the same tokens in the query, the
call, the tool result and the answer, and copying it is one token (an id) or one token per
digit (an amount); TRL's Qwen3 chat template (so TRL parses its tool calls), and a small
``Qwen3ForCausalLM`` from a config (Qwen3, not Qwen2: for ``qwen2`` checkpoints
``AutoTokenizer`` swaps in its own pre-tokenizer, and this tokenizer's would be lost). Used by the tests and the CPU path.

As in Qwen's own tokenizers, only the turn markers are special tokens; the ``<think>`` and
``<tool_call>`` tags are ordinary added tokens, so decoding with ``skip_special_tokens=True``
keeps the markup the model wrote.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from trainer.relabel import NAME_KIND, ids_by_kind

SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
TAG_TOKENS = ("<think>", "</think>", "<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>")


# The tool listing of ``tiny_chat_template(compact_tools=True)``: one line per tool, its name
# and its argument names (``?`` after an optional one), in place of the full JSON schemas.
_COMPACT_TOOLS = """{{- "# Tools\\n" }}
    {%- for tool in tools %}
        {%- set function = tool.function if tool.function is defined else tool %}
        {%- set parameters = function.parameters if function.parameters is defined else {} %}
        {%- set required = parameters.required if parameters.required is defined else [] %}
        {{- "\\n" + function.name + "(" }}
        {%- for argument in (parameters.properties if parameters.properties is defined else {}) %}
            {{- (", " if not loop.first else "") + argument + ("" if argument in required else "?") }}
        {%- endfor %}
        {{- ")" }}
    {%- endfor %}
    {{- "\\n\\nCall a tool with:\\n<tool_call>\\n{\\"name\\": <tool>, \\"arguments\\": {...}}\\n</tool_call><|im_end|>\\n" }}"""


def tiny_chat_template(compact_tools: bool = False, tool_result_chars: int | None = None) -> str:
    """The tiny model's chat template: TRL's Qwen3 template, unless a setting shortens what it
    renders; then TRL's Qwen3 *training* template (prefix-preserving, ``{% generation %}``
    markers for the assistant-only loss), so that training and evaluation render a
    conversation the same way and the model is always shown what it was trained on.

    The two settings shorten the sequences it renders, hence every step: ``compact_tools`` lists the
    tools as ``name(argument, optional?)`` lines instead of their JSON schemas, and
    ``tool_result_chars`` cuts each tool result to that many characters (``…`` marks a cut).
    The env's observations are unchanged: this is how the model is shown them."""
    from trl.chat_template_utils import qwen3_chat_template, qwen3_training_chat_template  # optional: the train extra

    if not compact_tools and tool_result_chars is None:
        return qwen3_chat_template
    template = qwen3_training_chat_template
    if compact_tools:
        start = template.index('{{- "# Tools')
        end = template.index("{%- else %}", start)
        template = template[:start] + _COMPACT_TOOLS + "\n" + template[end:]
    if tool_result_chars is not None:
        shown = f"(content[:{tool_result_chars}] + '…' if content | length > {tool_result_chars} else content)"
        template = template.replace("{{- '\\n<tool_response>\\n' }}\n        {{- content }}",
                                    "{{- '\\n<tool_response>\\n' }}\n        {{- " + shown + " }}")
        if shown not in template:
            raise ValueError("TRL's Qwen3 training template changed: tool results cannot be cut")
    return template


def build_tokenizer(corpus: Iterable[str], vocab_size: int = 2048, chat_template: str | None = None,
                    special_tokens: Sequence[str] = SPECIAL_TOKENS, eos_token: str = "<|im_end|>",
                    pad_token: str = "<|endoftext|>", bos_token: str | None = None,
                    id_tokens: Sequence[str] = (), name_tokens: Sequence[str] = ()) -> Any:
    """A byte-level BPE trained on ``corpus``, with TRL's Qwen3 chat template by default.

    Another family's tokenizer (for tests that render through its chat template): its
    ``chat_template``, its ``special_tokens`` (each one token, as in the family's own
    tokenizer) and its ``eos_token``/``pad_token``/``bos_token``, all among ``special_tokens``.

    ``id_tokens``: strings that become one ordinary token each wherever they occur (the
    replica's entity ids, ``replica_ids``); ``name_tokens`` likewise, but only as whole words
    (the replica's people, ``replica_names``).
    """
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers  # optional: the train extra
    from transformers import PreTrainedTokenizerFast  # optional: the train extra
    from trl.chat_template_utils import qwen3_chat_template  # optional: the train extra

    tok = Tokenizer(models.BPE())
    # Lines, not words: merges may cross spaces, so the tool schemas and the system prompt (the
    # same text in every prompt) shrink to a few tokens each and CPU steps stay short. Digits
    # are split out one by one, so no merge ties a digit to the text around it.
    tok.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split("\n", behavior="merged_with_previous"),
                                                 pre_tokenizers.Digits(individual_digits=True),
                                                 pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(list(corpus), trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=list(special_tokens),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.add_tokens([AddedToken(tag, special=False, normalized=False) for tag in (*TAG_TOKENS, *id_tokens)]
                   + [AddedToken(name, special=False, normalized=False, single_word=True) for name in name_tokens])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eos_token, pad_token=pad_token,
                                   bos_token=bos_token, unk_token=None)
    fast.chat_template = chat_template if chat_template is not None else qwen3_chat_template
    return fast


# The replica's entity ids that get a token of their own (table, column); transactions (5,000
# at the default scale) and orders placed during an episode are left to the digits.
ID_COLUMNS = (("clients", "client_id"), ("accounts", "account_id"), ("advisors", "advisor_id"),
              ("funds", "fund_code"), ("orders", "order_id"), ("advisor_notes", "note_id"),
              ("risk_assessments", "assessment_id"))


def replica_ids(replica_path: str | Path) -> list[str]:
    """Every entity id of ``ID_COLUMNS`` in the SQLite replica, sorted."""
    with sqlite3.connect(f"file:{replica_path}?mode=ro", uri=True) as db:
        return sorted({row[0] for table, column in ID_COLUMNS for row in db.execute(f"SELECT {column} FROM {table}")})


# The replica's people, by id: the names a conversation shows beside their ids.
NAME_COLUMNS = (("clients", "client_id"), ("advisors", "advisor_id"))


def replica_names(replica_path: str | Path) -> dict[str, str]:
    """The full name of every client and advisor in the SQLite replica, by id."""
    with sqlite3.connect(f"file:{replica_path}?mode=ro", uri=True) as db:
        return {row[0]: row[1] for table, column in NAME_COLUMNS
                for row in db.execute(f"SELECT {column}, full_name FROM {table}")}


def build_tiny_model(path: str | Path, corpus: Iterable[str], seed: int = 0, hidden_size: int = 32,
                     layers: int = 2, vocab_size: int = 2048, id_tokens: Sequence[str] = (),
                     name_tokens: Sequence[str] = (), chat_template: str | None = None) -> Path:
    """Train the tokenizer on ``corpus`` (``id_tokens`` and ``name_tokens`` one token each;
    ``chat_template``, by default TRL's Qwen3 one), build a small Qwen3 for it, save both to ``path``."""
    import torch  # optional: the train extra
    from transformers import Qwen3Config, Qwen3ForCausalLM  # optional: the train extra
    from trl.chat_template_utils import qwen3_chat_template, qwen3_template  # optional: the train extra

    path = Path(path)
    tokenizer = build_tokenizer(corpus, vocab_size=vocab_size, id_tokens=id_tokens, name_tokens=name_tokens,
                                chat_template=chat_template)
    if chat_template not in (None, qwen3_chat_template):
        # A shortened Qwen3 template TRL does not recognise: its turns are Qwen3's, so TRL parses them as such.
        tokenizer.response_template = qwen3_template
    tokenizer.save_pretrained(path)
    torch.manual_seed(seed)
    heads = max(2, hidden_size // 32)
    config = Qwen3Config(vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=2 * hidden_size,
                         num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads, head_dim=hidden_size // heads,
                         max_position_embeddings=32768, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    model = Qwen3ForCausalLM(config)
    _share_kind_directions(model, tokenizer, {**ids_by_kind(id_tokens), NAME_KIND: sorted(set(name_tokens))}, seed)
    model.save_pretrained(path)
    return path


def _share_kind_directions(model: Any, tokenizer: Any, kinds: dict[str, list[str]], seed: int) -> None:
    """Start every id or name token's embedding as a direction shared by its kind plus its own,
    as new tokens are often started from related ones: an attention head can then find "a
    client id" in the query from the first step, and tell which one by the token's own part."""
    import torch  # optional: the train extra

    embeddings = model.get_input_embeddings().weight
    generator = torch.Generator().manual_seed(seed)
    scale = model.config.initializer_range
    with torch.no_grad():
        for ids in kinds.values():
            if not ids:
                continue
            shared = torch.randn(embeddings.shape[1], generator=generator) * scale
            rows = tokenizer.convert_tokens_to_ids(ids)
            embeddings[rows] = shared + torch.randn(len(rows), embeddings.shape[1], generator=generator) * scale
