"""Random sequences of purchases, spends, refunds, adjustments and replays never break the books."""

import itertools

import pytest
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.core.exceptions import InsufficientCredits
from studio.credits import purchases, services
from studio.credits.models import CreditEntry, Wallet
from studio.credits.packs import credit_packs
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PACKS = [pack.slug for pack in credit_packs()]

operations = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.sampled_from(PACKS)),
        st.tuples(st.just("spend"), st.integers(min_value=1, max_value=60)),
        st.tuples(st.just("refund"), st.integers(min_value=1, max_value=20)),
        st.tuples(st.just("adjust"), st.integers(min_value=-40, max_value=40).filter(bool)),
        st.tuples(st.just("replay"), st.none()),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=operations)
def test_balance_always_equals_the_ledger_and_never_goes_negative(operations, stripe_off):
    user, staff = UserFactory(), UserFactory(is_staff=True)
    keys = (f"op:{user.pk}:{n}" for n in itertools.count())
    expected = 0
    replayable = []  # (callable, args) of postings that succeeded: repeating them must change nothing

    for op, value in operations:
        if op == "buy":
            url = purchases.purchase_start(user=user, pack_slug=value)
            purchase_id = url.rstrip("/").rsplit("/", 1)[-1]
            assert purchases.purchase_complete(purchase_id=purchase_id, event_id=f"test:{purchase_id}")
            expected += next(p.credits for p in credit_packs() if p.slug == value)
            replayable.append((purchases.purchase_complete, {"purchase_id": purchase_id, "event_id": "again"}))
        elif op == "spend":
            kwargs = {"user": user, "amount": value, "key": next(keys), "reason": "Avatar"}
            try:
                services.credit_spend(**kwargs)
            except InsufficientCredits:
                assert value > expected
            else:
                assert value <= expected
                expected -= value
                replayable.append((services.credit_spend, kwargs))
        elif op == "refund":
            kwargs = {"user": user, "amount": value, "key": next(keys), "reason": "Failed style"}
            assert services.credit_refund(**kwargs) is True
            expected += value
            replayable.append((services.credit_refund, kwargs))
        elif op == "adjust":
            kwargs = {"user": user, "amount": value, "reason": "Support", "staff_user": staff, "key": next(keys)}
            try:
                services.credit_adjust(**kwargs)
            except InsufficientCredits:
                assert -value > expected
            else:
                expected += value
                replayable.append((services.credit_adjust, kwargs))
        elif replayable:
            function, kwargs = replayable[-1]
            function(**kwargs)  # a retry, a double click, a redelivered task: no change, no error

        balance = Wallet.objects.filter(user=user).values_list("balance", flat=True).first() or 0
        ledger = CreditEntry.objects.filter(user=user).aggregate(total=Sum("amount"))["total"] or 0
        assert balance == ledger == expected
        assert balance >= 0
