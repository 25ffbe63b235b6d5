"""Batch mode: `lean-copilot prove PATH…` fills every `sorry` of Lean files with Lean-verified proofs."""
