import re

import pytest
from django.core.files.storage import FileSystemStorage
from django.urls import reverse

from studio.avatars.models import Avatar, AvatarState
from studio.photos.models import Photo, PhotoVerdict
from tests.factories import AvatarFactory
from tests.helpers import HTMX
from tests.photos import corpus
from tests.photos.conftest import distinct_photos, uploaded
from tests.photos.factories import PhotoFactory, ready_photos

pytestmark = pytest.mark.django_db


def page_url(avatar) -> str:
    return reverse("photos:upload", args=[avatar.pk])


@pytest.fixture
def post_photos(client, user, django_capture_on_commit_callbacks):
    """Post files to the upload page as the browser does, letting the images task run."""
    client.force_login(user)

    def post(avatar, files, *, headers=None):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(page_url(avatar), {"photos": files}, headers=headers or {})

    return post


def test_the_upload_page_explains_and_offers_the_picker(user_client, avatar):
    response = user_client.get(page_url(avatar))
    html = response.content.decode()

    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html and 'type="file"' in html and " multiple" in html
    assert '<label for="id_photos">Choose photos</label>' in html
    assert "What makes a good set" in html and "No sunglasses" in html and "No other people" in html
    assert "0 of 4</strong> accepted" in html
    assert "/static/js/photos.js" in html
    assert "Continue to styles" not in html
    assert "<script>" not in html and "<style" not in html and " style=" not in html


def test_the_page_gives_pet_advice_for_pets(user_client, user):
    dog = Avatar.objects.create(user=user, name="Biscuit", subject_class="dog")

    html = user_client.get(page_url(dog)).content.decode()

    assert "Your dog alone" in html and "sunglasses" not in html


def test_only_the_owner_sees_the_upload_page(client, other_user, avatar):
    assert client.get(page_url(avatar)).status_code == 302  # to the login page
    client.force_login(other_user)
    assert client.get(page_url(avatar)).status_code == 404


def test_creating_an_avatar_leads_to_its_photos(user_client):
    response = user_client.post(reverse("avatars:create"), {"name": "Ada", "subject_class": "woman"})

    avatar = Avatar.objects.get()
    assert response.status_code == 302 and response.url == page_url(avatar)


def test_the_draft_steps_link_to_photos_with_the_count(user_client, avatar):
    PhotoFactory.create_batch(2, avatar=avatar)

    html = user_client.get(reverse("avatars:detail", args=[avatar.pk]), follow=True).content.decode()

    assert f'href="{page_url(avatar)}"' in html
    assert "2 of 4 accepted" in html


def test_several_photos_in_one_plain_form_post(post_photos, client, avatar):
    files = [uploaded(data, f"IMG_{i}.jpg") for i, data in enumerate(distinct_photos(2))]
    files.append(uploaded(corpus.SVG, "drawing.jpg"))

    response = post_photos(avatar, files)

    assert response.status_code == 302 and response.url == page_url(avatar)
    html = client.get(page_url(avatar)).content.decode()
    assert html.count('class="photo-card is-accepted"') == 2
    assert html.count('class="photo-card is-rejected"') == 1
    assert "drawing.jpg" in html and "web page or SVG drawing" in html
    assert "2 of 4</strong> accepted" in html


def test_animations_oversized_and_pixel_flood_files_are_refused_and_the_rest_of_the_request_is_kept(
    post_photos, client, avatar
):
    refused = {
        "moving.png": (corpus.animated("PNG"), "animated"),
        "moving.webp": (corpus.animated("WEBP"), "animated"),
        "huge.png": (corpus.pixel_bomb(8000, 7000), "too_many_pixels"),
        "huge.heic": (corpus.heic_claiming(8000, 7000), "too_many_pixels"),
        "flood.png": (corpus.pixel_bomb(4000, 4000), "too_little_data"),
    }
    files = [uploaded(data, name) for name, (data, _) in refused.items()]
    files.insert(2, uploaded(distinct_photos(1)[0], "first.jpg"))
    files.append(uploaded(distinct_photos(2)[1], "last.jpg"))

    response = post_photos(avatar, files)

    assert response.status_code == 302
    photos = {photo.original_name: photo for photo in Photo.objects.all()}
    assert {name: photos[name].findings[0]["code"] for name in refused} == {
        name: code for name, (_, code) in refused.items()
    }
    assert photos["first.jpg"].verdict == photos["last.jpg"].verdict == PhotoVerdict.ACCEPTED
    html = client.get(page_url(avatar)).content.decode()
    assert html.count('class="photo-card is-rejected"') == 5
    assert "an animation or a set of several pictures" in html and "far too little for a real photo" in html


