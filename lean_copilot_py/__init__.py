"""lean-copilot-py: an AI proof assistant for Lean 4 that only offers proofs Lean has checked."""

__version__ = "0.1.0"
