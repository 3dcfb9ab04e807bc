import pytest

from studio.credits.services import credit_grant
from studio.teams import services
from tests.factories import UserFactory
from tests.photos.factories import ready_photos


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@acme.test")


@pytest.fixture
def team(catalogue, owner, settings):
    """Acme, with 100 credits in its pool; members take 2 styles (2 + 2 x 1 = 4 credits each)."""
    settings.IMAGES_PER_PROMPT = 2
    organisation = services.organisation_create(user=owner, name="Acme")
    services.organisation_set_styles(
        organisation=organisation,
        theme_slugs=["corporate-headshot", "golden-hour", "film-noir"],
        styles_per_member=2,
        house_background="plain light grey studio background",
    )
    credit_grant(user=owner, pool=organisation.pool, amount=100, key=f"test:{organisation.pk}", reason="For the test")
    return organisation


@pytest.fixture
def join(team, owner):
    """A user joins the team through a shareable link (made for the purpose)."""

    def join(user, organisation=None):
        organisation = organisation or team
        invite = services.invite_link_create(organisation=organisation, created_by=owner, max_uses=1, days=7)
        return services.invite_accept(user=user, token=services.invite_token(invite))

    return join


@pytest.fixture
def member_draft(join):
    """A member with their team avatar: joined, started, with accepted photos; ready to confirm."""

    def make(email: str = "ada@acme.test", *, name: str = "Ada"):
        user = UserFactory(email=email)
        membership = join(user)
        avatar = services.team_avatar_start(
            user=user, organisation_id=membership.organisation_id, name=name, subject_class="woman"
        )
        ready_photos(avatar, 4)
        membership.refresh_from_db()
        return user, membership, avatar

    return make
