"""Who runs a team: the owner makes admins and hands ownership on, owners and admins rename it,
and a closing owner's team passes to an admin."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.services import user_delete
from studio.core.exceptions import ApplicationError
from studio.teams import roles
from studio.teams.models import Membership, Organisation
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

Role = Membership.Role


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def owner_membership(team) -> Membership:
    return team.memberships.get(role=Role.OWNER)


@pytest.fixture
def people(team, join):
    """Acme's admin and a member, besides its owner."""
    admin, member = UserFactory(email="admin@acme.test"), UserFactory(email="member@acme.test")
    admin_membership, member_membership = join(admin), join(member)
    Membership.objects.filter(pk=admin_membership.pk).update(role=Role.ADMIN)
    admin_membership.refresh_from_db()
    return (admin, admin_membership), (member, member_membership)


def roles_of(team) -> dict[str, str]:
    return dict(team.memberships.filter(state=Membership.State.ACTIVE).values_list("user__email", "role"))


# --- Admins and members ------------------------------------------------------------------------------------


def test_the_owner_makes_a_member_an_admin_from_the_people_list_and_back(team, owner, people):
    _, (_, member_membership) = people
    client = client_for(owner)
    page = client.get(reverse("teams:manage", args=[team.pk])).content.decode()
    assert "Make admin<span class=\"visually-hidden\">: member@acme.test" in page

    response = client.post(reverse("teams:member_role", args=[team.pk, member_membership.pk]), {"role": "admin"})
    assert response.status_code == 302
    assert roles_of(team)["member@acme.test"] == Role.ADMIN
    page = client.get(response["Location"]).content.decode()
    assert "member@acme.test is an admin" in page
    assert "Make member<span class=\"visually-hidden\">: member@acme.test" in page

    client.post(reverse("teams:member_role", args=[team.pk, member_membership.pk]), {"role": "member"})
    assert roles_of(team)["member@acme.test"] == Role.MEMBER


def test_an_admin_sees_no_role_buttons_and_is_refused_if_they_post(team, owner, people):
    (admin, _), (_, member_membership) = people
    client = client_for(admin)
    page = client.get(reverse("teams:manage", args=[team.pk])).content.decode()
    assert "Make admin" not in page and "Make member" not in page and "Make owner" not in page

    role_url = reverse("teams:member_role", args=[team.pk, member_membership.pk])
    assert client.post(role_url, {"role": "admin"}).status_code == 403
    owner_url = reverse("teams:owner_transfer", args=[team.pk, member_membership.pk])
    assert client.post(owner_url).status_code == 403
    assert roles_of(team) == {"owner@acme.test": Role.OWNER, "admin@acme.test": Role.ADMIN,
                              "member@acme.test": Role.MEMBER}


def test_a_member_and_an_outsider_get_404_for_role_changes(team, people):
    (_, admin_membership), (member, _) = people
    outsider = UserFactory()
    for user in (member, outsider):
        client = client_for(user)
        role_url = reverse("teams:member_role", args=[team.pk, admin_membership.pk])
        assert client.post(role_url, {"role": "member"}).status_code == 404
        assert client.post(reverse("teams:owner_transfer", args=[team.pk, admin_membership.pk])).status_code == 404
    assert roles_of(team)["admin@acme.test"] == Role.ADMIN


def test_nobody_changes_their_own_role_and_an_owner_is_not_demoted_by_a_role_change(team, owner, people):
    own = owner_membership(team)
    with pytest.raises(ApplicationError, match="your own role"):
        roles.membership_set_role(organisation=team, membership_id=own.pk, role=Role.MEMBER, by=owner)
    other_owner = UserFactory(email="second@acme.test")
    Membership.objects.create(organisation=team, user=other_owner, role=Role.OWNER)
    with pytest.raises(ApplicationError, match="stays owner"):
        roles.membership_set_role(organisation=team, membership_id=own.pk, role=Role.ADMIN, by=other_owner)
    with pytest.raises(ApplicationError):
        roles.membership_set_role(
            organisation=team, membership_id=people[1][1].pk, role=Role.OWNER, by=owner
        )
    assert roles_of(team)["owner@acme.test"] == Role.OWNER


def test_an_admin_cannot_change_roles_through_the_service(team, people):
    (admin, _), (_, member_membership) = people
    with pytest.raises(ApplicationError, match="Only the organisation's owner"):
        roles.membership_set_role(organisation=team, membership_id=member_membership.pk, role=Role.ADMIN, by=admin)


