"""Who may open what: every URL that takes an object id or a token, walked from the URL conf.

For each URL pattern with a parameter, the objects are made for user A (the `OBJECT_PARAMS`
registry below says how, per parameter name), then user B and an anonymous visitor ask for them,
with GET and POST, as a page and as an htmx request. They must get a 404 or the login page, never
the object, and nothing may change in the database. The owner (or staff, for the admin) opening the
same URL proves the objects are real and the URL reaches them.

A pattern with a parameter the registry does not know fails the walk, so a new URL cannot go in
without saying how to test it. Webhooks are the only views without CSRF protection.
"""

import re
import uuid
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.utils.regex_helper import normalize

from studio.avatars import callbacks, exports
from studio.avatars.models import (
    AstriaTuneDeletion,
    Avatar,
    AvatarState,
    CallbackEvent,
    GalleryExport,
    GeneratedImage,
    Prompt,
)
from studio.credits.models import CreditEntry, CreditPurchase, PaymentEvent, PaymentProvider, Wallet
from studio.credits.services import credit_grant, wallet_get_or_create
from studio.photos.models import Photo
from studio.teams import exports as team_exports
from studio.teams import services as team_services
from studio.teams.models import Invite, Membership, Organisation, TeamExport
from studio.themes import services as theme_services
from studio.themes.models import CustomPrompt, PromptIdea, Theme
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.credits.factories import PurchaseFactory
from tests.factories import AvatarFactory, UserFactory
from tests.photos.factories import ready_photos

pytestmark = pytest.mark.django_db

User = apps.get_model(settings.AUTH_USER_MODEL)


# --- Walking the URL conf -------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One endpoint of the URL conf: its regex (prefixes joined), its view and its parameters."""

    regex: str
    name: str
    view: Any

    @property
    def template(self) -> tuple[str, list[str]]:
        return normalize(self.regex)[0]

    @property
    def params(self) -> list[str]:
        return self.template[1]

    @property
    def is_admin(self) -> bool:
        return self.regex.startswith("^admin/") or self.regex.startswith("admin/")

    def url(self, values: dict[str, str]) -> str:
        path, _ = self.template
        return "/" + path % values

    def __str__(self) -> str:
        path = re.sub(r"%\((\w+)\)s", r"<\1>", self.template[0])
        return f"{self.name} (/{path})"


def walk(patterns=None, prefix: str = "", namespace: str = ""):
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        regex = prefix + pattern.pattern.regex.pattern.lstrip("^")
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from walk(pattern.url_patterns, regex, inner)
        elif isinstance(pattern, URLPattern):
            yield Route(regex=regex, name=f"{namespace}{pattern.name or '(unnamed)'}", view=pattern.callback)


ROUTES = list(walk())
WITH_PARAMS = [route for route in ROUTES if route.params]


# --- What A owns ------------------------------------------------------------------------------------


