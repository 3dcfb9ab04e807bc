"""The dashboard's figures for one period, against the hand-counted shop (tests/dashboard/conftest.py)."""

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from studio.avatars.models import AvatarState, GeneratedImage, LikenessOutcome, Prompt
from studio.credits.models import CreditPurchase
from studio.dashboard import rollups
from studio.dashboard.figures import ALL_TIME, BranchSpend, Gauge, _headline, dashboard_get, likeness_figures
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.dashboard.factories import ledger, paid, refund
from tests.factories import AvatarFactory

pytestmark = pytest.mark.django_db


def test_a_week_of_credits_and_money(shop):
    week = dashboard_get(days=7, today=shop.today)

    assert week.credits == {"sold": 70, "granted": 0, "spent": 26, "refunded": 3}
    assert week.revenue_totals == ["$18.00"] and week.purchases == 2
    # Today: Bob's purchase and spend, Alice's refund; yesterday: Alice's purchase and spend.
    assert week.credit_chart.table[-1].cells == ["20", "0", "10", "3"]
    assert week.credit_chart.table[-2].cells == ["50", "0", "16", "0"]
    # Revenue and, beside it, what was refunded at Stripe each day (Alice's $6.00, today).
    assert [row.cells for row in week.revenue_charts[0].table][-2:] == [["$12.00", "$0.00"], ["$6.00", "$6.00"]]
    assert [(item.label, item.total) for item in week.revenue_charts[0].legend] == [
        ("Revenue", "$18.00"), ("Refunded", "$6.00")
    ]


def test_a_currency_only_refunded_in_the_period_gets_its_chart_but_no_revenue_figure(shop):
    euros = paid(shop.carol, shop.today, 500, 40)
    CreditPurchase.objects.filter(pk=euros.pk).update(currency="eur")
    refund(CreditPurchase.objects.get(pk=euros.pk), shop.today, 500, 2)

    week = dashboard_get(days=7, today=shop.today)

    assert [chart.title for chart in week.revenue_charts] == ["Revenue per day (EUR)", "Revenue per day (USD)"]
    assert week.revenue_charts[0].totals == ["€0.00", "€5.00"]
    assert week.revenue_headlines == ["$18.00"]


def test_longer_periods_reach_further_back(shop):
    month = dashboard_get(days=30, today=shop.today)
    quarter = dashboard_get(days=90, today=shop.today)

    assert (month.credits["granted"], month.revenue_totals) == (8, ["$18.00"])
    assert (quarter.credits["granted"], quarter.revenue_totals, quarter.purchases) == (16, ["$42.00"], 3)
    assert quarter.revenue_charts[0].totals == ["$42.00", "$18.00"]  # Bob's $12.00 refund, 35 days ago
    assert len(quarter.credit_chart.table) == 90 and quarter.period.start == shop.today - timedelta(days=89)


def test_a_week_of_avatars(shop):
    week = dashboard_get(days=7, today=shop.today)

    assert week.avatars == {"created": 4, "paid": 3, "done": 1, "failed": 1}
    assert week.failure_rate == "50%"
    assert week.avatar_chart.table[-1].cells == ["3", "2", "1", "1"]


def test_astria_spend_is_priced_per_branch_from_settings(shop, settings):
    week = dashboard_get(days=7, today=shop.today)

    assert week.spend == [
        BranchSpend("fast", tunes=1, prompts=0, tune_cost=Decimal("0"), prompt_cost=Decimal("0")),
        BranchSpend("sd15", tunes=2, prompts=16, tune_cost=Decimal("1.50"), prompt_cost=Decimal("0.10")),
    ]
    assert week.spend_total == "$4.60" and week.spend_complete

    settings.ASTRIA_COST_PER_TUNE = {"sd15": Decimal("2")}
    repriced = dashboard_get(days=7, today=shop.today)
    assert [row.spend_display for row in repriced.spend] == ["no price set", "$5.60"]
    assert repriced.spend_total == "$5.60" and not repriced.spend_complete


def test_the_fair_use_meter(shop):
    week = dashboard_get(days=7, today=shop.today)

    assert (week.fair_use.tunes, week.fair_use.prompts, week.fair_use.images) == (3, 16, 128)
    assert week.prompts_gauge == Gauge(5.3, 14) and week.images_gauge == Gauge(42.7, 112)
    assert week.prompts_gauge.state == "ok"
    assert Gauge(13, 14).state == "near" and Gauge(15, 14).state == "over"
    assert (Gauge(15, 14).fill, Gauge(15, 14).mark) == ("85.71%", "80.00%")  # past the limit mark
    assert (Gauge(30, 14).fill, Gauge(30, 14).mark) == ("95.24%", "44.44%")


def test_pending_jobs_failures_and_wallets(shop):
    week = dashboard_get(days=7, today=shop.today)

    assert [avatar.name for avatar in week.pending] == ["Stuck", shop.training.name]
    assert week.pending_count == 2
    assert week.failed_avatars == [shop.failed]
    assert [prompt.failure_reason for prompt in week.failed_prompts] == ["Refused by the safety filter"]
    assert week.failed_prompt_count == 1
    assert [(w.email, w.balance, w.ledger_sum, w.difference_display) for w in week.wallets] == [
        ("carol@example.test", 5, 0, "+5")
    ]


