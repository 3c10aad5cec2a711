"""A command that ends the process freezes what it built before Python's collector settings
come back, so no collection over all of it runs just before the exit."""

from __future__ import annotations

import gc

from dosewise.cli.app import fewer_collections


def test_a_command_that_ends_the_process_freezes_before_restoring_the_thresholds() -> None:
    before = gc.get_threshold()
    try:
        with fewer_collections(["decide"], ending=True):
            made = [[] for _ in range(30_000)]  # young objects, as a command leaves behind
        young = len(gc.get_objects(generation=0)) + len(gc.get_objects(generation=1))
        assert gc.get_threshold() == before
        assert gc.get_freeze_count() >= len(made)
        assert young < 1_000  # the collector starts again from (almost) nothing
    finally:
        gc.unfreeze()


def test_a_command_run_in_process_freezes_nothing() -> None:
    frozen = gc.get_freeze_count()
    with fewer_collections(["decide"]):
        made = [[] for _ in range(1_000)]
    assert gc.get_freeze_count() == frozen and made
