"""The tokenizers-only tokenizer gives the same ids, text and chat prompt as transformers' one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lean_copilot_py.models.factory import build_tokenizer
from lean_copilot_py.models.fast_tokenizer import FastTokenizer, find_tokenizer_dir
from lean_copilot_py.models.tokenizer import load_tokenizer
from lean_copilot_py.settings import ModelSettings, Settings

SAMPLES = [
    "theorem foo (n : Nat) : n + 0 = n := by\n  simp",
    "<sketch>\nintro h\n  exact ⟨b, a⟩\n</sketch>",
    '\n<REPL>\n{"messages": [{"data": "unsolved goals\\n⊢ 𝔽 = 😀"}]}\n</REPL>',
    "",
    "  \t trailing spaces  \n\n",
]

# A template in the style of the Qwen2.5 family's (system turn defaulted, tools ignored), written for this test.
QWEN_STYLE = (
    "{%- if messages[0]['role'] == 'system' %}"
    "{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}"
    "{%- else %}{{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{%- endif %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}"
    "{%- elif message.role == 'assistant' %}{{- '<|im_start|>assistant\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)


def test_same_ids_text_and_special_tokens_as_transformers(tiny_model_dir: Path) -> None:
    fast = FastTokenizer.from_dir(tiny_model_dir)
    slow = load_tokenizer(str(tiny_model_dir))
    for text in SAMPLES:
        assert fast.encode(text) == slow.encode(text)
        assert fast.decode(fast.encode(text)) == slow.decode(slow.encode(text))
    for token in ("</sketch>", "<REPL>", "<|endoftext|>", "not-a-token"):
        assert fast.token_id(token) == slow.token_id(token)
    assert tuple(fast.eos_token_ids) == tuple(slow.eos_token_ids) != ()
    assert len(fast) == len(slow)


@pytest.mark.parametrize("template", [None, QWEN_STYLE])
def test_same_chat_prompt_as_transformers(tiny_model_dir: Path, tmp_path: Path, template: str | None) -> None:
    folder = tmp_path / "tok"
    shutil.copytree(tiny_model_dir, folder)
    if template is not None:
        (folder / "chat_template.jinja").unlink(missing_ok=True)
        config = json.loads((folder / "tokenizer_config.json").read_text())
        config["chat_template"] = template
        (folder / "tokenizer_config.json").write_text(json.dumps(config))
    messages = [{"role": "system", "content": "You will be given…"}, {"role": "user", "content": "```lean4\nx\n```"}]
    assert FastTokenizer.from_dir(folder).chat_prompt(messages) == load_tokenizer(str(folder)).chat_prompt(messages)
    user_only = messages[1:]
    assert FastTokenizer.from_dir(folder).chat_prompt(user_only) == load_tokenizer(str(folder)).chat_prompt(user_only)


def test_http_backends_get_the_fast_tokenizer_and_no_torch(tiny_model_dir: Path) -> None:
    settings = Settings(model=ModelSettings(backend="openai", name=str(tiny_model_dir)))
    assert isinstance(build_tokenizer(settings), FastTokenizer)
    assert find_tokenizer_dir(str(tiny_model_dir / "missing")) is None
    # In a fresh interpreter: building the tokenizer must not import torch (the server's memory).
    code = (
        "import sys\nfrom lean_copilot_py.models.factory import build_tokenizer\n"
        "from lean_copilot_py.settings import Settings, ModelSettings\n"
        f"build_tokenizer(Settings(model=ModelSettings(backend='openai', name={str(tiny_model_dir)!r})))\n"
        "print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "False"], out.stderr[-2000:]
