"""Doubles the product ships, for its benchmarks and its tests (as language-server projects ship their test
clients): each stands in for one seam and says what the real thing says. Import the submodules directly;
nothing here is imported by the product's own code paths.

- fake_engine: FakeEngine, the EnginePort's scripted double (in process, or in a server subprocess)
"""