def test_the_owner_cannot_change_the_role_of_someone_who_left(team, owner, people):
    _, (member, member_membership) = people
    client_for(member).post(reverse("teams:leave", args=[team.pk]))

    response = client_for(owner).post(
        reverse("teams:member_role", args=[team.pk, member_membership.pk]), {"role": "admin"}
    )

    assert response.status_code == 404
    assert Membership.objects.get(pk=member_membership.pk).role == Role.MEMBER


# --- Handing ownership on --------------------------------------------------------------------------------------


def test_the_owner_hands_ownership_to_an_admin_after_confirming_and_becomes_an_admin(team, owner, people):
    (admin, admin_membership), _ = people
    client = client_for(owner)
    page = client.get(reverse("teams:manage", args=[team.pk])).content.decode()
    assert "Make owner<span class=\"visually-hidden\">: admin@acme.test" in page
    assert "Hand ownership to admin@acme.test" in page  # the second button, inside the confirmation

    response = client.post(reverse("teams:owner_transfer", args=[team.pk, admin_membership.pk]))

    assert response.status_code == 302
    assert roles_of(team) == {"owner@acme.test": Role.ADMIN, "admin@acme.test": Role.OWNER,
                              "member@acme.test": Role.MEMBER}
    assert team.memberships.filter(role=Role.OWNER).count() == 1
    assert client.post(reverse("teams:delete", args=[team.pk])).status_code == 404  # no longer the owner
    assert client_for(admin).get(reverse("teams:delete", args=[team.pk])).status_code == 200


def test_ownership_goes_only_to_an_admin(team, owner, people):
    _, (_, member_membership) = people

    response = client_for(owner).post(reverse("teams:owner_transfer", args=[team.pk, member_membership.pk]),
                                      follow=True)

    assert "make them an admin first" in response.content.decode()
    assert roles_of(team) == {"owner@acme.test": Role.OWNER, "admin@acme.test": Role.ADMIN,
                              "member@acme.test": Role.MEMBER}


def test_the_old_owner_cannot_hand_ownership_on_twice(team, owner, people):
    (_, admin_membership), _ = people
    roles.ownership_transfer(organisation=team, membership_id=admin_membership.pk, by=owner)

    with pytest.raises(ApplicationError, match="Only the organisation's owner"):
        roles.ownership_transfer(organisation=team, membership_id=admin_membership.pk, by=owner)
    assert team.memberships.filter(role=Role.OWNER).count() == 1


# --- The name ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "admin"])
def test_an_owner_or_an_admin_renames_the_team(team, owner, people, who):
    user = owner if who == "owner" else people[0][0]

    response = client_for(user).post(reverse("teams:rename", args=[team.pk]), {"name": "  Acme   Corporation "},
                                     follow=True)

    assert Organisation.objects.get(pk=team.pk).name == "Acme Corporation"
    assert "The organisation is now called Acme Corporation." in response.content.decode()
    assert str(Organisation.objects.get(pk=team.pk).pool) == "Acme Corporation"  # as the confirm page names the payer


def test_a_blank_name_is_refused_and_a_member_cannot_rename(team, owner, people):
    response = client_for(owner).post(reverse("teams:rename", args=[team.pk]), {"name": "   "})
    assert response.status_code == 422
    assert client_for(people[1][0]).post(reverse("teams:rename", args=[team.pk]), {"name": "Mine"}).status_code == 404
    assert client_for(UserFactory()).post(reverse("teams:rename", args=[team.pk]), {"name": "Mine"}).status_code == 404
    assert Organisation.objects.get(pk=team.pk).name == "Acme"


# --- A closing owner --------------------------------------------------------------------------------------------


def test_a_closing_owners_team_passes_to_the_longest_standing_admin(team, owner, join, people):
    newer_admin = UserFactory(email="newer@acme.test")
    Membership.objects.filter(pk=join(newer_admin).pk).update(role=Role.ADMIN)

    user_delete(user=owner)

    assert roles_of(team) == {"admin@acme.test": Role.OWNER, "newer@acme.test": Role.ADMIN,
                              "member@acme.test": Role.MEMBER}


def test_the_deletion_page_warns_of_a_team_left_without_owner(team, owner, join):
    member = join(UserFactory(email="member@acme.test"))
    client = client_for(owner)

    page = client.get(reverse("account:delete")).content.decode()
    assert "Acme will be left without an owner:" in page
    assert reverse("teams:manage", args=[team.pk]) in page

    Membership.objects.filter(pk=member.pk).update(role=Role.ADMIN)
    assert "without an owner" not in client.get(reverse("account:delete")).content.decode()


def test_a_closing_owner_without_admins_leaves_the_team_ownerless(team, owner, join):
    join(UserFactory(email="member@acme.test"))

    user_delete(user=owner)

    assert roles_of(team) == {"member@acme.test": Role.MEMBER}
