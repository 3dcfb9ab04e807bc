import factory

from studio.credits.models import CreditPurchase
from tests.factories import UserFactory


class PurchaseFactory(factory.django.DjangoModelFactory):
    """A pending purchase of the 50-credit pack, opened with Stripe."""

    class Meta:
        model = CreditPurchase

    user = factory.SubFactory(UserFactory)
    pack_slug = "plus"
    pack_name = "Plus"
    credits = 50
    price = 1200
    currency = "usd"
    provider = CreditPurchase.Provider.STRIPE
    provider_session_id = factory.Sequence(lambda n: f"cs_test_{n:06d}")