def test_the_page_script_posts_one_file_and_gets_the_set_back(post_photos, avatar):
    response = post_photos(avatar, [uploaded()], headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="photo-set"')
    assert "IMG_0001.jpg" in html and "Checking" in html and 'hx-trigger="every 2s' in html
    assert 'id="draft-step-photos"' in html and 'hx-swap-oob="true"' in html  # the step counter too


def test_continue_appears_with_four_accepted_photos(post_photos, client, avatar):
    post_photos(avatar, [uploaded(data) for data in distinct_photos(4)])

    html = client.get(page_url(avatar)).content.decode()

    assert "4 photos</strong> accepted" in html
    assert f'href="/avatars/{avatar.pk}/styles/"' in html and "Continue to styles" in html


def test_choosing_nothing_says_so(user_client, avatar):
    response = user_client.post(page_url(avatar), {})

    assert response.status_code == 422
    assert "Choose at least one photo to add." in response.content.decode()


def test_more_photos_than_room_are_refused_whole(post_photos, avatar, settings):
    PhotoFactory.create_batch(settings.PHOTOS_MAX_PER_AVATAR - 2, avatar=avatar)

    response = post_photos(avatar, [uploaded() for _ in range(3)])

    assert response.status_code == 422
    assert "You chose 3 photos, but there is room for only 2 more (20 at most)" in response.content.decode()
    assert Photo.objects.count() == settings.PHOTOS_MAX_PER_AVATAR - 2


def test_a_full_avatar_says_so_to_the_page_script(post_photos, avatar, settings):
    PhotoFactory.create_batch(settings.PHOTOS_MAX_PER_AVATAR, avatar=avatar)

    response = post_photos(avatar, [uploaded()], headers=HTMX)

    assert response.status_code == 422
    assert 'id="upload-errors"' in response.content.decode()
    assert "already has 20 photos" in response.content.decode()


def test_uploads_wait_while_too_many_of_the_users_photos_are_being_checked(
    post_photos, client, user, avatar, settings, media_files
):
    settings.PHOTOS_MAX_PROCESSING = 2
    PhotoFactory.create_batch(2, avatar=AvatarFactory(user=user), verdict=PhotoVerdict.PROCESSING)

    response = post_photos(avatar, [uploaded(data, f"IMG_{i}.jpg") for i, data in enumerate(distinct_photos(2))])

    page = client.get(page_url(avatar)).content.decode()
    assert response.status_code == 302
    assert "You have 2 photos being checked right now. Wait for them to be checked, then add the rest." in page
    assert "Not added: \u201cIMG_0.jpg\u201d, \u201cIMG_1.jpg\u201d." in page  # names in quotes
    assert not Photo.objects.filter(avatar=avatar).exists() and media_files() == []


def test_the_page_script_is_told_to_wait_for_the_photos_being_checked(post_photos, user, avatar, settings):
    settings.PHOTOS_MAX_PROCESSING = 1
    PhotoFactory(avatar=avatar, verdict=PhotoVerdict.PROCESSING)
    PhotoFactory(avatar=AvatarFactory(), verdict=PhotoVerdict.PROCESSING)  # someone else's: not counted

    refused = post_photos(avatar, [uploaded(name="IMG_9.jpg")], headers=HTMX)
    Photo.objects.filter(avatar=avatar).update(verdict=PhotoVerdict.ACCEPTED)
    accepted = post_photos(avatar, [uploaded(name="IMG_9.jpg")], headers=HTMX)

    assert refused.status_code == 422 and 'id="upload-errors"' in refused.content.decode()
    assert "Wait for them to be checked" in refused.content.decode()
    assert accepted.status_code == 200
    assert Photo.objects.filter(avatar=avatar, original_name="IMG_9.jpg").exists()


def test_too_many_files_in_one_request_get_a_clear_page(post_photos, avatar, settings):
    files = [uploaded(b"x", f"{i}.jpg") for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)]

    response = post_photos(avatar, files)

    assert response.status_code == 400
    assert "more files than one upload can take (25 at most)" in response.content.decode()
    assert not Photo.objects.exists()


