import re

import pytest
from django.conf import settings
from django.urls import reverse

from studio.avatars.models import Avatar, AvatarState, GalleryExport, GeneratedImage, PromptState, SubjectClass
from studio.credits.selectors import credit_balance
from tests.avatar_fixtures import THEMES
from tests.avatars.factories import GeneratedImageFactory, PromptFactory, done_avatar
from tests.factories import AvatarFactory, UserFactory
from tests.helpers import HTMX
from tests.themes.factories import ThemeFactory

pytestmark = pytest.mark.django_db


# --- My avatars ---------------------------------------------------------------------------------


def test_cards_say_where_each_avatar_is_and_poll_only_while_something_is_pending(user_client, user):
    done_avatar(user=user, name="Done one", prompts=1, images_per_prompt=2)
    training = AvatarFactory(user=user, name="Training one", state=AvatarState.TRAINING)

    html = user_client.get(reverse("avatars:list")).content.decode()

    assert "Done one" in html and "Training one" in html
    assert "Training your model" in html and "2 images" in html
    assert f"id={training.pk}" in html and 'hx-trigger="every 3s' in html

    Avatar.objects.filter(pk=training.pk).update(state=AvatarState.DONE)
    assert 'hx-trigger="every 3s' not in user_client.get(reverse("avatars:list")).content.decode()


def test_a_card_queued_for_long_says_astria_is_slow_and_that_credits_come_back(user_client, user):
    from datetime import timedelta

    from django.utils import timezone

    fresh = AvatarFactory(user=user, name="Fresh", state=AvatarState.QUEUED, queued_at=timezone.now())
    AvatarFactory(
        user=user, name="Waiting", state=AvatarState.QUEUED, queued_at=timezone.now() - timedelta(minutes=10)
    )

    html = user_client.get(reverse("avatars:list")).content.decode()
    fresh_card = html[html.index(f"id=\"avatar-{fresh.pk}\""):][:1500]

    assert html.count("Astria is slow to answer") == 1
    assert "your credits come back if it cannot start" in html
    assert "training starts in a moment" in fresh_card


def test_the_list_poller_swaps_finished_cards_and_stops_with_286(user_client, user):
    avatar = AvatarFactory(user=user, state=AvatarState.GENERATING)
    PromptFactory(avatar=avatar, state=PromptState.SUBMITTED)
    url = reverse("avatars:list_updates") + f"?id={avatar.pk}"

    pending = user_client.get(url, headers=HTMX)
    assert pending.status_code == 200 and 'hx-swap-oob="true"' in pending.content.decode()
    assert "Painting your portraits… 0 of 1 style done" in pending.content.decode()

    avatar.prompts.update(state=PromptState.DONE)
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.DONE)
    finished = user_client.get(url, headers=HTMX)
    assert finished.status_code == 286
    assert f'id="avatar-{avatar.pk}"' in finished.content.decode()


def test_the_list_poller_leaves_out_ids_that_are_not_avatar_ids(user_client, user):
    finished = AvatarFactory(user=user, state=AvatarState.DONE)
    url = reverse("avatars:list_updates") + f"?id=not-a-uuid&id={finished.pk}&id=&id=12345"

    response = user_client.get(url, headers=HTMX)

    assert response.status_code == 286
    assert f'id="avatar-{finished.pk}"' in response.content.decode()


