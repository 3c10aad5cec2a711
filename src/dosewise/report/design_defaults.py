"""The design report's defaults, in a module of their own so that the CLI can show them in
``--help`` without importing the simulation engine and Matplotlib."""

#: Simulated TITE-BOIN12 trials per scenario by default (a few seconds for six scenarios).
DEFAULT_TRIALS = 10_000
#: Default seed, so that the same command always writes the same document.
DEFAULT_SEED = 20250709
#: Largest number of simulated trials per scenario a report accepts.
MAX_TRIALS = 1_000_000
