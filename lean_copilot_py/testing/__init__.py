"""Doubles the product ships, for its benchmarks (`lean-copilot bench`) and its tests, as language-server projects
ship their test clients. Each stands in for one seam and is shown to say what the real thing says. Nothing on the
product's own code paths imports this package. Import the submodules directly:

- fake_engine: FakeEngine, the EnginePort's scripted double (in process, or in a server subprocess)
- fake_lean: a `lake serve` speaking Lean's LSP dialect (a subprocess: ``lean_script.fake_lean_command``), with
  lean_script (the script format), lean_text, lean_judge and lean_docs (what it reads, judges and sends)
- fake_openai: an OpenAI-compatible completions server in vLLM's dialect (in process, or
  ``python -m lean_copilot_py.testing.fake_openai``), with model_script (its script format and stop rules) and
  fake_tokenize (vLLM's tokenizer endpoints)
- char_tokenizer: CharTokenizer, one token per character, for the fake server and its clients alike
(The tiny BPE tokenizer the fake server loads is lean_copilot_py/models/tiny_tokenizer.py: building it takes the
model libraries, which only models/ imports.)
"""