def test_my_avatars_query_count_does_not_grow_with_avatars(user_client, user, django_assert_max_num_queries):
    done_avatar(user=user, prompts=1, images_per_prompt=1)
    with django_assert_max_num_queries(50) as few:
        user_client.get(reverse("avatars:list"))
    for _ in range(15):
        done_avatar(user=user, prompts=2, images_per_prompt=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        user_client.get(reverse("avatars:list"))


# --- The gallery ----------------------------------------------------------------------------------


def test_the_gallery_shows_images_grouped_by_prompt_with_sizes_srcset_and_alt_text(user_client, user):
    avatar = done_avatar(user=user, prompts=2, images_per_prompt=3)
    image = GeneratedImage.objects.filter(avatar=avatar).first()

    html = user_client.get(reverse("avatars:detail", args=[avatar.pk])).content.decode()

    for prompt in avatar.prompts.all():
        assert f"<h2 id=\"prompt-{prompt.pk}-title\">{prompt.label}</h2>" in html
    assert html.count('loading="lazy"') == 6
    assert f'width="{image.thumb_width}" height="{image.thumb_height}"' in html
    assert "srcset=" in html and f"{image.width}w" in html
    assert f'alt="{image.prompt.label}, image 1: portrait of {avatar.name}' in html and "sks" not in html
    assert "hx-trigger" not in html.split('id="avatar-progress"')[1].split(">")[0]  # finished: no poller


def test_gallery_query_count_does_not_grow_with_images(user_client, user, django_assert_max_num_queries):
    small = done_avatar(user=user, prompts=1, images_per_prompt=1)
    big = done_avatar(user=user, prompts=14, images_per_prompt=8)
    with django_assert_max_num_queries(50) as baseline:
        user_client.get(reverse("avatars:detail", args=[small.pk]))
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        response = user_client.get(reverse("avatars:detail", args=[big.pk]))
    assert response.content.decode().count('class="lightbox-link"') == 112


def test_the_progress_poller_brings_new_images_and_stops_with_286_when_done(user_client, user):
    avatar = AvatarFactory(user=user, state=AvatarState.GENERATING)
    first = PromptFactory(avatar=avatar, label="Golden hour", state=PromptState.SUBMITTED)
    PromptFactory(avatar=avatar, label="Film noir", state=PromptState.SUBMITTED)
    page = user_client.get(reverse("avatars:detail", args=[avatar.pk])).content.decode()
    poll_url = page.split('hx-get="')[1].split('"')[0].replace("&amp;", "&")

    still = user_client.get(poll_url, headers=HTMX)
    assert still.status_code == 200 and "Painting your portraits… 0 of 2 styles done" in still.content.decode()
    assert "hx-swap-oob" not in still.content.decode()  # nothing changed since the page was drawn

    GeneratedImageFactory(prompt=first, avatar=avatar, index=0)
    first.state = PromptState.DONE
    first.save()
    changed = user_client.get(poll_url, headers=HTMX).content.decode()
    assert f'id="prompt-{first.pk}"' in changed and 'hx-swap-oob="true"' in changed
    assert "Film noir" not in changed

    avatar.prompts.update(state=PromptState.DONE)
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.DONE)
    assert user_client.get(poll_url, headers=HTMX).status_code == 286


@pytest.mark.parametrize(
    ("since", "sections"),
    [
        ("2000-01-01T00:00:00", 2),  # no offset: the site's time zone
        ("2000-13-45T00:00:00", 2),  # no such day: everything
        ("not a time", 2),
        ("", 2),
        ("2999-01-01T00:00:00+14:00", 0),
        ("0001-01-01T00:00:00-12:00", 2),
    ],
)
def test_the_progress_poller_takes_any_since_and_falls_back_to_everything(user_client, user, since, sections):
    avatar = AvatarFactory(user=user, state=AvatarState.GENERATING)
    prompts = PromptFactory.create_batch(2, avatar=avatar, state=PromptState.SUBMITTED)

    response = user_client.get(reverse("avatars:progress", args=[avatar.pk]), {"since": since}, headers=HTMX)

    assert response.status_code == 200
    assert sum(f'id="prompt-{prompt.pk}"' in response.content.decode() for prompt in prompts) == sections


def test_images_are_served_to_their_owner_only(client, user, other_user):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    image = GeneratedImage.objects.get(avatar=avatar)
    urls = [
        reverse("avatars:image", args=[avatar.pk, image.pk]),
        reverse("avatars:thumbnail", args=[avatar.pk, image.pk]),
    ]

    client.force_login(user)
    full = client.get(urls[0])
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    assert full["X-Content-Type-Options"] == "nosniff"
    # A full image is never kept in a browser's cache; a thumbnail for five minutes at most.
    assert full["Cache-Control"] == "private, no-store"
    thumbnail = client.get(urls[1])
    assert thumbnail["Content-Type"] == "image/webp" and thumbnail["Cache-Control"] == "private, max-age=300"
    assert "attachment" in client.get(urls[0] + "?download=1")["Content-Disposition"]

    client.force_login(other_user)
    assert [client.get(url).status_code for url in urls] == [404, 404]
    client.logout()
    assert all(client.get(url).status_code == 302 for url in urls)


