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


def _weights_file(tmp_path, **fields):
    """A weights file as save_weights writes it, with some fields replaced."""
    net = fg.MLP([2, 3, 1], seed=0)
    arrays = dict(theta=net.theta, sizes=np.array(net.sizes), hidden=np.array(net.hidden),
                  output=np.array(net.output), meta=np.array("{}"))
    arrays.update(fields)
    path = tmp_path / "w.npz"
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("fields,message", [
    ({"theta": np.zeros(5)}, r"field 'theta' has dtype float64 and shape \(5,\)"),
    ({"theta": np.array(["x"] * 13)}, r"field 'theta' has dtype <U1"),
    ({"sizes": np.array([2.0, 3.0, 1.0])}, r"field 'sizes' has dtype float64"),
    ({"hidden": np.array(["tanh", "relu"])}, r"field 'hidden' has dtype <U4 and shape \(2,\)"),
    ({"output": np.array(3)}, r"field 'output' has dtype int64"),
    ({"meta": np.array("[1, 2]")}, r"meta is not a mapping"),
    ({"theta": np.full(13, np.nan)}, r"theta: non-finite value"),
])
def test_mistyped_fields_are_named(tmp_path, fields, message):
    with pytest.raises(ValueError, match=r"w.npz: not a fastgrad weights file \(" + message):
        load_weights(_weights_file(tmp_path, **fields))


def test_corrupt_and_mislabelled_files_are_refused(tmp_path):
    good = _weights_file(tmp_path).read_bytes()
    cases = {"truncated.npz": good[:len(good) // 2], "empty.npz": b""}
    flipped = bytearray(good)
    at = good.index(b"NUMPY") + 200  # inside the first array's data: the CRC no longer matches
    flipped[at] ^= 0xFF
    cases["crc.npz"] = bytes(flipped)
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(ValueError, match=name + r": not a fastgrad weights file"):
            load_weights(tmp_path / name)
    np.save(tmp_path / "array.npy", np.zeros(3))
    os.rename(tmp_path / "array.npy", tmp_path / "array.npz")
    with pytest.raises(ValueError, match=r"array.npz: not a fastgrad weights file \(File is not a zip file\)"):
        load_weights(tmp_path / "array.npz")
    with pytest.raises(ValueError, match=r"cannot read the weights file \(not a regular file\)"):
        load_weights(tmp_path)


def test_a_small_file_declaring_a_huge_array_is_refused_before_reading_it(tmp_path):
    """The header says 10^12 parameters for a [2, 3, 1] net: refused from the header alone."""
    import zipfile
    path = _weights_file(tmp_path)
    header = {"descr": "<f8", "fortran_order": False, "shape": (10 ** 12,)}
    buffer = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(buffer, header)
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
        archive.writestr("theta.npy", buffer.getvalue())  # a second theta.npy: the last one is read
    assert os.path.getsize(path) < 10_000
    with pytest.raises(ValueError, match=r"field 'theta' has dtype float64 and shape \(1000000000000,\)"):
        load_weights(path)


def test_a_failing_writer_leaves_the_previous_weights(tmp_path, monkeypatch):
    path = tmp_path / "w.npz"
    net = fg.MLP([1, 4, 1], seed=1)
    save_weights(path, net)
    before = path.read_bytes()

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full_disk)
    with pytest.raises(ValueError, match=r"w.npz: cannot write \(No space left on device\)"):
        save_weights(path, fg.MLP([1, 4, 1], seed=2))
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["w.npz"]


def test_check_outputs_refuses_clashes_before_any_work(tmp_path):
    from fastgrad.io import check_outputs
    data = tmp_path / "d.csv"
    data.write_text("x,y\n1,2\n")
    with pytest.raises(ValueError, match=r"--json .*d.csv: the same file as the input --data"):
        check_outputs([("--json", str(data))], [("--data", str(data))])
    link = tmp_path / "link.csv"
    link.symlink_to(data)
    with pytest.raises(ValueError, match=r"the same file as the input --data"):
        check_outputs([("--plot", str(link))], [("--data", str(data))])
    with pytest.raises(ValueError, match=r"--json .*x: the same file as the output --save"):
        check_outputs([("--save", str(tmp_path / "x")), ("--json", str(tmp_path / "x"))])
    check_outputs([("--save", str(tmp_path / "w.npz"))], [("--resume", str(tmp_path / "w.npz"))],
                  replaces={("--save", "--resume")})
    check_outputs([("--json", "/dev/null"), ("--plot", "/dev/null"), ("--json", "-")])
    assert sorted(os.listdir(tmp_path)) == ["d.csv", "link.csv"]


def test_json_has_no_infinity_and_stdout_is_dash(capsys, tmp_path):
    import json
    from fastgrad.io import write_json
    write_json(tmp_path / "m.json", {"a": float("inf"), "b": [np.float64("nan"), np.int64(3)], "c": np.arange(2)})
    text = (tmp_path / "m.json").read_text()
    assert "Infinity" not in text and "NaN" not in text
    assert json.loads(text) == {"a": None, "b": [None, 3], "c": [0, 1]}
    write_json("-", {"x": 1})
    assert json.loads(capsys.readouterr().out) == {"x": 1}


def test_public_api_saves_and_loads_and_history_is_short():
    assert fg.save_weights is save_weights and fg.load_weights is load_weights
    history = fg.History(steps=[0, 10], losses=[1.5, 0.25], steps_done=20, seconds=0.5)
    assert repr(history) == "History(completed, 20 steps in 0.5 s, 2 losses recorded, last 0.25)"


def test_a_weights_file_declaring_huge_text_or_sizes_is_refused_from_its_headers(tmp_path):
    import io as bytes_io
    import zipfile
    for field, header, message in [
            ("meta", {"descr": "<U1000000", "fortran_order": False, "shape": ()}, r"declares 4000000 bytes"),
            ("sizes", None, r"sizes: \[1, 10000000000000, 1\] \(3e\+13 parameters\) would need")]:
        path = _weights_file(tmp_path, sizes=np.array([1, 10 ** 13, 1])) if header is None else _weights_file(tmp_path)
        if header is not None:
            buffer = bytes_io.BytesIO()
            np.lib.format.write_array_header_1_0(buffer, header)
            with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate name"):
                archive.writestr(field + ".npy", buffer.getvalue())
        with pytest.raises(ValueError, match=message):
            load_weights(path)


def test_a_file_naming_an_activation_not_built_in_says_how_to_load_it(tmp_path):
    np.savez(tmp_path / "w.npz", theta=np.zeros(5), sizes=np.array([1, 2, 1]), hidden=np.array(["wave"]),
             output=np.array("identity"), meta=np.array("{}"))
    with pytest.raises(ValueError, match=r"w.npz: .*unknown activation 'wave'; expected one of tanh, .* or a "
                                         r"fastgrad.Activation named 'wave' in activations="):
        load_weights(tmp_path / "w.npz")


def _npy(array_or_header):
    """The bytes of a .npy member: an array, or (shape, dtype) for a header with no data."""
    import io as bytes_io
    buffer = bytes_io.BytesIO()
    if isinstance(array_or_header, tuple):
        shape, dtype = array_or_header
        np.lib.format.write_array_header_1_0(buffer, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                      "shape": shape})
    else:
        np.lib.format.write_array(buffer, np.asarray(array_or_header))
    return buffer.getvalue()


