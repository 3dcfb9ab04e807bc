from datetime import date, timedelta

import pytest

from studio.dashboard import charts
from studio.dashboard.charts import BASELINE, PLOT_HEIGHT, Series, nice_step, time_chart

DAYS = [date(2026, 3, 1) + timedelta(days=i) for i in range(4)]


@pytest.mark.parametrize(
    ("peak", "top"),
    [(0, 4), (3, 4), (5, 8), (10, 12), (40, 40), (41, 60), (99, 100), (123, 160), (3600, 4000), (12345, 16000)],
)
def test_the_scale_ends_on_a_round_number_at_or_above_the_peak(peak, top):
    assert nice_step(peak) * charts.GRIDLINES == top


@pytest.mark.parametrize(("peak", "top"), [(0, 400), (600, 800), (1200, 1200), (7800, 8000), (250_000, 320_000)])
def test_money_in_cents_gets_gridlines_on_whole_dollars(peak, top):
    assert nice_step(peak, unit=100) * charts.GRIDLINES == top


def test_bars_are_as_tall_as_their_value_and_zero_draws_nothing():
    chart = time_chart(id="c", title="Sales", kind="bar", days=DAYS, series=[Series("sold", "Sold", [0, 2, 4, 1])])

    assert [tick.label for tick in chart.ticks] == ["0", "1", "2", "3", "4"]
    assert [bar.height for bar in chart.bars] == [PLOT_HEIGHT / 2, PLOT_HEIGHT, PLOT_HEIGHT / 4]
    assert all(bar.y + bar.height == BASELINE for bar in chart.bars)
    assert [bar.x for bar in chart.bars] == ["28.000%", "53.000%", "78.000%"]  # 3 of 4 slots, centred
    assert [bar.title for bar in chart.bars] == ["2 Mar: 2 sold", "3 Mar: 4 sold", "4 Mar: 1 sold"]
    assert not chart.empty


def test_grouped_bars_share_their_day():
    series = [Series("done", "Done", [1]), Series("failed", "Failed", [1])]
    chart = time_chart(id="c", title="Avatars", kind="bar", days=DAYS[:1], series=series)

    done, failed = chart.bars
    assert float(done.x[:-1]) < float(failed.x[:-1]) < 100
    assert float(failed.x[:-1]) + float(failed.width[:-1]) <= 100


def test_lines_join_one_point_per_day_in_the_middle_of_each_slot():
    chart = time_chart(id="c", title="Credits", kind="line", days=DAYS, series=[Series("spent", "Spent", [4, 0, 2, 4])])

    assert [point.x for point in chart.points] == ["12.500%", "37.500%", "62.500%", "87.500%"]
    top, half = BASELINE - PLOT_HEIGHT, BASELINE - PLOT_HEIGHT / 2
    assert [point.y for point in chart.points] == [top, BASELINE, half, top]
    assert [(s.x1, s.x2) for s in chart.segments] == [
        ("12.500%", "37.500%"),
        ("37.500%", "62.500%"),
        ("62.500%", "87.500%"),
    ]


def test_the_text_alternatives_say_the_totals_and_the_numbers_of_every_day():
    chart = time_chart(
        id="c",
        title="Credits",
        kind="line",
        days=DAYS,
        series=[Series("sold", "Sold", [1000, 0, 0, 200]), Series("spent", "Spent", [0, 5, 0, 1])],
    )

    assert chart.description == "Totals from 1 Mar to 4 Mar 2026: sold 1,200, spent 6. The busiest day was 1 Mar."
    assert [(row.day, row.cells) for row in chart.table][:2] == [(DAYS[0], ["1,000", "0"]), (DAYS[1], ["0", "5"])]
    assert chart.totals == ["1,200", "6"]
    assert [(item.label, item.total) for item in chart.legend] == [("Sold", "1,200"), ("Spent", "6")]


def test_an_empty_period_says_so():
    series = [Series("revenue", "Revenue", [0] * 4)]
    chart = time_chart(id="c", title="Revenue", kind="bar", days=DAYS, series=series, empty_text="no sales")

    assert chart.empty and chart.bars == []
    assert chart.description == "From 1 Mar to 4 Mar 2026: no sales."


def test_day_labels_always_name_the_last_day_and_stay_few():
    days = [date(2026, 1, 1) + timedelta(days=i) for i in range(90)]
    chart = time_chart(id="c", title="t", kind="line", days=days, series=[Series("sold", "Sold", [1] * 90)])

    assert chart.day_marks[-1].label == "31 Mar"
    assert len(chart.day_marks) <= charts.MAX_DAY_LABELS
    assert chart.dense


def test_a_series_must_have_one_value_per_day():
    with pytest.raises(ValueError, match="one value per day"):
        time_chart(id="c", title="t", kind="bar", days=DAYS, series=[Series("sold", "Sold", [1, 2])])
