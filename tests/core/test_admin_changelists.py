"""Every list in the admin costs the same number of queries for 1 row as for 30."""

import itertools
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from studio.avatars.models import AstriaTuneDeletion, Avatar, CallbackEvent, GeneratedImage, Prompt
from studio.credits.models import CreditEntry, CreditPurchase, PaymentEvent, Wallet
from studio.credits.services import credit_grant, wallet_get_or_create
from studio.photos.models import Photo
from studio.teams import services as team_services
from studio.teams.models import Invite, Membership, Organisation, TeamExport
from studio.themes.models import CustomPrompt, PromptIdea, Theme
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.credits.factories import PurchaseFactory
from tests.factories import UserFactory
from tests.photos.factories import PhotoFactory
from tests.themes.factories import CustomPromptFactory, PromptIdeaFactory, ThemeFactory

pytestmark = pytest.mark.django_db

_serial = itertools.count()


def _grant(user=None) -> None:
    credit_grant(user=user or UserFactory(), amount=5, key=f"grant:{next(_serial)}", reason="Welcome")


def _organisation() -> Organisation:
    return team_services.organisation_create(user=UserFactory(), name=f"Team {next(_serial)}")


def _callback_event() -> None:
    prompt = PromptFactory()
    CallbackEvent.objects.create(
        kind=CallbackEvent.Kind.PROMPT, avatar=prompt.avatar, prompt=prompt, digest=uuid.uuid4().hex, body="{}"
    )


# One new row of each model (with whatever related rows it shows in its list).
MAKE = {
    User: lambda: UserFactory(),
    Group: lambda: Group.objects.create(name=f"Group {next(_serial)}"),
    EmailAddress: lambda: UserFactory(),
    Wallet: lambda: wallet_get_or_create(user=UserFactory()),
    CreditEntry: _grant,
    CreditPurchase: lambda: PurchaseFactory(),
    PaymentEvent: lambda: PaymentEvent.objects.create(
        provider="stripe", event_id=f"evt_{next(_serial)}", type="checkout.session.completed", payload={}
    ),
    Avatar: lambda: PromptFactory().avatar,
    Prompt: lambda: PromptFactory(),
    GeneratedImage: lambda: GeneratedImageFactory(),
    CallbackEvent: _callback_event,
    AstriaTuneDeletion: lambda: AstriaTuneDeletion.objects.create(tune_id=next(_serial) + 1),
    Photo: lambda: PhotoFactory(),
    Theme: lambda: ThemeFactory(),
    PromptIdea: lambda: PromptIdeaFactory(),
    CustomPrompt: lambda: CustomPromptFactory(),
    Organisation: _organisation,
    Membership: _organisation,  # its owner's membership
    Invite: lambda: team_services.invite_link_create(
        organisation=_organisation(), created_by=UserFactory(), max_uses=5, days=7
    ),
    TeamExport: lambda: TeamExport.objects.create(organisation=_organisation()),
}


def test_every_registered_model_admin_is_checked():
    assert set(admin.site._registry) == set(MAKE)


def _changelist_queries(client, model) -> tuple[int, int]:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.context["cl"].result_count


@pytest.mark.parametrize("model", list(MAKE), ids=lambda model: model._meta.label)
def test_a_changelist_costs_the_same_for_1_and_for_30_rows(client, model):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    _grant(staff)  # the staff member's own wallet and ledger, so "1 row" lists hold rows too
    MAKE[model]()
    one, shown_one = _changelist_queries(client, model)

    for _ in range(29):
        MAKE[model]()
    thirty, shown_thirty = _changelist_queries(client, model)

    assert shown_thirty >= shown_one + 29
    assert thirty == one, f"{model._meta.label}: {one} queries for {shown_one} rows, {thirty} for {shown_thirty}"


def test_the_admin_turns_away_people_who_are_not_staff(client, user):
    avatars = reverse("admin:avatars_avatar_changelist")
    login = reverse("admin:login")

    anonymous = client.get(avatars)
    client.force_login(user)
    customer = client.get(avatars)

    for response in (anonymous, customer):
        assert response.status_code == 302 and response["Location"].startswith(login)
    assert client.get(reverse("admin:index")).status_code == 302
