"""Credit packs on sale (settings.CREDIT_PACKS) and what they are worth in plain words."""

from dataclasses import dataclass, replace

from django.conf import settings

CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def money(amount: int, currency: str) -> str:
    """600, "usd" -> "$6.00"; unknown currencies keep their code: "12.00 CHF"."""
    value = f"{amount / 100:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency.lower())
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


def signup_grant_styles() -> int:
    """How many styles the sign-up credits buy on a first avatar, training paid."""
    left = settings.CREDITS_SIGNUP_GRANT - settings.CREDITS_PRICE_TUNE
    return max(0, min(left // max(1, settings.CREDITS_PRICE_PROMPT), settings.FAIR_USE_MAX_PROMPTS))


EXAMPLE_STYLES = 6  # the example avatar when the sign-up credits buy no style


@dataclass(frozen=True)
class PriceStory:
    """The one description of what credits buy, told the same way on the landing, credits, buy
    and confirm pages. A "style" is one prompt: one of ours, or one the customer writes."""

    tune: int
    per_style: int
    images_per_style: int
    max_ours: int
    max_own: int
    max_styles: int
    signup_credits: int
    example_styles: int

    def cost(self, styles: int) -> int:
        """Credits for a new avatar with this many styles, training included."""
        return self.tune + self.per_style * styles

    @property
    def example_cost(self) -> int:
        return self.cost(self.example_styles)

    @property
    def full_cost(self) -> int:
        return self.cost(self.max_styles)


def price_story() -> PriceStory:
    free_styles = signup_grant_styles()
    return PriceStory(
        tune=settings.CREDITS_PRICE_TUNE,
        per_style=settings.CREDITS_PRICE_PROMPT,
        images_per_style=min(8, max(1, settings.IMAGES_PER_PROMPT)),
        max_ours=min(settings.FAIR_USE_MAX_THEME_PROMPTS, settings.FAIR_USE_MAX_PROMPTS),
        max_own=min(settings.FAIR_USE_MAX_CUSTOM_PROMPTS, settings.FAIR_USE_MAX_PROMPTS),
        max_styles=settings.FAIR_USE_MAX_PROMPTS,
        signup_credits=settings.CREDITS_SIGNUP_GRANT,
        example_styles=free_styles or min(EXAMPLE_STYLES, settings.FAIR_USE_MAX_PROMPTS),
    )


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
    def example_avatars(self) -> int:
        """How many avatars like the price story's example the pack pays for."""
        return self.credits // max(1, price_story().example_cost)

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
