"""Credit packs on sale (settings.CREDIT_PACKS) and what they are worth in plain words."""

from dataclasses import dataclass, replace

from django.conf import settings

CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def money(amount: int, currency: str) -> str:
    """600, "usd" -> "$6.00"; unknown currencies keep their code: "12.00 CHF"."""
    value = f"{amount / 100:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


def avatar_full_price() -> int:
    """Credits for one avatar with the most prompts fair use allows."""
    return settings.CREDITS_PRICE_TUNE + settings.FAIR_USE_MAX_PROMPTS * settings.CREDITS_PRICE_PROMPT


def signup_grant_styles() -> int:
    """How many styles the sign-up credits buy on a first avatar, training paid."""
    left = settings.CREDITS_SIGNUP_GRANT - settings.CREDITS_PRICE_TUNE
    return max(0, min(left // max(1, settings.CREDITS_PRICE_PROMPT), settings.FAIR_USE_MAX_PROMPTS))


@dataclass(frozen=True)
class CreditPack:
    slug: str
    name: str
    credits: int
    price: int  # smallest currency unit
    currency: str
    featured: bool = False
    saving: int = 0  # percent cheaper per credit than the first pack

    @property
    def price_display(self) -> str:
        return money(self.price, self.currency)

    @property
    def price_per_credit_display(self) -> str:
        return money(round(self.price / self.credits), self.currency)

    @property
    def full_avatars(self) -> int:
        return self.credits // avatar_full_price()

    @property
    def extra_prompts(self) -> int:
        return self.credits // settings.CREDITS_PRICE_PROMPT if settings.CREDITS_PRICE_PROMPT else 0


def credit_packs() -> list[CreditPack]:
    packs = [CreditPack(**pack) for pack in settings.CREDIT_PACKS]
    if not packs:
        return []
    base = packs[0].price / packs[0].credits
    return [replace(pack, saving=max(0, round(100 - 100 * pack.price / pack.credits / base))) for pack in packs]


def credit_pack_get(slug: str) -> CreditPack | None:
    return next((pack for pack in credit_packs() if pack.slug == slug), None)
