"""The ``dosewise`` command line: thin adapters over the core, one module per command group."""
