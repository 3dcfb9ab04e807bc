"""The daily rollup behind the dashboard: the same figures as counting the records, safe to run
again, and late records picked up (the hand-counted shop is in tests/dashboard/factories.py)."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from studio.avatars.models import GeneratedImage, LikenessOutcome, Prompt
from studio.credits.models import CreditEntry, CreditPurchase, Wallet
from studio.dashboard.figures import ALL_TIME, dashboard_get
from studio.dashboard.models import DailyFigure, RolledUpDay
from studio.dashboard.rollups import rollup_refresh
from studio.dashboard.tasks import dashboard_rollup
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.dashboard.factories import at, avatar, ledger, prompts

pytestmark = pytest.mark.django_db
PERIODS = (7, 30, 90, ALL_TIME)


def shown(days: int, today) -> dict:
    """Every figure of the period the page shows, charts' tables included."""
    d = dashboard_get(days=days, today=today)
    charts = [d.credit_chart, d.avatar_chart, *d.revenue_charts]
    return {
        "credits": d.credits, "avatars": d.avatars, "revenue": d.revenue_totals, "purchases": d.purchases,
        "refunded": d.refunded_headlines,
        "spend": d.spend, "fair_use": d.fair_use, "charts": [[row.cells for row in c.table] for c in charts],
        "period": (d.period.start, d.period.end),
    }


def stored() -> set:
    return set(DailyFigure.objects.values_list("day", "metric", "key", "value"))


def test_the_dashboard_shows_the_same_figures_from_the_rollup_as_from_the_records(shop):
    live = {days: shown(days, shop.today) for days in PERIODS}

    rollup_refresh()

    assert RolledUpDay.objects.filter(day=shop.today - timedelta(days=1)).exists()
    assert RolledUpDay.objects.get(day=shop.today).up_to is not None  # today so far; the rest live
    assert {days: shown(days, shop.today) for days in PERIODS} == live


def test_closed_days_are_read_from_the_rollup(shop):
    rollup_refresh()
    # A purchase 40 days ago changed behind the studio's back: the stored day still holds.
    CreditPurchase.objects.filter(paid_at=at(shop.today, 40)).update(price=99_900)

    assert dashboard_get(days=90, today=shop.today).revenue_totals == ["$42.00"]


def test_running_the_rollup_again_changes_nothing(shop):
    rollup_refresh()
    first = stored()

    result = rollup_refresh()

    assert stored() == first and DailyFigure.objects.count() == len(first)
    assert result["days"] == 2  # only the closed days it always checks again


def test_a_late_refund_on_a_closed_day_is_picked_up_by_the_next_run(shop):
    rollup_refresh()
    # A refund whose transaction began before midnight and committed after the run.
    yesterday = at(shop.today, 1)
    CreditEntry.objects.create(
        user=shop.alice, kind="refund", amount=4, reason="refund", key="late-refund", created_at=yesterday
    )
    Wallet.objects.filter(user=shop.alice).update(balance=45 + 4)
    assert dashboard_get(days=7, today=shop.today).credits["refunded"] == 3

    rollup_refresh()

    week = dashboard_get(days=7, today=shop.today)
    assert week.credits["refunded"] == 7
    assert week.credit_chart.table[-2].cells == ["50", "0", "16", "4"]


def test_generating_more_on_an_old_tune_counts_towards_its_fair_use(shop):
    old = avatar(shop.alice, shop.today, "done", created=20, queued=20, submitted=20, finished=20, tune_id=77)
    prompts(old, shop.today, 2, days_ago=20)
    rollup_refresh()
    assert dashboard_get(days=30, today=shop.today).fair_use.prompts == 18

    more = Prompt.objects.filter(avatar=old).first()
    more.pk, more.position, more.astria_prompt_id = None, 99, 424242
    more.save()
    Prompt.objects.filter(pk=more.pk).update(submitted_at=timezone.now())
    rollup_refresh()

    month = dashboard_get(days=30, today=shop.today)
    assert month.fair_use.prompts == 19 and month.fair_use.tunes == 4


def test_a_day_the_rollup_has_not_reached_is_counted_live(shop):
    rollup_refresh()
    RolledUpDay.objects.filter(day=shop.today - timedelta(days=1)).delete()
    ledger(shop.carol, shop.today, ("grant", 6, 1))

    assert dashboard_get(days=7, today=shop.today).credits["granted"] == 6


def test_the_ledger_check_lists_wallets_off_and_drops_one_corrected_since(shop):
    rollup_refresh()
    week = dashboard_get(days=7, today=shop.today)
    assert [w.email for w in week.wallets] == ["carol@example.test"] and week.wallets_checked_at

    Wallet.objects.filter(user=shop.carol).update(balance=0)

    assert dashboard_get(days=7, today=shop.today).wallets == []


def test_beat_runs_the_rollup_and_its_task_reports_what_it_did(shop):
    assert settings.CELERY_BEAT_SCHEDULE["dashboard-rollup"]["task"] == dashboard_rollup.name

    result = dashboard_rollup.run()

    assert result["days"] == 40 and result["wallets_off"] == 1  # from 40 days ago to yesterday


def test_today_is_stored_up_to_the_run_and_what_came_since_is_counted_live(shop):
    rollup_refresh()
    # Bob's purchase this morning changed behind the studio's back: today's stored part holds.
    CreditPurchase.objects.filter(paid_at=at(shop.today, 0)).update(price=99_900)
    CreditEntry.objects.create(  # after the run
        user=shop.carol, kind="grant", amount=6, reason="grant", key="after-the-run", created_at=timezone.now()
    )

    week = dashboard_get(days=7, today=shop.today)

    assert week.revenue_totals == ["$18.00"]
    assert week.credits["granted"] == 6 and week.credit_chart.table[-1].cells[1] == "6"


def test_the_likeness_section_reads_the_same_from_the_rollup_as_from_the_records(shop):
    style = PromptFactory(avatar=shop.done, position=20, likeness_outcome=LikenessOutcome.REFUNDED)
    redo = PromptFactory(avatar=shop.done, position=21, price=0, redo_of=style,
                         likeness_outcome=LikenessOutcome.FAILED)
    for prompt, days_ago, scores in ((style, 3, (0.9, 0.2, 0.1)), (redo, 2, (0.3, 0.0))):
        Prompt.objects.filter(pk=prompt.pk).update(finished_at=at(shop.today, days_ago))
        for index, score in enumerate(scores):
            image = GeneratedImageFactory(prompt=prompt, avatar=shop.done, index=index, likeness=score,
                                          face_found=score > 0)
            GeneratedImage.objects.filter(pk=image.pk).update(created_at=at(shop.today, days_ago))

    def likeness(days: int):
        return dashboard_get(days=days, today=shop.today).likeness

    live = {days: likeness(days) for days in PERIODS}
    rollup_refresh()

    assert {days: likeness(days) for days in PERIODS} == live
    assert {metric for _, metric, _, _ in stored()} >= {"likeness_scored", "styles_judged", "styles_refunded"}
    week = likeness(7)
    assert (week.total.scored, week.total.strong, week.total.weak, week.total.no_face) == (5, 1, 3, 1)
    assert (week.total.styles, week.total.redone, week.total.refunded) == (1, 1, 1)  # the redo is not a style