def test_favourite_toggles_in_place_and_likes_the_prompt_at_astria(
    user_client, user, astria_sandbox, django_capture_on_commit_callbacks
):
    tune = astria_sandbox.client().create_tune(
        title="t", name="woman", images=[("a.jpg", GeneratedImageFactory.build().image.read())], branch="fast"
    )
    remote = astria_sandbox.client().create_prompt(tune_id=tune.id, text="sks woman", num_images=1)
    avatar = done_avatar(user=user, prompts=0)
    prompt = PromptFactory(avatar=avatar, astria_prompt_id=remote.id)
    image = GeneratedImageFactory(prompt=prompt, avatar=avatar, index=0)
    url = reverse("avatars:favourite", args=[avatar.pk, image.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(url, {"favourite": "1"}, headers=HTMX)

    assert response.status_code == 200 and 'aria-pressed="true"' in response.content.decode()
    assert GeneratedImage.objects.get(pk=image.pk).is_favourite
    assert astria_sandbox.client().get_prompt(tune.id, remote.id).raw["liked"] is True

    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(url, {"favourite": "0"})
    assert astria_sandbox.client().get_prompt(tune.id, remote.id).raw["liked"] is False


def test_a_zip_of_an_unknown_kind_is_refused_with_the_choices(user_client, user):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    url = reverse("avatars:export_create", args=[avatar.pk])

    response = user_client.post(url, {"scope": "everything"}, headers=HTMX)

    assert "all the images or the favourites" in response.content.decode()
    assert not GalleryExport.objects.exists()


def test_a_zip_request_that_names_no_kind_holds_all_the_images(user_client, user, django_capture_on_commit_callbacks):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=2)

    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("avatars:export_create", args=[avatar.pk]))

    assert GalleryExport.objects.get(avatar=avatar).scope == GalleryExport.Scope.ALL


def test_asking_again_for_the_same_zip_builds_nothing(user_client, user, django_capture_on_commit_callbacks):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=2)
    url = reverse("avatars:export_create", args=[avatar.pk])
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(url, {"scope": "all"}, headers=HTMX)

    with django_capture_on_commit_callbacks() as builds:
        again = user_client.post(url, {"scope": "all"}, headers=HTMX)

    export = GalleryExport.objects.get()
    assert builds == [] and export.state == GalleryExport.State.READY
    assert "Your zip of all images is ready: 2 images" in again.content.decode()


def test_a_second_click_while_the_zip_is_built_waits_for_the_same_build(
    user_client, user, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    url = reverse("avatars:export_create", args=[avatar.pk])

    with django_capture_on_commit_callbacks() as builds:
        for _ in range(2):
            user_client.post(url, {"scope": "all"}, headers=HTMX)
    assert len(builds) == 1 and GalleryExport.objects.get().state == GalleryExport.State.BUILDING

    GalleryExport.objects.update(created_at=timezone.now() - timedelta(minutes=10))  # its worker died
    with django_capture_on_commit_callbacks() as builds:
        user_client.post(url, {"scope": "all"}, headers=HTMX)
    assert len(builds) == 1 and GalleryExport.objects.count() == 2


def test_a_zip_is_built_again_once_its_images_change(user_client, user, django_capture_on_commit_callbacks):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=3)
    first, second, _ = GeneratedImage.objects.filter(avatar=avatar).order_by("index")
    url = reverse("avatars:export_create", args=[avatar.pk])
    GeneratedImage.objects.filter(pk=first.pk).update(is_favourite=True)
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(url, {"scope": "favourites"})

    GeneratedImage.objects.filter(pk=second.pk).update(is_favourite=True)
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(url, {"scope": "favourites"})
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(url, {"scope": "all"})

    assert sorted(GalleryExport.objects.values_list("scope", "image_count")) == [
        ("all", 3), ("favourites", 1), ("favourites", 2)
    ]


