from django.conf import settings
from django.core.checks import Error, Warning, register

from studio.credits.packs import credit_packs


@register()
def credits_configuration(app_configs, **kwargs) -> list:
    problems = []
    if settings.STRIPE_SECRET_KEY and not settings.STRIPE_WEBHOOK_SECRET:
        problems.append(
            Error(
                "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: paid checkouts would never "
                "grant their credits.",
                hint="Add the signing secret (whsec_...) of the endpoint <PUBLIC_URL>/stripe/webhook/.",
                id="credits.E001",
            )
        )
    try:
        packs = credit_packs()
    except TypeError as error:
        return [*problems, Error(f"CREDIT_PACKS has an entry with unknown or missing keys: {error}", id="credits.E002")]
    slugs = [pack.slug for pack in packs]
    if len(set(slugs)) != len(slugs):
        problems.append(Error("CREDIT_PACKS has two packs with the same slug.", id="credits.E003"))
    if any(pack.credits <= 0 or pack.price <= 0 for pack in packs):
        problems.append(Error("Every pack in CREDIT_PACKS needs positive credits and price.", id="credits.E004"))
    if not packs:
        problems.append(Warning("CREDIT_PACKS is empty: nobody can buy credits.", id="credits.W001"))
    return problems


@register(deploy=True)
def credits_payments(app_configs, **kwargs) -> list:
    if settings.STRIPE_SECRET_KEY or settings.ALLOW_TEST_CHECKOUT:
        return []
    return [
        Error(
            "STRIPE_SECRET_KEY is not set and the test checkout is not allowed: nobody can buy credits.",
            hint="Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET. Only for a private test site: "
            "ALLOW_TEST_CHECKOUT=1 lets every signed-in user add credits without paying.",
            id="credits.E005",
        )
    ]