def test_a_file_over_the_size_cap_is_dropped_while_it_streams_in(post_photos, client, avatar, settings, media_files):
    small, big = corpus.jpeg(corpus.photo(seed=31)), corpus.jpeg(corpus.photo(seed=32)) + bytes(60_000)
    settings.PHOTOS_MAX_FILE_BYTES = len(small) + 10_000

    response = post_photos(avatar, [uploaded(big, "huge.jpg"), uploaded(small, "fine.jpg")])

    assert response.status_code == 302
    verdicts = dict(Photo.objects.values_list("original_name", "verdict"))
    assert verdicts == {"huge.jpg": PhotoVerdict.REJECTED, "fine.jpg": PhotoVerdict.ACCEPTED}
    assert Photo.objects.get(original_name="huge.jpg").findings[0]["code"] == "file_too_large"
    assert len(media_files()) == 2  # the accepted photo's JPEG and thumbnail, nothing of huge.jpg


def test_a_request_over_the_total_cap_stores_nothing(post_photos, avatar, settings, media_files):
    settings.PHOTOS_MAX_REQUEST_BYTES = 50_000

    response = post_photos(avatar, [uploaded(data) for data in distinct_photos(2)])

    assert response.status_code == 422
    assert "Together these files are more than the" in response.content.decode()
    assert not Photo.objects.exists() and media_files() == []


def test_zero_byte_file_gets_a_refused_card(post_photos, avatar):
    post_photos(avatar, [uploaded(b"", "empty.jpg")])

    assert Photo.objects.get().findings[0]["code"] == "empty"


def test_the_set_polls_while_photos_are_checked_and_stops_with_286(user_client, avatar):
    url = reverse("photos:set", args=[avatar.pk])
    photo = PhotoFactory(avatar=avatar, verdict=PhotoVerdict.PROCESSING)

    checking = user_client.get(url, headers=HTMX)
    assert checking.status_code == 200
    assert re.search(r'hx-trigger="every 2s[^"]*"', checking.content.decode())
    assert "checking 1" in checking.content.decode()

    Photo.objects.filter(pk=photo.pk).update(verdict=PhotoVerdict.ACCEPTED)
    done = user_client.get(url, headers=HTMX)
    assert done.status_code == 286
    assert "every 2s" not in done.content.decode()


def test_the_poll_url_without_htmx_goes_to_the_page(user_client, avatar):
    response = user_client.get(reverse("photos:set", args=[avatar.pk]))

    assert response.status_code == 302 and response.url == page_url(avatar)


def test_removing_a_photo(post_photos, client, avatar, media_files, django_capture_on_commit_callbacks):
    post_photos(avatar, [uploaded()])
    photo = Photo.objects.get()
    url = reverse("photos:delete", args=[avatar.pk, photo.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)

    assert response.status_code == 302 and response.url == page_url(avatar)
    assert not Photo.objects.exists()
    assert media_files() == []


def test_removing_a_photo_with_htmx_returns_the_fresh_set(user_client, avatar):
    photos = PhotoFactory.create_batch(2, avatar=avatar, verdict=PhotoVerdict.REJECTED)

    response = user_client.post(reverse("photos:delete", args=[avatar.pk, photos[0].pk]), headers=HTMX)

    html = response.content.decode()
    assert response.status_code == 200 and html.count('class="photo-card') == 1


def test_removing_is_refused_once_ordered(user_client, avatar):
    photo = PhotoFactory(avatar=avatar)
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.QUEUED)

    response = user_client.post(reverse("photos:delete", args=[avatar.pk, photo.pk]), headers=HTMX)

    assert response.status_code == 200
    assert "can no longer be changed" in response.headers["HX-Trigger"]
    assert Photo.objects.filter(pk=photo.pk).exists()


def test_uploads_go_nowhere_once_ordered(post_photos, client, avatar):
    Avatar.objects.filter(pk=avatar.pk).update(state=AvatarState.QUEUED)

    assert client.get(page_url(avatar)).url == reverse("avatars:detail", args=[avatar.pk])
    response = post_photos(avatar, [uploaded()], headers=HTMX)
    assert response.status_code == 422 and "can no longer be changed" in response.content.decode()
    assert not Photo.objects.exists()


def test_nobody_else_can_remove_a_photo(client, other_user, avatar):
    photo = PhotoFactory(avatar=avatar)
    client.force_login(other_user)

    assert client.post(reverse("photos:delete", args=[avatar.pk, photo.pk])).status_code == 404
    assert Photo.objects.filter(pk=photo.pk).exists()


