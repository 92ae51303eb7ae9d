"""Datasets: the sine examples, spirals, and CSV files with clear errors."""
import os

import numpy as np
import pytest

from fastgrad import datasets


def test_sine_is_seeded_and_has_a_test_grid():
    a, b = datasets.sine(n=30, seed=4), datasets.sine(n=30, seed=4)
    assert np.array_equal(a.X, b.X) and a.X.shape == (30, 1)
    np.testing.assert_allclose(a.Y, np.sin(a.X))
    assert a.X.min() >= -np.pi and a.X.max() < np.pi
    assert a.X_test.shape[1] == 1 and a.truth is np.sin
    noisy = datasets.sine(n=30, noise=0.1, seed=4)
    assert 0 < np.abs(noisy.Y - np.sin(noisy.X)).max() < 0.5


def test_spirals_are_one_hot_and_balanced():
    data = datasets.spirals(n=90, classes=3, seed=0)
    assert data.X.shape == (90, 2) and data.Y.shape == (90, 3) and data.kind == "classification"
    assert np.array_equal(data.Y.sum(axis=0), [30, 30, 30])
    assert np.array_equal(data.Y.sum(axis=1), np.ones(90))


def write(tmp_path, text, name="data.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_csv_targets_by_name_and_index(tmp_path):
    path = write(tmp_path, "a,b,y\n1,2,3\n4,5,6\n\n7,8,9\n")
    data = datasets.load_csv(path, target="y")
    assert np.array_equal(data.X, [[1, 2], [4, 5], [7, 8]]) and np.array_equal(data.Y, [[3], [6], [9]])
    data = datasets.load_csv(path, target=[0, "b"])
    assert data.feature_names == ("y",) and data.target_names == ("a", "b")
    assert np.array_equal(datasets.load_csv(path).Y, data.X)  # default: the last column


def test_csv_class_labels_become_one_hot(tmp_path):
    path = write(tmp_path, "x,label\n0.1,2\n0.2,0\n0.3,2\n")
    data = datasets.load_csv(path, target="label", classify=True)
    assert data.kind == "classification"
    assert np.array_equal(data.Y, [[0, 1], [1, 0], [0, 1]])


def test_csv_split_is_seeded(tmp_path):
    path = write(tmp_path, "x,y\n" + "".join(f"{i},{2 * i}\n" for i in range(20)))
    a = datasets.load_csv(path, test_fraction=0.25, seed=1)
    b = datasets.load_csv(path, test_fraction=0.25, seed=1)
    assert a.X.shape == (15, 1) and a.X_test.shape == (5, 1)
    assert np.array_equal(a.X_test, b.X_test)
    assert sorted(np.concatenate([a.X, a.X_test]).ravel()) == list(range(20))


@pytest.mark.parametrize("text,kwargs,message", [
    ("", {}, r"the file is empty"),
    ("a,b\n", {}, r"no data rows after the header"),
    ("a,b\n1,2\n3\n", {}, r"line 3 has 1 fields, the header has 2"),
    ("a,b\n1,2\n3,x\n", {}, r"line 3, column 'b': 'x' is not a number"),
    ("a,b\n1,nan\n", {}, r"line 2, column 'b': 'nan' is not finite"),
    ("a,b\n1,2\n", {"target": "c"}, r"target: no column named 'c'"),
    ("a,b\n1,2\n", {"target": 5}, r"target: column index 5 is out of range for 2 columns"),
    ("a,b\n1,2\n", {"target": ["a", "b"]}, r"no feature columns left"),
    ("a,b\n1,2\n", {"test_fraction": 1.5}, r"test_fraction: expected a number in \[0, 1\)"),
])
def test_csv_errors_name_the_problem(tmp_path, text, kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.load_csv(write(tmp_path, text), **kwargs)


def test_missing_and_binary_files(tmp_path):
    with pytest.raises(ValueError, match=r"nope.csv: cannot read the file \(No such file or directory\)"):
        datasets.load_csv(str(tmp_path / "nope.csv"))
    path = tmp_path / "bin.csv"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError, match=r"not a readable CSV text file"):
        datasets.load_csv(str(path))


def test_csv_byte_order_mark_and_line_numbers_with_blank_lines(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffa,b\n1,2\n\n\n3,x\n".encode("utf-8"))
    with pytest.raises(ValueError, match=r"line 5, column 'b': 'x' is not a number"):
        datasets.load_csv(str(path))
    path.write_bytes("\ufeffa,b\n1,2\n".encode("utf-8"))
    assert datasets.load_csv(str(path), target="a").target_names == ("a",)


def test_csv_string_class_labels(tmp_path):
    path = write(tmp_path, "x,kind\n0.1,dog\n0.2,cat\n0.3,dog\n0.4,cat\n")
    data = datasets.load_csv(path, target="kind", classify=True)
    assert data.target_names == ("kind=cat", "kind=dog")
    assert np.array_equal(data.Y, [[0, 1], [1, 0], [0, 1], [1, 0]])


def test_csv_classify_warns_on_a_continuous_target(tmp_path):
    path = write(tmp_path, "x,y\n" + "".join(f"{i},{i * 0.37:.3f}\n" for i in range(20)))
    with pytest.warns(UserWarning, match=r"'y' has 20 different labels in 20 rows; a continuous target"):
        datasets.load_csv(path, classify=True)


def test_csv_that_is_not_a_regular_file_is_refused(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"pipe.csv: cannot read the file \(not a regular file\)"):
        datasets.load_csv(str(fifo))


def test_an_unknown_target_lists_a_few_columns(tmp_path):
    path = write(tmp_path, ",".join(f"c{i}" for i in range(40)) + "\n" + ",".join("1" * 40) + "\n")
    with pytest.raises(ValueError, match=r"\(columns: c0, c1, c2, c3, c4, … \(40 in all\)\)$"):
        datasets.load_csv(path, target="nope")


def test_standardize_scales_training_rows_and_keeps_the_way_back(tmp_path):
    path = write(tmp_path, "a,b,y\n" + "".join(f"{1000 + 10 * i},{5},{2e5 + 3e3 * i}\n" for i in range(20)))
    data = datasets.load_csv(path, test_fraction=0.25, seed=0)
    scaled = datasets.standardize(data)
    np.testing.assert_allclose(scaled.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(scaled.X.std(axis=0), [1.0, 0.0], atol=1e-12)  # a constant column keeps std 1
    np.testing.assert_allclose(scaled.Y.std(axis=0), 1.0, atol=1e-12)
    s = scaled.scaling
    np.testing.assert_allclose(s.original_inputs(scaled.X_test), data.X_test, rtol=1e-15)
    np.testing.assert_allclose(s.original_targets(scaled.Y), data.Y, rtol=1e-15)
    again = datasets.Scaling.from_json(s.to_json(), 2, 1)
    assert datasets.standardize(data, again).X.tobytes() == scaled.X.tobytes()
    with pytest.raises(ValueError, match=r"scaling: x_mean does not fit 3 columns"):
        datasets.Scaling.from_json(s.to_json(), 3, 1)
    assert "the inputs are of order 1.1e+03 ('a')" in datasets.scale_warning(data)
    assert datasets.scale_warning(scaled) is None


def test_standardize_leaves_class_targets_alone():
    data = datasets.spirals(n=30, seed=1)
    scaled = datasets.standardize(data)
    assert scaled.Y.tobytes() == data.Y.tobytes() and scaled.scaling.y_mean is None


def test_standardizing_columns_near_the_float_range_keeps_them(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("x,y\n1e308,1\n-1e308,2\n5e307,3\n0,4\n")
    data = datasets.standardize(datasets.load_csv(str(path)))
    assert np.isfinite(data.X).all() and np.ptp(data.X) > 1.0  # not zeroed
    assert np.isfinite(data.scaling.x_std).all()
    import json
    again = datasets.Scaling.from_json(json.loads(json.dumps(data.scaling.to_json())), 1, 1)
    np.testing.assert_array_equal(again.x_std, data.scaling.x_std)


def test_a_missing_class_label_is_named(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("x,label\n1,0\n2,nan\n3,1\n")
    with pytest.raises(ValueError, match=r"'label' has no class label in data row 2 \('nan'\)"):
        datasets.load_csv(str(path), classify=True)


def test_csv_classify_warns_at_diabetes_like_label_counts_and_not_at_digits_like(tmp_path):
    rng = np.random.default_rng(0)
    continuous = rng.permutation(np.r_[np.arange(214), rng.integers(0, 214, 332 - 214)])  # 214 labels, 332 rows
    path = write(tmp_path, "x,y\n" + "".join(f"{i},{v}\n" for i, v in enumerate(continuous)))
    with pytest.warns(UserWarning, match=r"'y' has 214 different labels in 332 rows"):
        datasets.load_csv(path, classify=True)
    digits = write(tmp_path, "x,y\n" + "".join(f"{i},{i % 10}\n" for i in range(300)), "digits.csv")
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert datasets.load_csv(digits, classify=True).Y.shape == (300, 10)


def test_csv_features_and_drop_choose_the_input_columns(tmp_path):
    path = write(tmp_path, "a,name,b,c,y\n1,x,2,3,4\n5,z,6,7,8\n")
    data = datasets.load_csv(path, drop=["name"])
    assert data.feature_names == ("a", "b", "c") and np.array_equal(data.X, [[1, 2, 3], [5, 6, 7]])
    data = datasets.load_csv(path, features=["c", "a"])
    assert data.feature_names == ("c", "a") and np.array_equal(data.X, [[3, 1], [7, 5]])
    with pytest.raises(ValueError, match="features: 'y' is also a target or dropped column"):
        datasets.load_csv(path, features=["a", "y"])
    with pytest.raises(ValueError, match="drop: no column named 'nope'"):
        datasets.load_csv(path, drop=["nope"])


@pytest.mark.parametrize("text, kwargs, hint", [
    ("x,kind\n1,dog\n2,cat\n", {}, r"'dog' is not a number \(class labels\? add --classify\)"),
    ("x,name,y\n1,bob,2\n2,ann,3\n", {}, r"'bob' is not a number \(a text column\? leave it out with --drop name\)"),
])
def test_csv_text_where_numbers_are_needed_gets_a_hint(tmp_path, text, kwargs, hint):
    with pytest.raises(ValueError, match=hint):
        datasets.load_csv(write(tmp_path, text), **kwargs)


def test_csv_labels_are_kept_in_output_order(tmp_path):
    path = write(tmp_path, "x,kind\n0.1,dog\n0.2,cat\n0.3,emu\n")
    assert datasets.load_csv(path, classify=True).labels == ("cat", "dog", "emu")
    numeric = write(tmp_path, "x,k\n1,3\n2,1.5\n3,3\n", "n.csv")
    assert datasets.load_csv(numeric, classify=True).labels == ("1.5", "3")


def test_read_inputs_takes_the_named_columns_and_the_targets_when_present(tmp_path):
    path = write(tmp_path, "b,a,y\n1,2,dog\n3,4,cat\n")
    X, truth = datasets.read_inputs(path, ("a", "b"), ("y",))
    assert np.array_equal(X, [[2, 1], [4, 3]]) and truth == [["dog"], ["cat"]]
    assert datasets.read_inputs(path, ("a",), ("missing",))[1] is None


def test_csv_whole_number_target_without_classify_gets_a_hint(tmp_path):
    path = write(tmp_path, "x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(30)))
    with pytest.warns(UserWarning, match=r"'y' holds 3 different whole numbers in 30 rows; class labels\?"):
        datasets.load_csv(path)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        datasets.load_csv(write(tmp_path, "x,y\n" + "".join(f"{i},{i * 0.5}\n" for i in range(30)), "r.csv"))
