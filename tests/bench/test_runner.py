import json

import pytest

from bench import Figure, run


@pytest.mark.parametrize(
    ("value", "status"), [(90, "ok"), (100, "ok"), (150, "over budget"), (200, "over budget"), (201, "FAIL")]
)
def test_a_time_fails_only_past_twice_its_budget(value, status):
    assert Figure("t", value, "ms", budget=100).status == status


@pytest.mark.parametrize(("value", "status"), [(4, "ok"), (2, "over budget"), (1.5, "over budget"), (1.4, "FAIL")])
def test_a_ratio_fails_only_below_half_its_target(value, status):
    assert Figure("r", value, "x", budget=3, higher_is_better=True).status == status


def test_a_figure_without_budget_is_information():
    assert Figure("n", 5, "MB").status == ""


def test_the_runner_prints_writes_results_and_sets_the_exit_code(monkeypatch, tmp_path, capsys):
    class Module:
        figures: list = []

        @classmethod
        def run(cls):
            return cls.figures

    monkeypatch.setattr(run, "available", lambda: ["fake"])
    monkeypatch.setattr(run.importlib, "import_module", lambda name: Module)
    monkeypatch.setattr(run, "RESULTS", tmp_path / "results.json")

    Module.figures = [Figure("fake.fast", 120, "ms", budget=100), Figure("fake.info", 3, "MB")]
    assert run.main([]) == 0
    assert "fake.fast" in capsys.readouterr().out
    saved = json.loads((tmp_path / "results.json").read_text())
    assert [f["status"] for f in saved["figures"]] == ["over budget", ""]

    Module.figures = [Figure("fake.slow", 250, "ms", budget=100)]
    assert run.main([]) == 1


def test_the_last_results_print_as_a_markdown_table():
    results = {"figures": [Figure("web.gallery_cost_vs_bare", 53.8, "x", budget=75).as_dict(),
                           Figure("web.bare_rps", 1236.8, "req/s").as_dict()]}

    table = run.markdown(results).splitlines()

    assert table[2] == "| `web.gallery_cost_vs_bare` | 53.8 x | ≤ 75 x | ok |"
    assert table[3] == "| `web.bare_rps` | 1,236.8 req/s |  |  |"


def test_the_size_option_reaches_the_benchmarks_that_take_one(monkeypatch, tmp_path):
    sizes = []

    class Sized:
        @staticmethod
        def run(size=None):
            sizes.append(size)
            return []

    class Plain:
        @staticmethod
        def run():
            return []

    monkeypatch.setattr(run, "available", lambda: ["plain", "sized"])
    monkeypatch.setattr(run.importlib, "import_module", lambda name: Sized if name.endswith("sized") else Plain)
    monkeypatch.setattr(run, "RESULTS", tmp_path / "results.json")

    assert run.main(["--size", "2500"]) == 0 and run.main(["plain", "sized"]) == 0
    assert sizes == [2500, None]