# --- Private serving -------------------------------------------------------------------------


@pytest.fixture
def stored_photo(post_photos, avatar):
    post_photos(avatar, [uploaded()])
    return Photo.objects.get()


@pytest.mark.parametrize(("name", "content_type"), [("image", "image/jpeg"), ("thumbnail", "image/webp")])
def test_the_owner_gets_the_photo_with_our_headers(client, stored_photo, avatar, name, content_type):
    response = client.get(reverse(f"photos:{name}", args=[avatar.pk, stored_photo.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"].startswith("private")
    assert "sandbox" in response["Content-Security-Policy"]
    body = b"".join(response.streaming_content)
    assert body == getattr(stored_photo, name).read()


@pytest.mark.parametrize("name", ["image", "thumbnail"])
def test_nobody_else_gets_the_photo_not_even_a_redirect_to_log_in(client, stored_photo, avatar, other_user, name):
    url = reverse(f"photos:{name}", args=[avatar.pk, stored_photo.pk])
    client.logout()

    assert client.get(url).status_code == 404
    client.force_login(other_user)
    assert client.get(url).status_code == 404


def test_a_refused_or_unprocessed_photo_has_nothing_to_serve(user_client, avatar):
    for verdict in (PhotoVerdict.REJECTED, PhotoVerdict.PROCESSING):
        photo = PhotoFactory(avatar=avatar, verdict=verdict)
        assert user_client.get(reverse("photos:image", args=[avatar.pk, photo.pk])).status_code == 404


class SigningStorage(FileSystemStorage):
    """Stands in for S3 with querystring auth: it hands out signed, expiring URLs."""

    querystring_auth = True
    querystring_expire = 300

    def url(self, name, parameters=None, expire=None, http_method=None):
        self.last_parameters = parameters
        return f"https://bucket.example.test/{name}?X-Amz-Signature=abc&X-Amz-Expires={self.querystring_expire}"


def test_with_signing_storage_the_owner_is_redirected_to_a_short_lived_url(client, stored_photo, avatar, settings):
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "tests.photos.test_views.SigningStorage", "OPTIONS": {"location": settings.MEDIA_ROOT}}}

    response = client.get(reverse("photos:image", args=[avatar.pk, stored_photo.pk]))

    assert response.status_code == 302
    assert response.url.startswith(f"https://bucket.example.test/{stored_photo.image.name}?X-Amz-Signature=")
    assert response["Cache-Control"] == "private, no-store"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_staff_can_look_photos_up_in_the_admin(client, avatar):
    from tests.factories import UserFactory

    staff = UserFactory(is_staff=True, is_superuser=True)
    photo = PhotoFactory(avatar=avatar, verdict=PhotoVerdict.REJECTED,
                         findings=[{"code": "empty", "level": "refuse", "message": "This file is empty."}])
    client.force_login(staff)

    listing = client.get(reverse("admin:photos_photo_changelist"), {"q": photo.original_name})
    detail = client.get(reverse("admin:photos_photo_change", args=[photo.pk]))

    assert photo.original_name in listing.content.decode()
    assert detail.status_code == 200 and "This file is empty." in detail.content.decode()


def test_the_admin_never_shows_a_photos_face_analysis(client, avatar):
    from tests.factories import UserFactory

    (photo,) = ready_photos(avatar, 1)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    detail = client.get(reverse("admin:photos_photo_change", args=[photo.pk])).content.decode()

    assert photo.original_name in detail
    assert "descriptor" not in detail and photo.analysis["faces"][0]["fingerprint"] not in detail


def test_the_set_shows_its_variety_and_advice(user_client, avatar):
    first, *others = ready_photos(avatar, 3)

    varied = user_client.get(reverse("photos:set", args=[avatar.pk]), headers=HTMX).content.decode()
    Photo.objects.filter(pk__in=[p.pk for p in others]).update(analysis=first.analysis)  # three alike
    uniform = user_client.get(reverse("photos:set", args=[avatar.pk]), headers=HTMX).content.decode()

    meter = re.search(r'<meter id="photo-variety-meter" value="([0-9.]+)"', varied)
    assert meter and 0.5 < float(meter.group(1)) <= 1
    assert '<meter id="photo-variety-meter" value="0.00"' in uniform and "<strong>Low</strong>" in uniform
    assert "The background is much the same in every photo" in uniform
    assert "The background is much the same in every photo" not in varied
