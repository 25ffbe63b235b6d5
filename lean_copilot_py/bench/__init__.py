"""`lean-copilot bench`: where the time of a proof search goes, measured against scripted fakes.

The fakes (a scripted OpenAI-compatible model server and a scripted Lean server) live in the source
checkout's ``tests/fakes/``; the benchmarks need a checkout, not just an installed wheel.
"""
