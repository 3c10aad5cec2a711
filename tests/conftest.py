"""Test-suite settings: Hypothesis profiles (fast in `make test`, thorough in `make bench`),
and the scripted whole-trial database shared by the report and report-API tests."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "fast", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
# The CLI's design report caches its operating characteristics; tests never write the user's
# cache (tests/report/test_oc_cache.py tests the cache in a temporary folder).
os.environ.setdefault("DOSEWISE_CACHE_DIR", "off")

# Registered here, once, so that the trial is loaded once per test process (a fixture imported
# into several test modules would be a separate fixture, loaded again, in each).
from demo_trial import demo_db, trial  # noqa: E402, F401