class Owner:
    """A user and, made on first use, real objects of theirs (files included)."""

    def __init__(self, label: str) -> None:
        self.user = UserFactory(email=f"{label}-{uuid.uuid4().hex[:8]}@example.test")
        self.marker = f"Secret {label} {uuid.uuid4().hex[:8]}"  # the avatar's name: must never leak

    @cached_property
    def avatar(self) -> Avatar:
        return AvatarFactory(user=self.user, name=self.marker)

    @cached_property
    def photo(self) -> Photo:
        (photo,) = ready_photos(self.avatar, 1)  # files included, as the images worker leaves them
        return photo

    @cached_property
    def custom_prompt(self) -> CustomPrompt:
        return theme_services.custom_prompt_add(avatar=self.avatar, text="me as a lighthouse keeper at dusk")

    @cached_property
    def image(self) -> GeneratedImage:
        Avatar.objects.filter(pk=self.avatar.pk).update(state=AvatarState.DONE)
        self.avatar.refresh_from_db()
        prompt = PromptFactory(avatar=self.avatar, text=f"portrait of {self.marker}")
        return GeneratedImageFactory(prompt=prompt, avatar=self.avatar, index=0)

    @cached_property
    def export(self) -> GalleryExport:
        self.image  # noqa: B018 (a zip needs an image in it)
        export = GalleryExport.objects.create(avatar=self.avatar, scope=GalleryExport.Scope.ALL)
        exports.export_build(export_id=str(export.pk))
        export.refresh_from_db()
        assert export.state == GalleryExport.State.READY
        return export

    @cached_property
    def purchase(self) -> CreditPurchase:
        return PurchaseFactory(user=self.user, provider=PaymentProvider.TEST, provider_session_id="")

    @cached_property
    def callback_token(self) -> str:
        """The avatar's Astria callback token, set up as submitting the avatar does."""
        nonce = callbacks.new_nonce()
        token = callbacks.token_for(kind="tune", nonce=nonce)
        Avatar.objects.filter(pk=self.avatar.pk).update(
            callback_nonce=nonce, callback_token_hash=callbacks.token_hash(token)
        )
        return token

    @cached_property
    def callback_event(self) -> CallbackEvent:
        assert callbacks.callback_record(token=self.callback_token, body=b'{"tune": {"id": 1}}')
        return CallbackEvent.objects.get(avatar=self.avatar)

    @cached_property
    def credit_entry(self) -> CreditEntry:
        return credit_grant(user=self.user, amount=5, key=f"access-test:{self.user.pk}", reason="For the test")

    @cached_property
    def organisation(self) -> Organisation:
        """A team A owns, named with A's marker; A's avatar is A's own team portrait, with a favourite."""
        organisation = team_services.organisation_create(user=self.user, name=self.marker)
        return organisation

    @cached_property
    def membership(self) -> Membership:
        membership = self.organisation.memberships.get(user=self.user)
        Membership.objects.filter(pk=membership.pk).update(avatar=self.avatar)
        GeneratedImage.objects.filter(pk=self.image.pk).update(is_favourite=True)
        return membership

    @cached_property
    def invite(self) -> Invite:
        return team_services.invite_link_create(
            organisation=self.organisation, created_by=self.user, max_uses=5, days=7
        )

    @cached_property
    def team_export(self) -> TeamExport:
        self.membership  # noqa: B018 (a team zip needs a member's favourite in it)
        export = team_exports.team_export_create(user=self.user, organisation=self.organisation)
        team_exports.team_export_build(export_id=export.pk)
        return export

    @cached_property
    def email_key(self) -> str:
        return EmailConfirmationHMAC(EmailAddress.objects.get(user=self.user)).key


ADMIN_OBJECTS = {
    Avatar: lambda owner: owner.avatar,
    Prompt: lambda owner: owner.image.prompt,
    GeneratedImage: lambda owner: owner.image,
    CallbackEvent: lambda owner: owner.callback_event,
    AstriaTuneDeletion: lambda owner: AstriaTuneDeletion.objects.create(tune_id=424242),
    Photo: lambda owner: owner.photo,
    Theme: lambda owner: Theme.objects.first(),  # the catalogue: nobody's in particular
    PromptIdea: lambda owner: PromptIdea.objects.first(),
    CustomPrompt: lambda owner: owner.custom_prompt,
    CreditEntry: lambda owner: owner.credit_entry,
    Wallet: lambda owner: wallet_get_or_create(user=owner.user),
    CreditPurchase: lambda owner: owner.purchase,
    PaymentEvent: lambda owner: PaymentEvent.objects.create(
        provider=PaymentProvider.STRIPE, event_id="evt_access", type="checkout.session.completed", payload={}
    ),
    User: lambda owner: owner.user,
    EmailAddress: lambda owner: EmailAddress.objects.get(user=owner.user),
    Group: lambda owner: Group.objects.create(name="Support"),
    Organisation: lambda owner: owner.organisation,
    Membership: lambda owner: owner.membership,
    Invite: lambda owner: owner.invite,
    TeamExport: lambda owner: owner.team_export,
}


def _admin_object(owner: Owner, route: Route, made: dict) -> str:
    model_admin = getattr(route.view, "model_admin", None)
    model = model_admin.model if model_admin else made.get("content_type_model")
    if model is None:
        pytest.fail(f"{route}: cannot tell which model its object_id is; teach _admin_object about it")
    if model not in ADMIN_OBJECTS:
        pytest.fail(f"{route}: add a factory for {model._meta.label} to ADMIN_OBJECTS in tests/test_access.py")
    return str(ADMIN_OBJECTS[model](owner).pk)


def _content_type(owner: Owner, route: Route, made: dict) -> str:
    made["content_type_model"] = Avatar
    return str(ContentType.objects.get_for_model(Avatar).pk)


@dataclass(frozen=True)
class Param:
    """How to make A's object for a URL parameter, and what the URL is about.

    `make(owner, route, made)` returns the value for A's real object. A `capability` is a secret
    that is itself the permission (a callback token, an emailed link): whoever holds it may use it,
    so the test sends `forge(owner, route, made)` instead, another object's token, which must open
    nothing. `public` values (a theme's slug) point at nothing private.
    """

    make: Any
    capability: bool = False
    public: bool = False
    forge: Any = None
    # allauth answers a forged emailed link with its "invalid link" page (200) rather than a 404.
    invalid_page_ok: bool = False


