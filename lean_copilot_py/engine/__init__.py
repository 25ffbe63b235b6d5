"""The engine: settings in, Lean checkers and a model out, searches run; what the language server and batch
mode both drive, through one port (port.py). Import the submodules directly:

- port: EnginePort (the one Protocol), SearchOptions, EngineFactory
- engine: Engine, the composition root (the only code that wires lean/ and models/ to the core)
- threaded: ThreadedEngine (an Engine on a loop of its own), threaded_engine (the language server's factory)
- holder: EngineHolder (the engine of the current settings, replaced when they change)
"""
