"""fastgrad bench: the grid end to end, comparisons, partial runs and bad input."""
import json
import os

import pytest
from click.testing import CliRunner

from fastgrad import benchmark
from fastgrad.cli import cli


@pytest.mark.slow
def test_quick_bench_writes_json_markdown_and_plots(tmp_path):
    prefix = str(tmp_path / "b")
    result = CliRunner().invoke(cli, ["bench", "--quick", "--quiet", "--out", prefix])
    assert result.exit_code == 0, result.output
    data = json.load(open(prefix + ".json"))
    assert data["partial"] is False
    names = {(r["group"], r["name"]) for r in data["results"]}
    assert ("1-10-1 n=25", "numerical/python") in names and ("4-16-2 n=100", "analytic/numba") in names
    assert data["environment"]["threading_layer"] and "allocator" in data["environment"]
    for r in data["results"]:
        assert r["median"] > 0 and r["rounds"] >= 3
        if r["name"].startswith("numerical"):
            assert r["rel_error"] < 1e-6
    assert set(data["growth_exponents"]) >= {"numerical/numpy", "analytic/numba"}
    table = open(prefix + ".md").read()
    assert "| size | backend | threads | median | IQR | × python | × numpy |" in table
    for png in ("-scaling.png", "-threads.png"):
        assert open(prefix + png, "rb").read(4) == b"\x89PNG"
    again = CliRunner().invoke(cli, ["bench", "--sizes", "1-10-1:25", "--backends", "numba,numpy", "--quiet",
                                     "--out", str(tmp_path / "c"), "--compare", prefix + ".json"])
    assert again.exit_code == 0, again.output
    assert "Compared with" in again.output and "x the old time" in again.output


def test_interrupted_grid_returns_what_it_measured():
    seen = []

    def stop_after_two(result):
        seen.append(result)
        if len(seen) == 2:
            raise KeyboardInterrupt

    results, partial = benchmark.run_grid(["1-3-1:5"], ("numba", "numpy", "analytic-numba"), [1],
                                          progress=stop_after_two, min_seconds=0.0)
    assert partial and len(results) == 2


@pytest.mark.parametrize("args,message", [
    (["--sizes", "8-64"], "sizes: expected a spec like 8-64-4:1000"),
    (["--sizes", "0-4-1:10"], "sizes: widths and samples must be >= 1"),
    (["--backends", "cuda"], "--backends: unknown backend 'cuda'"),
    (["--threads", "0"], "Invalid value for '--threads'"),
    (["--out", "/nonexistent/dir/b"], "cannot write there"),
])
def test_bad_bench_input(args, message):
    result = CliRunner().invoke(cli, ["bench", "--quick", "--quiet", *args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and message in result.output
    assert result.output.strip().count("\n") == 0


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"results": [{"median": 1}]}',
                                     '{"results": [{"group": "g", "name": "n", "threads": 1, "median": "slow"}]}',
                                     '{"results": [{"group": "g", "name": "n", "threads": 1.5, "median": 1}]}'])
def test_malformed_compare_file_is_refused_before_the_run(tmp_path, monkeypatch, content):
    from fastgrad import benchmark
    monkeypatch.setattr(benchmark, "run_grid", lambda *a, **k: pytest.fail("the run started"))
    bad = tmp_path / "old.json"
    bad.write_text(content)
    result = CliRunner().invoke(cli, ["bench", "--quick", "--quiet", "--out", str(tmp_path / "b"),
                                      "--compare", str(bad)])
    assert result.exit_code == 2 and "--compare:" in result.output and "not a fastgrad bench JSON" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not os.path.exists(tmp_path / "b.json")


def test_bench_interrupted_before_measuring_keeps_the_previous_result(tmp_path, monkeypatch):
    prefix = str(tmp_path / "prev")
    with open(prefix + ".json", "w") as f:
        f.write('{"partial": false, "results": ["earlier"]}')
    monkeypatch.setattr(benchmark, "run_grid", lambda *args, **kwargs: ([], True))
    result = CliRunner().invoke(cli, ["bench", "--quick", "--quiet", "--out", prefix])
    assert result.exit_code == 130
    assert "Interrupted before anything was measured; no file written." in result.output
    assert open(prefix + ".json").read() == '{"partial": false, "results": ["earlier"]}'
    assert sorted(os.listdir(tmp_path)) == ["prev.json"]