OBJECT_PARAMS: dict[str, Param] = {
    "avatar_id": Param(lambda owner, route, made: str(owner.avatar.pk)),
    "photo_id": Param(lambda owner, route, made: str(owner.photo.pk)),
    "image_id": Param(lambda owner, route, made: str(owner.image.pk)),
    "export_id": Param(lambda owner, route, made: str(owner.export.pk)),
    "prompt_id": Param(lambda owner, route, made: str(owner.custom_prompt.pk)),
    "purchase_id": Param(lambda owner, route, made: str(owner.purchase.pk)),
    "token": Param(
        lambda owner, route, made: owner.callback_token,
        capability=True,
        # The same server secret over the same nonce, for the other kind: well formed, owned by nothing.
        forge=lambda owner, route, made: callbacks.token_for(
            kind="prompt", nonce=Avatar.objects.get(pk=owner.avatar.pk).callback_nonce
        ),
    ),
    "key": Param(
        lambda owner, route, made: (
            default_token_generator.make_token(owner.user) if "uidb36" in made else owner.email_key
        ),
        capability=True,
        # A password-reset key made for someone else, or an email key whose signature is not ours.
        forge=lambda owner, route, made: (
            default_token_generator.make_token(UserFactory()) if "uidb36" in made else owner.email_key[:-6] + "AAAAAA"
        ),
        invalid_page_ok=True,
    ),
    # Teams: A's organisation (A its owner), A's own membership in it, its link and its zip.
    "organisation_id": Param(lambda owner, route, made: str(owner.organisation.pk)),
    "membership_id": Param(lambda owner, route, made: str(owner.membership.pk)),
    "invite_id": Param(lambda owner, route, made: str(owner.invite.pk)),
    "team_export_id": Param(lambda owner, route, made: str(owner.team_export.pk)),
    "invite_token": Param(
        lambda owner, route, made: team_services.invite_token(owner.invite),
        capability=True,
        # The same server secret over another nonce: well formed, an invitation of nobody.
        forge=lambda owner, route, made: team_services.invite_token(Invite(nonce=uuid.uuid4().hex)),
    ),
    "uidb36": Param(lambda owner, route, made: user_pk_to_url_str(owner.user), capability=True, invalid_page_ok=True),
    # The admin: every page there is for staff only, whatever the object.
    "object_id": Param(_admin_object),
    "id": Param(lambda owner, route, made: str(owner.user.pk)),
    "content_type_id": Param(_content_type),
    "app_label": Param(lambda owner, route, made: "avatars", public=True),
    "url": Param(lambda owner, route, made: "no-such-page/", public=True),
    "slug": Param(lambda owner, route, made: "golden-hour", public=True),
}

# Pages meant for anyone that take only public parameters (none today): name them here with why.
PUBLIC_PAGES: set[str] = set()


def _values(owner: Owner, route: Route, *, forged: bool = False) -> dict[str, str]:
    unknown = [name for name in route.params if name not in OBJECT_PARAMS]
    if unknown:
        pytest.fail(
            f"{route} takes {', '.join(unknown)}, which tests/test_access.py does not know: add "
            f"{'it' if len(unknown) == 1 else 'them'} to OBJECT_PARAMS with a factory that makes a real object"
        )
    made: dict[str, Any] = {}
    for name in route.params:
        param = OBJECT_PARAMS[name]
        made[name] = param.make(owner, route, made)
    if forged:
        for name in route.params:
            if OBJECT_PARAMS[name].forge:
                made[name] = OBJECT_PARAMS[name].forge(owner, route, made)
    return {name: made[name] for name in route.params}


# --- What counts as refused ---------------------------------------------------------------------------

POST_DATA = {
    "favourite": "1",
    "scope": "all",
    "text": "me as a pirate captain",
    "name": "Renamed",
    "password1": "a-new-unusual-passphrase-42",
    "password2": "a-new-unusual-passphrase-42",
}
LOGIN_PATHS = (reverse(settings.LOGIN_URL), reverse("admin:login"))


