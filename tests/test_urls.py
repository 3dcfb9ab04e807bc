"""The site's addresses are promises: Astria keeps the callback URL it was given with each job,
Stripe and uptime monitors are configured with theirs, and emails and bookmarks point at pages.
Rearranging the URL conf must never move one of them."""

import uuid

import pytest
from django.urls import resolve, reverse

from studio.avatars.callbacks import callback_url

ID = uuid.UUID("12345678-1234-5678-1234-567812345678")

PUBLIC_PATHS = [
    # Given to others
    ("astria_callback", {"token": "t0k3n"}, "/astria/callbacks/t0k3n/"),
    ("astria_callback_unslashed", {"token": "t0k3n"}, "/astria/callbacks/t0k3n"),
    ("stripe_webhook", {}, "/stripe/webhook/"),
    ("healthz", {}, "/healthz"),
    ("credits:purchase", {"purchase_id": ID}, f"/credits/purchases/{ID}/"),  # Stripe's success_url
    ("credits:purchase_cancelled", {"purchase_id": ID}, f"/credits/purchases/{ID}/cancelled/"),
    # In emails and bookmarks
    ("landing", {}, "/"),
    ("avatars:list", {}, "/avatars/"),
    ("avatars:detail", {"avatar_id": ID}, f"/avatars/{ID}/"),
    ("avatars:export", {"avatar_id": ID, "export_id": ID}, f"/avatars/{ID}/downloads/{ID}/"),
    ("photos:upload", {"avatar_id": ID}, f"/avatars/{ID}/photos/"),
    ("themes:styles", {"avatar_id": ID}, f"/avatars/{ID}/styles/"),
    ("prompt_search", {}, "/prompts/search/"),
    ("credits:history", {}, "/credits/"),
    ("credits:buy", {}, "/credits/buy/"),
    ("account:index", {}, "/account/"),
    ("support:privacy", {}, "/privacy/"),
    ("support:terms", {}, "/terms/"),
    ("support:faq", {}, "/faq/"),
    ("support:contact", {}, "/support/"),  # in every email's footer
    ("dashboard:index", {}, "/staff/dashboard/"),
]


@pytest.mark.parametrize(("name", "kwargs", "path"), PUBLIC_PATHS, ids=[name for name, _, _ in PUBLIC_PATHS])
def test_public_addresses_stay_where_they_were_handed_out(name, kwargs, path):
    assert reverse(name, kwargs=kwargs) == path
    match = resolve(path)
    assert match.view_name == name
    assert match.kwargs == kwargs


def test_astria_is_given_the_callback_address_under_the_public_url(settings):
    settings.PUBLIC_URL = "https://studio.example"

    assert callback_url("t0k3n") == "https://studio.example/astria/callbacks/t0k3n/"
