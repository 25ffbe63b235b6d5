from __future__ import annotations

from lean_copilot_py.models.factory import ModelSetupError, build_generator, build_tokenizer
from lean_copilot_py.models.hf_backend import TransformersGenerator
from lean_copilot_py.models.openai_backend import OpenAIGenerator
from lean_copilot_py.models.vllm_managed import ManagedVllm
from lean_copilot_py.settings import ModelSettings, Settings


def make(backend: str, name: str) -> Settings:
    return Settings(model=ModelSettings(backend=backend, name=name))


async def test_build_each_backend(tiny_model_dir):
    assert build_generator(make("none", str(tiny_model_dir))) is None
    for backend, cls in (("openai", OpenAIGenerator), ("vllm", ManagedVllm), ("transformers", TransformersGenerator)):
        gen = build_generator(make(backend, str(tiny_model_dir)))
        assert isinstance(gen, cls)
        assert gen.tokenizer.token_id("</sketch>") is not None
        await gen.aclose()


def test_tokenizer_error_is_readable(tmp_path):
    try:
        build_tokenizer(make("openai", str(tmp_path / "nope")))
    except ModelSetupError as exc:
        assert "cannot load the tokenizer" in str(exc)
    else:
        raise AssertionError("expected ModelSetupError")


def test_tokenizer_adapter(tiny_tokenizer):
    tok = tiny_tokenizer
    text = "a <sketch>\n⊢ x</sketch>"
    assert tok.decode(tok.encode(text)) == text
    assert tok.token_id("<REPL>") is not None and tok.token_id("no such token") is None
    assert tok.chat_prompt([{"role": "user", "content": "q"}]).endswith("<|im_start|>assistant\n")
    assert len(tok.eos_token_ids) == 1
