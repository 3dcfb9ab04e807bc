from bench import bench_scale


def test_the_scale_benchmark_is_skipped_with_a_reason_without_postgresql(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///var/studio.sqlite3")

    assert bench_scale.run(size=100) == []
    assert "SKIPPED, it needs PostgreSQL" in capsys.readouterr().err
