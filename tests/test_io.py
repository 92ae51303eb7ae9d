"""Atomic files and weights round trips."""
import os

import numpy as np
import pytest

import fastgrad as fg
from fastgrad.io import atomic_path, load_weights, save_weights


def test_weights_round_trip(tmp_path):
    net = fg.MLP([2, 5, 3, 4], hidden=["relu", "sigmoid"], output="softmax", seed=3)
    save_weights(tmp_path / "w.npz", net, steps_done=7)
    loaded, meta = load_weights(tmp_path / "w.npz")
    assert loaded.sizes == net.sizes and loaded.hidden == net.hidden and loaded.output == "softmax"
    assert loaded.theta.tobytes() == net.theta.tobytes() and meta == {"steps_done": 7}


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "keep.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            with open(tmp, "w") as f:
                f.write("half")
            raise RuntimeError("writer failed")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_unwritable_and_unreadable_paths(tmp_path):
    net = fg.MLP([1, 2, 1])
    with pytest.raises(ValueError, match=r"cannot write there"):
        save_weights(tmp_path / "missing-dir" / "w.npz", net)
    with pytest.raises(ValueError, match=r"cannot read the weights file"):
        load_weights(tmp_path / "none.npz")
    (tmp_path / "bad.npz").write_text("not a zip")
    with pytest.raises(ValueError, match=r"bad.npz: not a fastgrad weights file"):
        load_weights(tmp_path / "bad.npz")
    np.savez(tmp_path / "other.npz", x=np.zeros(3))
    with pytest.raises(ValueError, match=r"other.npz: not a fastgrad weights file"):
        load_weights(tmp_path / "other.npz")


def test_atomic_write_keeps_permissions_and_follows_symlinks(tmp_path):
    from fastgrad.io import write_json
    target = tmp_path / "m.json"
    target.write_text("{}")
    os.chmod(target, 0o664)
    write_json(target, {"a": 1})
    assert os.stat(target).st_mode & 0o777 == 0o664 and '"a": 1' in target.read_text()
    link = tmp_path / "link.json"
    link.symlink_to(target)
    write_json(link, {"b": 2})
    assert link.is_symlink() and '"b": 2' in target.read_text()
    umask = os.umask(0o022)
    try:
        write_json(tmp_path / "new.json", {})
    finally:
        os.umask(umask)
    assert os.stat(tmp_path / "new.json").st_mode & 0o777 == 0o644


def test_a_device_is_written_not_replaced():
    import stat
    from fastgrad.io import write_json
    write_json("/dev/null", {"a": 1})
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
