"""``dosewise.yamlread.safe_load`` gives PyYAML's values and PyYAML's errors, only faster."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml

from dosewise.yamlread import FAST_LOADER, safe_load


def packaged_yaml() -> list[str]:
    texts = [
        resources.files("dosewise.protocol").joinpath("nct07070323.yaml").read_text("utf-8"),
        resources.files("dosewise.clinical").joinpath("ctcae_zh.yaml").read_text("utf-8"),
    ]
    library = resources.files("dosewise.simulate.library")
    texts += [f.read_text("utf-8") for f in library.iterdir() if f.name.endswith(".yaml")]
    return texts


def test_values_are_pyyamls() -> None:
    texts = packaged_yaml()
    assert len(texts) > 10
    for text in texts:
        assert safe_load(text) == yaml.safe_load(text)


def test_libyaml_is_used_when_present() -> None:
    assert FAST_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@pytest.mark.parametrize(
    "text",
    [
        "a: [1, 2\nb: 3\n",
        "key: value\n  bad indent: 1\n",
        "- a\nb: c\n",
        "x: !!python/object:os.system 1\n",
    ],
)
def test_errors_are_pyyamls(text: str) -> None:
    with pytest.raises(yaml.YAMLError) as expected:
        yaml.safe_load(text)
    with pytest.raises(yaml.YAMLError) as got:
        safe_load(text)
    assert str(got.value) == str(expected.value)