def test_the_revenue_figure_drops_the_cents_from_a_thousand_up():
    assert [_headline(cents, "usd") for cents in (65_400, 99_999, 102_049)] == ["$654.00", "$999.99", "$1,020"]
    assert _headline(250_000, "chf") == "2,500 CHF"


def _scored(avatar, prompt, scores, *, at, outcome=LikenessOutcome.PASSED, redo_of=None):
    Prompt.objects.filter(pk=prompt.pk).update(likeness_outcome=outcome, finished_at=at, redo_of=redo_of)
    for index, score in enumerate(scores):
        image = GeneratedImageFactory(prompt=prompt, avatar=avatar, index=index, likeness=score,
                                      face_found=score is not None and score > 0)
        GeneratedImage.objects.filter(pk=image.pk).update(created_at=at)


def test_likeness_per_day_and_branch_with_its_redo_and_refund_rates(user):
    today = timezone.localdate()
    noon = timezone.make_aware(datetime.combine(today, time(12)))
    flux = AvatarFactory(user=user, state=AvatarState.DONE, branch="flux1")
    fast = AvatarFactory(user=user, state=AvatarState.DONE, branch="fast")
    good, bad = PromptFactory(avatar=flux, position=0), PromptFactory(avatar=flux, position=1)
    redo = PromptFactory(avatar=flux, position=2, price=0)
    _scored(flux, good, [0.9, 0.85, 0.6, 0.2], at=noon)
    _scored(flux, bad, [0.1, 0.0], at=noon, outcome=LikenessOutcome.REFUNDED)
    _scored(flux, redo, [0.3, 0.2], at=noon, outcome=LikenessOutcome.FAILED, redo_of=bad)
    _scored(fast, PromptFactory(avatar=fast), [0.95], at=noon - timedelta(days=1))
    PromptFactory(avatar=fast, position=9)  # a pet's style: not scored, not judged

    figures = likeness_figures(rollups.figures_for(today - timedelta(days=6), today))

    assert [(row.day, row.branch) for row in figures.rows] == [
        (today, "flux1"), (today - timedelta(days=1), "fast")]
    flux_day = figures.rows[0]
    assert (flux_day.scored, flux_day.strong, flux_day.good, flux_day.weak, flux_day.no_face) == (8, 2, 1, 4, 1)
    assert flux_day.distribution[0] == ("Strong", "25%", 2)
    assert (flux_day.styles, flux_day.redone, flux_day.refunded) == (2, 1, 1)  # the redo is not a style
    assert (flux_day.redo_rate, flux_day.refund_rate) == ("50%", "50%")
    assert (figures.total.scored, figures.total.styles, figures.total.redo_rate) == (9, 3, "33%")
    assert likeness_figures(rollups.figures_for(today - timedelta(days=30), today - timedelta(days=2))).rows == []


def test_all_time_past_three_months_is_charted_per_week_with_the_same_totals(shop):
    ledger(shop.carol, shop.today, ("grant", 6, 200))

    everything = dashboard_get(days=ALL_TIME, today=shop.today)

    assert everything.period.start == shop.today - timedelta(days=200) and everything.period.all_time
    assert everything.credit_chart.title == "Credits per week" and everything.credit_chart.per == "week"
    weeks = everything.credit_chart.table
    assert 29 <= len(weeks) <= 30 and all(row.day.weekday() == 0 for row in weeks[1:])
    assert weeks[0].cells[1] == "6"  # the first week holds the grant of its first day
    assert everything.credits == {"sold": 70, "granted": 22, "spent": 26, "refunded": 3}
    assert "The busiest week was the week of" in everything.credit_chart.description


def test_edits_are_counted_with_the_credits_they_cost(shop):
    avatar = AvatarFactory(state=AvatarState.DONE)
    source = GeneratedImageFactory(prompt=PromptFactory(avatar=avatar), avatar=avatar, index=0)
    for kind, price, batch, refunded in (
        ("more", 1, 1, False), ("more", 1, 2, False), ("bigger", 2, 3, False),
        ("extend", 2, 5, False), ("touchup", 3, 6, True), ("touchup", 3, 7, False),
    ):
        PromptFactory(
            avatar=avatar, batch=batch, position=0, kind=kind, source_image=source, price=price, refunded=refunded
        )
    old = PromptFactory(avatar=avatar, batch=4, position=0, kind="bigger", source_image=source, price=2)
    Prompt.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))

    week = dashboard_get(days=7, today=timezone.localdate())

    assert [(e.kind, e.ordered, e.credits, e.refunded, e.net) for e in week.edits] == [
        ("More like this", 2, 2, 0, 2), ("Extend", 1, 2, 0, 2), ("Bigger", 1, 2, 0, 2), ("Touch-up", 2, 6, 3, 3),
    ]
