"""The model side: generator backends and prompt families. The only package importing openai/transformers.

Import the submodules directly (this package imports nothing heavy, so `doctor` stays fast):
- factory: build_generator(settings), build_tokenizer(settings), ModelSetupError
- tokenizer: HFTokenizer, load_tokenizer(name_or_path)
- openai_backend: OpenAIGenerator (any OpenAI-compatible /v1/completions server)
- vllm_managed: ManagedVllm (a `vllm serve` child process), VllmError
- hf_backend: TransformersGenerator (in process, KV cache kept per request.session)
- families: build_family(name), StepFunFamily, DeepSeekFamily, KiminaFamily, GoedelFamily
- probe: import-free checks for `doctor`
"""