def test_a_zip_close_to_its_deletion_is_built_afresh(user_client, user, settings, django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    url = reverse("avatars:export_create", args=[avatar.pk])
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(url, {"scope": "all"})
    old = timezone.now() - timedelta(hours=settings.EXPORT_KEEP_HOURS) + timedelta(minutes=30)
    GalleryExport.objects.update(created_at=old)

    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(url, {"scope": "all"})

    assert GalleryExport.objects.filter(state=GalleryExport.State.READY).count() == 2


def test_zip_requests_are_rate_limited_per_user(user_client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "export": "2/h"}
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    url = reverse("avatars:export_create", args=[avatar.pk])

    answers = [user_client.post(url, {"scope": "all"}) for _ in range(3)]

    assert [answer.status_code for answer in answers] == [302, 302, 429]
    assert 0 < int(answers[2]["Retry-After"]) <= 3600
    assert re.search(r"Please wait \d+ (second|minute)s? and try again", answers[2].content.decode())


def test_favourite_toggles_are_rate_limited_per_user(user_client, user, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "favourite": "3/m"}
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    image = GeneratedImage.objects.get(avatar=avatar)
    url = reverse("avatars:favourite", args=[avatar.pk, image.pk])

    answers = [user_client.post(url, {"favourite": str(n % 2)}, headers=HTMX) for n in range(1, 6)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429, 429]
    assert "Please wait" in answers[3]["HX-Trigger"]
    assert GeneratedImage.objects.get(pk=image.pk).is_favourite is True  # the third toggle's state


# --- New avatars ------------------------------------------------------------------------------------


def test_a_user_holds_at_most_avatar_max_drafts_drafts_and_the_page_says_which(user_client, user, settings):
    settings.AVATAR_MAX_DRAFTS = 2
    done_avatar(user=user, prompts=0)  # ordered avatars take no place
    url = reverse("avatars:create")

    made = [user_client.post(url, {"name": name, "subject_class": "woman"}) for name in ("Ada", "Grace", "Hedy")]
    page = user_client.get(url).content.decode()

    assert [answer.status_code for answer in made] == [302, 302, 422]
    assert "You already have 2 avatars waiting for photos or an order" in made[2].content.decode()
    assert sorted(Avatar.objects.filter(state=AvatarState.DRAFT).values_list("name", flat=True)) == ["Ada", "Grace"]
    assert "Finish or delete one of them to start another" in page and 'name="create"' not in page
    for draft in Avatar.objects.filter(state=AvatarState.DRAFT):
        assert f'href="{reverse("photos:upload", args=[draft.pk])}"' in page
        assert f'href="{reverse("avatars:delete", args=[draft.pk])}"' in page


def test_deleting_a_draft_makes_room_for_a_new_one(user_client, user, settings):
    settings.AVATAR_MAX_DRAFTS = 1
    draft = AvatarFactory(user=user)
    AvatarFactory(user=UserFactory())  # someone else's draft takes none of this user's room
    url = reverse("avatars:create")

    assert user_client.post(url, {"name": "Ada", "subject_class": "woman"}).status_code == 422
    user_client.post(reverse("avatars:delete", args=[draft.pk]))

    assert user_client.post(url, {"name": "Ada", "subject_class": "woman"}).status_code == 302


# --- Delete -------------------------------------------------------------------------------------------


def test_deleting_says_what_goes_then_removes_files_rows_and_the_tune_at_astria(
    user_client, user, astria_sandbox, settings, django_capture_on_commit_callbacks
):
    from pathlib import Path

    tune = astria_sandbox.client().create_tune(
        title="t", name="woman", images=[("a.jpg", GeneratedImageFactory.build().image.read())], branch="fast"
    )
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=2, tune_id=tune.id)
    url = reverse("avatars:delete", args=[avatar.pk])

    page = user_client.get(url).content.decode()
    assert "2 generated images" in page and "also delete at Astria" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(url)

    assert response.status_code == 302 and response.url == reverse("avatars:list")
    assert not Avatar.objects.filter(pk=avatar.pk).exists()
    assert not [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()]
    assert astria_sandbox.client().find_tune_by_title("t") is None


def test_someone_elses_avatar_cannot_be_seen_or_deleted(client, user, other_user):
    avatar = done_avatar(user=user, prompts=1, images_per_prompt=1)
    client.force_login(other_user)

    for name in ("detail", "delete", "more", "progress"):
        assert client.get(reverse(f"avatars:{name}", args=[avatar.pk])).status_code == 404
    assert client.post(reverse("avatars:delete", args=[avatar.pk])).status_code == 404
    assert Avatar.objects.filter(pk=avatar.pk).exists()


# --- Confirm ------------------------------------------------------------------------------------------


def test_the_confirm_page_shows_the_exact_prompts_and_price_then_pays(
    user_client, user, make_draft, studio_on_sandbox
):
    avatar = make_draft(user)
    url = reverse("avatars:confirm", args=[avatar.pk])

    page = user_client.get(url).content.decode()
    assert "5 credits" in page and f"portrait of {avatar.name}" in page and "6 images" in page
    assert "sks" not in page  # the AI's trigger word is never shown

    refused = user_client.post(url)  # not without the customer's word that they may use the photos
    assert refused.status_code == 422 and "Tick the box" in refused.content.decode()
    assert Avatar.objects.get(pk=avatar.pk).state == AvatarState.DRAFT

    response = user_client.post(url, {"consent": "on"})
    assert response.status_code == 302 and response.url == reverse("avatars:detail", args=[avatar.pk])
    confirmed = Avatar.objects.get(pk=avatar.pk)
    assert confirmed.state != AvatarState.DRAFT and confirmed.consent_at is not None