def is_login_redirect(response) -> bool:
    return response.status_code in (301, 302) and response["Location"].split("?")[0] in LOGIN_PATHS


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table but sessions (logging in writes one), as the database holds it."""
    skip = {"sessions.Session", "accounts.Session"}
    quote = connection.ops.quote_name
    tables = sorted({
        (model._meta.db_table, model._meta.pk.column) for model in apps.get_models(include_auto_created=True)
        if model._meta.label not in skip and not model._meta.proxy
    })
    rows = {}
    with connection.cursor() as cursor:
        for table, pk in tables:
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY {quote(pk)}")  # noqa: S608 (model tables)
            rows[table] = cursor.fetchall()
    return rows


def requests_for(url: str):
    """GET and POST, each as a page and as htmx would send it."""
    for method in ("get", "post"):
        for htmx in (False, True):
            headers = {"HX-Request": "true"} if htmx else {}
            yield f"{method.upper()}{' (htmx)' if htmx else ''}", method, headers


def send(client: Client, method: str, url: str, headers: dict):
    if method == "get":
        return client.get(url, headers=headers)
    return client.post(url, POST_DATA, headers=headers)


def leaks(response, owner: Owner) -> list[str]:
    body = b"" if getattr(response, "streaming", False) else response.content
    found = [what for what in (owner.user.email, owner.marker) if what.encode() in body]
    if getattr(response, "streaming", False) or response.get("Content-Disposition"):
        found.append("a file")
    return found


def assert_refused(response, *, who: str, what: str, owner: Owner, lenient: str = "", a_ids=()) -> None:
    """404 or the login page. `lenient`: "invalid_page" also takes allauth's "this link is invalid"
    page; "own_objects" (B's own avatar with A's child id) also takes an answer about B's own objects
    (a redirect to B's page, B's page itself): what matters there is that A's object is not shown or
    touched, which the leak check here and the database check after it see."""
    status = response.status_code
    assert not leaks(response, owner), f"{who} {what}: the answer ({status}) shows {leaks(response, owner)}"
    if status == 404 or is_login_redirect(response):
        return
    if status == 405:  # the method is not allowed at all: nothing was looked up
        return
    if lenient == "invalid_page" and status == 200:
        return
    segments = set(re.split(r"[/?#&=]", response.get("Location", "")))
    if lenient == "own_objects" and status < 400 and not segments & set(a_ids):
        return  # e.g. removing a prompt that is not (or no longer) on B's avatar: back to B's styles page
    pytest.fail(f"{who} {what} got {status}{' ' + response.get('Location', '') if status in (301, 302) else ''}; "
                f"expected 404 or the login page (it shows: {leaks(response, owner) or 'nothing of A'})")


# --- The walk -------------------------------------------------------------------------------------------


def test_the_walk_finds_the_urls_it_must_cover():
    names = {route.name for route in WITH_PARAMS}
    assert {
        "avatars:detail", "avatars:image", "avatars:export", "avatars:edit", "avatars:edit_more",
        "avatars:edit_extend", "avatars:edit_bigger", "avatars:edit_touchup", "avatars:profile_picture",
        "photos:image", "photos:delete",
        "themes:custom_remove", "credits:checkout", "credits:purchase", "astria_callback",
        "account_confirm_email", "admin:avatars_avatar_change",
        "teams:manage", "teams:favourite", "teams:export", "teams:join", "teams:member_remove", "teams:delete",
        "teams:rename", "teams:member_role", "teams:owner_transfer",
    } <= names


@pytest.mark.parametrize("route", WITH_PARAMS, ids=str)
def test_another_user_and_an_anonymous_visitor_get_nothing(route, settings):
    settings.STRIPE_SECRET_KEY = ""  # the local test checkout exists, so its page could be shown
    theme_services.catalogue_sync()
    alice, bob = Owner("alice"), Owner("bob")
    kinds = {name: OBJECT_PARAMS[name] for name in route.params if name in OBJECT_PARAMS}
    capability = any(param.capability for param in kinds.values())
    if route.name in PUBLIC_PAGES or (kinds and all(param.public for param in kinds.values()) and not route.is_admin):
        pytest.skip(f"{route} is public by design")

    values = _values(alice, route, forged=capability)
    url = route.url(values)
    assert resolve(url).func is route.view, f"{url} does not lead back to {route}"
    lenient = "invalid_page" if any(param.invalid_page_ok for param in kinds.values()) else ""

    bob_client, anonymous = Client(), Client()
    bob_client.force_login(bob.user)
    attempts = [("user B", bob_client, url, lenient), ("an anonymous visitor", anonymous, url, lenient)]
    # B's own objects with one of A's swapped in: /avatars/<B's>/images/<A's>/ must not reach A's image.
    owned = [name for name in route.params if not (kinds[name].public or kinds[name].capability)]
    if len(owned) > 1 and not route.is_admin:
        mine = _values(bob, route)
        for name in owned:
            mixed = route.url({**mine, name: values[name]})
            attempts.append((f"user B (own ids, A's {name})", bob_client, mixed, "own_objects"))

    before = snapshot()
    for who, client, target, leniency in attempts:
        for what, method, headers in requests_for(target):
            response = send(client, method, target, headers)
            assert_refused(
                response, who=who, what=f"{what} {target}", owner=alice, lenient=leniency, a_ids=values.values()
            )
    assert snapshot() == before, f"{route}: a refused request changed the database"

    # The owner (staff for the admin) reaches the same objects through the same URL: the test is real.
    if all(param.public for param in kinds.values()):
        return  # nothing of A's in this URL (the admin's app index and catch-all)
    owner = Client()
    if route.is_admin:
        owner.force_login(UserFactory(is_staff=True, is_superuser=True))
    else:
        owner.force_login(alice.user)
    real = route.url(_values(alice, route)) if capability else url
    response = owner.get(real)
    if response.status_code == 405:
        response = owner.post(real, POST_DATA)
    assert response.status_code != 404 and not is_login_redirect(response), (
        f"{route}: the owner got {response.status_code} at {real}, so the objects the test made are not "
        f"what the URL serves; fix its factory in OBJECT_PARAMS"
    )


# --- Astria's callbacks --------------------------------------------------------------------------------


@pytest.fixture
def owner(db) -> Owner:
    owner = Owner("alice")
    owner.callback_token  # noqa: B018
    return owner


def _post_callback(token: str):
    body = b'{"tune": {"id": 1, "trained_at": "2026-01-01T00:00:00Z"}}'
    return Client().post(reverse("astria_callback", args=[token]), body, content_type="application/json")


def forged_tokens(owner: Owner, settings) -> dict[str, str]:
    """Tokens shaped like the real one that belong to no live object."""
    avatar = Avatar.objects.get(pk=owner.avatar.pk)
    gone = Owner("carol")
    gone_token = gone.callback_token
    Avatar.objects.filter(pk=gone.avatar.pk).delete()
    real_secret = settings.SECRET_KEY
    settings.SECRET_KEY = "another-server-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
    other_server = callbacks.token_for(kind="tune", nonce=avatar.callback_nonce)
    settings.SECRET_KEY = real_secret
    return {
        "same-nonce-other-kind": callbacks.token_for(kind="prompt", nonce=avatar.callback_nonce),
        "the-stored-hash": avatar.callback_token_hash,
        "a-deleted-avatars-token": gone_token,
        "another-servers-secret": other_server,
        "upper-case": owner.callback_token.upper(),
    }


@pytest.mark.parametrize(
    "forgery", ["same-nonce-other-kind", "the-stored-hash", "a-deleted-avatars-token", "another-servers-secret",
                "upper-case"]
)
def test_a_callback_with_another_objects_token_is_404_and_writes_nothing(
    forgery, owner, settings, django_capture_on_commit_callbacks
):
    token = forged_tokens(owner, settings)[forgery]
    assert token != owner.callback_token
    before = snapshot()

    with django_capture_on_commit_callbacks() as enqueued:
        response = _post_callback(token)

    assert response.status_code == 404
    assert snapshot() == before
    assert enqueued == []


def test_the_callback_with_its_own_token_is_recorded(owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as enqueued:
        response = _post_callback(owner.callback_token)

    assert response.status_code == 200
    assert CallbackEvent.objects.filter(avatar=owner.avatar).count() == 1
    assert len(enqueued) == 1


# --- CSRF ------------------------------------------------------------------------------------------------

WEBHOOKS = {"astria_callback", "astria_callback_unslashed", "stripe_webhook"}


def test_only_the_webhooks_are_exempt_from_csrf():
    exempt = {route.name for route in ROUTES if getattr(route.view, "csrf_exempt", False)}

    assert exempt == WEBHOOKS, (
        f"csrf_exempt views: {sorted(exempt)}. Only webhooks (authenticated by a token or a signature) may "
        f"skip CSRF protection."
    )


def test_the_webhooks_refuse_a_get():
    for route in ROUTES:
        if route.name in WEBHOOKS:
            values = {name: "x" * 64 for name in route.params}
            assert Client().get(route.url(values)).status_code == 405, route


def test_a_form_post_without_the_csrf_token_is_refused(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    avatar = AvatarFactory(user=user, name="Ada")

    response = client.post(reverse("avatars:delete", args=[avatar.pk]))

    assert response.status_code == 403
    assert Avatar.objects.filter(pk=avatar.pk).exists()

