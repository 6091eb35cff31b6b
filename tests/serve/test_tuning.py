"""``[chord]``/``[dht]``/``[node]`` settings of config.toml become NodeOptions."""

from __future__ import annotations

from pathlib import Path

import pytest

from ohtchat.config import Config
from ohtchat.serve.options import NodeSettings, OptionError
from ohtchat.serve.tuning import TuningError, tuning_overrides


def test_overrides(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        "[chord]\nstabilize_interval = 1\nverify_owner = false\n"
        "[dht]\nreplicas = 5\n[node]\njoin_retry = 0.5\n[ui]\ntheme = 'dark'\n"
    )
    out = tuning_overrides(Config.load(tmp_path))
    assert out["chord"].stabilize_interval == 1.0 and out["chord"].verify_owner is False
    assert out["dht"].replicas == 5 and out["join_retry"] == 0.5
    assert set(out) == {"chord", "dht", "join_retry"}
    opts = NodeSettings(data_dir=tmp_path, control_socket=tmp_path / "s").node_options()
    assert opts.chord is not None and opts.chord.stabilize_interval == 1.0
    assert opts.join_retry == 0.5


@pytest.mark.parametrize(
    ("toml", "fragment"),
    [
        ("[chord]\nnope = 1\n", "unknown setting chord.nope"),
        ("[chord]\nsuccessors = 'many'\n", "chord.successors must be like 8"),
        ("[chord]\nsuccessors = 99\n", "successors must be in [1, 32]"),
        ("[chord]\nverify_owner = 1\n", "verify_owner"),
        ("[dht]\nreplicas = true\n", "dht.replicas"),
        ("[node]\njoin_retry = -1\n", "positive"),
        ("[node]\nmystery = 1\n", "unknown setting node.mystery"),
    ],
)
def test_bad_settings(tmp_path: Path, toml: str, fragment: str) -> None:
    (tmp_path / "config.toml").write_text(toml)
    with pytest.raises(TuningError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        tuning_overrides(Config.load(tmp_path))
    with pytest.raises(OptionError):
        NodeSettings(data_dir=tmp_path, control_socket=tmp_path / "s").node_options()