@pytest.mark.parametrize(("subject_class", "share", "guarantee", "words"), [
    (SubjectClass.WOMAN, 0.5, True, "If more than half of a style's images do not look like Ada, we make that style "
                                    "again once, free; if it still does not, what you paid for that style comes back"),
    (SubjectClass.MAN, 0.6, True, "If more than 60% of a style's images do not look like Ada"),
    (SubjectClass.WOMAN, 0.5, False, None),
    (SubjectClass.CAT, 0.5, True, None),  # pets are not compared with a face
])
def test_the_confirm_page_states_the_likeness_guarantee_from_the_settings(
    user_client, user, make_draft, settings, subject_class, share, guarantee, words
):
    settings.LIKENESS_REDO_SHARE, settings.LIKENESS_GUARANTEE = share, guarantee
    avatar = make_draft(user, subject_class=subject_class, themes=("pet-wizard",) if subject_class == "cat" else THEMES)

    page = " ".join(user_client.get(reverse("avatars:confirm", args=[avatar.pk])).content.decode().split())

    if words:
        assert words in page
    else:
        assert "do not look like" not in page


def test_confirming_without_enough_credits_says_so_where_it_happens(user_client, user, make_draft):
    avatar = make_draft(user, credits=0)
    balance = credit_balance(user=user)

    page = user_client.get(reverse("avatars:confirm", args=[avatar.pk])).content.decode()

    assert "Buy credits" in page and "Confirm and start" not in page
    # Buying comes back here.
    assert f'{reverse("credits:buy")}?next={reverse("avatars:confirm", args=[avatar.pk])}' in page
    assert credit_balance(user=user) == balance


def test_generate_more_cannot_add_an_eighth_style_and_shows_what_is_left(user_client, user, fund):
    avatar = done_avatar(user=user, prompts=0)
    themes = ThemeFactory.create_batch(8)
    for position, theme in enumerate(themes[:7]):
        PromptFactory(avatar=avatar, position=position, theme_slug=theme.slug, label=theme.title)
    fund(user, 20)
    url = reverse("avatars:more", args=[avatar.pk])

    page = " ".join(user_client.get(url).content.decode().split())
    response = user_client.post(url, {"themes": [themes[7].slug]})

    assert f"{avatar.name} has 7 styles left: up to 0 of ours and 7 of your own." in page
    assert response.status_code == 422
    assert "This avatar has 0 of its 7 styles left; choose at most 0." in response.content.decode()
    assert avatar.prompts.count() == 7 and credit_balance(user=user) == 20


def test_generate_more_uses_what_is_left_of_the_fair_use_budget(
    user_client, user, make_draft, studio_on_sandbox, reconcile_until, django_capture_on_commit_callbacks
):
    avatar = make_draft(user)
    with django_capture_on_commit_callbacks(execute=True):
        user_client.post(reverse("avatars:confirm", args=[avatar.pk]), {"consent": "on"})
    reconcile_until(lambda: Avatar.objects.get(pk=avatar.pk).state == AvatarState.DONE)
    balance = credit_balance(user=user)

    page = user_client.get(reverse("avatars:more", args=[avatar.pk])).content.decode()
    assert "11 styles left" in page and "Film noir" not in page  # already used
    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.post(
            reverse("avatars:more", args=[avatar.pk]),
            {"themes": ["corporate-headshot"], "custom_texts": "me as a jazz pianist\nme on a sailing boat"},
        )
    assert response.status_code == 302
    reconcile_until(lambda: Avatar.objects.get(pk=avatar.pk).state == AvatarState.DONE)

    assert avatar.prompts.filter(batch=1, state=PromptState.DONE).count() == 3
    assert credit_balance(user=user) == balance - 3
    assert GeneratedImage.objects.filter(avatar=avatar).count() == 6 * settings.IMAGES_PER_PROMPT


def test_generate_more_previews_a_selection_without_javascript_and_as_a_live_summary(user_client, user, fund):
    avatar = done_avatar(user=user, name="Ada", prompts=1, images_per_prompt=1)
    theme = ThemeFactory(prompt="film noir portrait of {subject}, trench coat")
    fund(user, 1)
    url = reverse("avatars:more", args=[avatar.pk])
    selection = {"themes": [theme.slug], "custom_texts": "me as a jazz pianist", "preview": ""}

    page = " ".join(user_client.get(url, selection).content.decode().split())
    summary = user_client.get(url, selection, headers=HTMX).content.decode()

    assert "film noir portrait of Ada, trench coat" in page and "Ada as a jazz pianist" in page
    assert "<dt>Credits</dt><dd>2</dd>" in page and "You need 1 more credit." in page
    buy = page.split('href="/credits/buy/?next=')[1].split('"')[0]
    assert theme.slug in buy and "jazz" in buy  # buying comes back to this selection
    assert summary.lstrip().startswith('<section id="prompt-preview"') and 'hx-swap-oob="true"' in summary
    assert avatar.prompts.count() == 1 and credit_balance(user=user) == 1  # a preview orders nothing