def test_a_small_file_declaring_a_huge_net_is_refused_before_any_net_is_built(tmp_path):
    """A 1 KB file declaring sizes [1, 700000000, 1]: refused in one line, the child's peak memory
    far below what the net would take (5.6 GB for theta alone)."""
    import subprocess
    import sys
    import zipfile
    path = tmp_path / "huge.npz"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("sizes.npy", _npy(np.array([1, 700_000_000, 1])))
        archive.writestr("hidden.npy", _npy(np.array(["tanh"])))
        archive.writestr("output.npy", _npy(np.array("identity")))
        archive.writestr("theta.npy", _npy(((2_100_000_001,), np.float64)))
    assert path.stat().st_size < 2000
    child = ("import fastgrad as fg\n"
             f"try:\n    fg.load_weights({str(path)!r})\nexcept ValueError as exc:\n    print('refused:', exc)\n"
             # VmHWM: this process's own peak (ru_maxrss keeps the forking parent's across exec)
             "print('peak', [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=300)
    lines = done.stdout.splitlines()
    # refused by the declared net's memory (where less than its 17 GB is free) or by theta's header
    assert lines[0].startswith(f"refused: {path}: ") and ("theta" in lines[0] or "sizes:" in lines[0]), \
        done.stdout + done.stderr
    assert int(lines[-1].split()[1]) < 1_000_000  # KiB: under 1 GB


@pytest.mark.parametrize("steps", [1e400, [1], None, "abc", -5, True])
def test_malformed_steps_done_is_refused_naming_the_file(tmp_path, steps):
    import json
    net = fg.MLP([1, 3, 1], seed=0)
    path = tmp_path / "w.npz"
    fg.save_weights(str(path), net)
    np.savez(path, sizes=np.array(net.sizes), hidden=np.array(net.hidden), output=np.array(net.output),
             theta=net.theta, meta=np.array(json.dumps({"steps_done": steps})))
    with pytest.raises(ValueError, match=rf"^{path}: not a fastgrad weights file \(steps_done is"):
        fg.load_weights(str(path))


def test_load_vector_checks_the_file_and_header_before_reading(tmp_path):
    from fastgrad.io import load_vector
    fifo = tmp_path / "x0.npy"
    os.mkfifo(fifo)  # reading it would block forever
    with pytest.raises(ValueError, match=r"^--x0: cannot read .*x0.npy \(not a regular file\)$"):
        load_vector(str(fifo), "--x0")
    huge = tmp_path / "huge.npy"
    header = __import__("io").BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False, "shape": (10 ** 13,)})
    huge.write_bytes(header.getvalue())
    with pytest.raises(ValueError, match=r"^--x0: 10000000000000 numbers would need 80 TB of memory"):
        load_vector(str(huge), "--x0")
    matrix = tmp_path / "m.npy"
    np.save(matrix, np.ones((2, 2)))
    with pytest.raises(ValueError, match=r"^--x0: cannot read .*m.npy as a .npy array \(expected a 1-D array"):
        load_vector(str(matrix), "--x0")
    good = tmp_path / "g.npy"
    np.save(good, np.arange(3.0))
    assert load_vector(str(good), "--x0").tolist() == [0.0, 1.0, 2.0]
