"""Reading YAML quickly and safely: libyaml's parser when PyYAML has it, the same safe types.

The embedded protocol is about 40 KB of YAML and is read by every command that knows the
protocol; PyYAML's pure-Python parser takes about ten times as long as libyaml's. Both build the
same values with the same safe constructor. Text libyaml refuses is read again by the
pure-Python parser, so what is accepted, and the wording and line of every error, stay
PyYAML's own.
"""

from __future__ import annotations

from typing import Any

import yaml

#: libyaml's safe loader when PyYAML was built with it, else the pure-Python one.
FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)``, through libyaml when it is there (same values, same errors)."""
    try:
        return yaml.load(text, Loader=FAST_LOADER)
    except yaml.YAMLError:
        if FAST_LOADER is yaml.SafeLoader:
            raise
        return yaml.safe_load(text)  # the pure-Python parser decides, in its own words
