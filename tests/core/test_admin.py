"""The admin's large lists: searches that an index can answer, and counts that never read a whole
table (the figures at 100,000 avatars are in bench/bench_scale.py)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from studio.core import admin as core_admin
from studio.credits.models import CreditEntry
from studio.credits.services import credit_grant
from tests.avatars.factories import GeneratedImageFactory, PromptFactory
from tests.factories import AvatarFactory, UserFactory

pytestmark = pytest.mark.django_db


def listed(staff_client, changelist: str, **query) -> list:
    response = staff_client.get(reverse(f"admin:{changelist}"), query)
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_avatars_are_found_by_their_owners_whole_address_in_any_case(staff_client):
    owner = UserFactory(email="Ada.Lovelace@example.test")
    mine = [AvatarFactory(user=owner), AvatarFactory(user=owner)]
    AvatarFactory(user=UserFactory(email="lovelace@example.test"))

    found = listed(staff_client, "avatars_avatar_changelist", q="ada.lovelace@EXAMPLE.test")

    assert {avatar.pk for avatar in found} == {avatar.pk for avatar in mine}


def test_avatars_are_found_by_id_tune_id_or_words_of_their_name(staff_client):
    rosie = AvatarFactory(name="Rosie at the beach", tune_id=777001)
    other = AvatarFactory(name="Max", tune_id=777002)

    assert listed(staff_client, "avatars_avatar_changelist", q=str(rosie.pk)) == [rosie]
    assert listed(staff_client, "avatars_avatar_changelist", q="777002") == [other]
    assert listed(staff_client, "avatars_avatar_changelist", q="rosie BEACH") == [rosie]
    assert listed(staff_client, "avatars_avatar_changelist", q="nobody@example.test") == []


def test_the_avatar_list_shows_each_avatars_prompts_and_images(staff_client):
    image = GeneratedImageFactory()
    PromptFactory(avatar=image.avatar, state="submitted")

    html = staff_client.get(reverse("admin:avatars_avatar_changelist")).content.decode()

    assert '<td class="field-prompt_summary">1 / 2</td>' in html
    assert '<td class="field-image_total">1</td>' in html


def test_prompts_are_found_by_owner_astria_id_or_label(staff_client):
    owner = UserFactory(email="grace@example.test")
    astronaut = PromptFactory(avatar=AvatarFactory(user=owner), label="Astronaut on the moon")
    headshot = PromptFactory(label="Business headshot")

    assert listed(staff_client, "avatars_prompt_changelist", q="grace@example.test") == [astronaut]
    assert listed(staff_client, "avatars_prompt_changelist", q=str(headshot.astria_prompt_id)) == [headshot]
    assert listed(staff_client, "avatars_prompt_changelist", q="astronaut") == [astronaut]


def test_images_are_listed_newest_first_and_found_by_their_owner(staff_client):
    older, newer = GeneratedImageFactory(), GeneratedImageFactory()

    assert listed(staff_client, "avatars_generatedimage_changelist")[:2] == [newer, older]
    assert listed(staff_client, "avatars_generatedimage_changelist", q=older.avatar.user.email) == [older]


def test_the_ledger_is_found_by_address_reference_or_reason(staff_client):
    user, other = UserFactory(email="linus@example.test"), UserFactory()
    credit_grant(user=user, amount=5, key="grant:a", reason="Welcome credits")
    credit_grant(user=other, amount=3, key="grant:b", reason="Sorry for the wait")

    by_address = listed(staff_client, "credits_creditentry_changelist", q="LINUS@example.test")
    by_key = listed(staff_client, "credits_creditentry_changelist", q="grant:b")
    by_reason = listed(staff_client, "credits_creditentry_changelist", q="wait")

    assert [entry.user for entry in by_address] == [user]
    assert [entry.user for entry in by_key] == [other] == [entry.user for entry in by_reason]


def test_a_list_past_the_exact_count_limit_shows_an_estimate_without_counting_every_row(
    staff_client, monkeypatch
):
    monkeypatch.setattr(core_admin, "EXACT_COUNT_UP_TO", 3)
    for number in range(6):
        credit_grant(user=UserFactory(), amount=1, key=f"grant:{number}", reason="Welcome")

    with CaptureQueriesContext(connection) as captured:
        response = staff_client.get(reverse("admin:credits_creditentry_changelist"))

    shown = response.context["cl"].result_count
    if connection.vendor == "postgresql":
        counts = [q["sql"] for q in captured.captured_queries if "COUNT(" in q["sql"].upper()]
        assert counts and all("LIMIT 4" in sql for sql in counts)  # never a COUNT(*) of the whole table
        assert shown >= 4  # the planner's estimate, at least what was counted
    else:  # SQLite, for development: small enough to count
        assert shown == CreditEntry.objects.count() == 6


def test_a_short_list_is_counted_exactly(staff_client):
    user = UserFactory()
    for number in range(3):
        credit_grant(user=user, amount=1, key=f"grant:{number}", reason="Welcome")

    response = staff_client.get(reverse("admin:credits_creditentry_changelist"))

    assert response.context["cl"].result_count == 3
    assert "3 ledger entries" in response.content.decode()
