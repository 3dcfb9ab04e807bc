"""The client against the sandbox over real HTTP: every method, typed results, pagination."""

import io
from datetime import UTC, timedelta

import pytest
import requests
from PIL import Image

from studio.astria.client import AstriaClient, get_client
from studio.astria.errors import AstriaNotFound
from studio.astria.types import Prompt, Tune
from tests.astria.factories import photo_bytes

FLUX_BASE = 1504944


def _tune(client, title="job-1", **extra):
    params = {
        "name": "woman",
        "images": [("a.jpg", photo_bytes(1)), ("b.png", photo_bytes(2, image_format="PNG"))],
    }
    return client.create_tune(title=title, **(params | extra))


def test_get_client_talks_to_the_sandbox_with_the_sandbox_key(astria_sandbox, settings):
    client = get_client()

    assert client.api_url == astria_sandbox.url
    assert client.list_tunes() == []
    assert get_client() is client  # one connection pool per thread
    assert client.timeout == (settings.ASTRIA_CONNECT_TIMEOUT, settings.ASTRIA_READ_TIMEOUT)


def test_get_client_uses_the_real_key_when_one_is_set(settings):
    settings.ASTRIA_USES_SANDBOX = False
    settings.ASTRIA_API_KEY = "sd_live_key"
    settings.ASTRIA_API_URL = "https://api.astria.ai"

    client = get_client()

    assert client.api_url == "https://api.astria.ai"
    assert client._session.headers["Authorization"] == "Bearer sd_live_key"
    assert "sd_live_key" not in repr(client)


def test_create_tune_uploads_photos_and_returns_a_typed_tune(astria_sandbox, photos):
    client = get_client()

    tune = client.create_tune(
        title="7f3c2e1a-job",
        name="woman",
        images=[(name, io.BytesIO(data)) for name, data in photos],
        branch="fast",
        token="sks",
        callback="http://127.0.0.1:9/callbacks/secret-token",
        steps=500,
        face_crop=True,
        characteristics={"eye_color": "blue eyes"},
    )

    assert isinstance(tune, Tune)
    assert (tune.title, tune.name, tune.branch, tune.token, tune.steps, tune.face_crop) == (
        "7f3c2e1a-job",
        "woman",
        "fast",
        "sks",
        500,
        True,
    )
    assert tune.callback == "http://127.0.0.1:9/callbacks/secret-token"
    assert tune.created_at.tzinfo is not None and tune.eta is not None
    assert not tune.is_trained and tune.expires_at is None and tune.ckpt_url is None
    assert len(tune.orig_images) == 3
    assert requests.get(tune.orig_images[1], timeout=5).content == photos[1][1]
    assert tune.raw["url"] == tune.url


def test_create_tune_from_image_urls(astria_sandbox, photos):
    client = get_client()
    source = client.create_tune(title="source", name="man", images=photos)

    tune = client.create_tune(title="from-urls", name="man", image_urls=list(source.orig_images[:2]))

    assert tune.title == "from-urls"
    assert len(tune.orig_images) == 2
    assert requests.get(tune.orig_images[0], timeout=5).content == photos[0][1]


def test_create_tune_needs_exactly_one_kind_of_images(astria_sandbox, photos):
    with pytest.raises(ValueError, match="either images or image_urls"):
        get_client().create_tune(title="t", name="man")
    with pytest.raises(ValueError, match="either images or image_urls"):
        get_client().create_tune(title="t", name="man", images=photos, image_urls=["https://x.test/1.jpg"])


def test_a_tune_trains_and_then_carries_expiry_and_checkpoint(astria_sandbox):
    client = get_client()
    tune = _tune(client)

    trained = astria_sandbox.wait_for(lambda: (t := client.get_tune(tune.id)).is_trained and t)

    assert trained.started_training_at <= trained.trained_at
    assert trained.expires_at == trained.trained_at + timedelta(days=30)
    assert trained.trained_at.tzinfo == UTC
    assert trained.ckpt_url  # a checkpoint tune
    lora = _tune(client, "lora-job", branch="flux1", model_type="lora", base_tune_id=FLUX_BASE)
    lora = astria_sandbox.wait_for(lambda: (t := client.get_tune(lora.id)).is_trained and t)
    assert lora.is_lora and lora.ckpt_url is None and lora.base_tune_id == FLUX_BASE


def test_list_tunes_pages_of_twenty_newest_first_and_iter_tunes_walks_them_all(astria_sandbox):
    client = get_client()
    photo = [("p.jpg", photo_bytes(0, size=(64, 64)))]
    created = [client.create_tune(title=f"job-{n:02d}", name="dog", images=photo) for n in range(23)]

    first, second = client.list_tunes(), client.list_tunes(offset=20)
    everything = list(client.iter_tunes())

    newest_first = [t.id for t in reversed(created)]
    assert [t.id for t in first] == newest_first[:20]
    assert [t.id for t in second] == newest_first[20:]
    assert [t.id for t in everything] == newest_first


def test_find_tune_by_title(astria_sandbox):
    client = get_client()
    photo = [("p.jpg", photo_bytes(0, size=(64, 64)))]
    for n in range(22):
        client.create_tune(title=f"job-{n}", name="cat", images=photo)

    found = client.find_tune_by_title("job-0")  # the oldest, on the second page

    assert found is not None and found.title == "job-0"
    assert client.find_tune_by_title("job-missing") is None


def test_find_tune_by_title_compares_titles_when_the_filter_is_ignored(canned_server):
    canned_server.answer(200, '[{"id": 1, "title": "other"}, {"id": 2, "title": "wanted"}]')

    found = canned_server.client().find_tune_by_title("wanted")

    assert found.id == 2
    assert canned_server.requests[0]["path"] == "/tunes?title=wanted&offset=0"


def test_delete_tune(astria_sandbox):
    client = get_client()
    tune = _tune(client)

    client.delete_tune(tune.id)

    with pytest.raises(AstriaNotFound):
        client.get_tune(tune.id)
    with pytest.raises(AstriaNotFound):
        client.delete_tune(tune.id)


def test_prompts_wait_for_training_then_finish_with_their_images(astria_sandbox):
    astria_sandbox.set_delays(training=3600)
    client = get_client()
    tune = _tune(client, callback=None)

    prompt = client.create_prompt(
        tune_id=tune.id,
        text="sks woman in a navy blazer, studio lighting",
        negative_prompt="blurry",
        num_images=4,
        seed=42,
        cfg_scale=3.5,
        steps=30,
        super_resolution=True,
        inpaint_faces=True,
        w=512,
        h=768,
        callback="http://127.0.0.1:9/callbacks/prompt-token",
    )

    assert isinstance(prompt, Prompt)
    assert (prompt.tune_id, prompt.num_images, prompt.seed, prompt.steps, prompt.w, prompt.h) == (
        tune.id,
        4,
        42,
        30,
        512,
        768,
    )
    assert str(prompt.cfg_scale) == "3.5" and prompt.super_resolution and prompt.inpaint_faces
    assert prompt.negative_prompt == "blurry"
    assert not prompt.is_done and prompt.images == ()
    astria_sandbox.advance()
    assert client.get_prompt(tune.id, prompt.id).started_training_at is None  # waiting for the tune

    astria_sandbox.train_now(tune.id)
    done = astria_sandbox.wait_for(lambda: (p := client.get_prompt(tune.id, prompt.id)).is_done and p)

    assert len(done.images) == 4 and not done.is_failed
    assert done.started_training_at >= client.get_tune(tune.id).trained_at
    image = Image.open(io.BytesIO(requests.get(done.images[0], timeout=10).content))
    assert (image.format, image.size) == ("JPEG", (4096, 4096))  # super resolution: 4 times the 1024 px


def test_a_prompt_without_num_images_gets_eight(astria_sandbox):
    client = get_client()
    tune = _tune(client)

    prompt = client.create_prompt(tune_id=tune.id, text="sks woman, watercolor")
    done = astria_sandbox.wait_for(lambda: (p := client.get_prompt(tune.id, prompt.id)).is_done and p)

    assert prompt.num_images == 8 and len(done.images) == 8


def test_list_iter_get_and_delete_prompts(astria_sandbox):
    client = get_client()
    tune = _tune(client)
    created = [
        client.create_prompt(tune_id=tune.id, text=f"sks woman, look {n}", num_images=1) for n in range(22)
    ]

    page = client.list_prompts(tune.id)
    everything = list(client.iter_prompts(tune.id))

    assert [p.id for p in page] == [p.id for p in reversed(created)][:20]
    assert [p.id for p in everything] == [p.id for p in reversed(created)]
    assert client.get_prompt(tune.id, created[3].id).text == "sks woman, look 3"
    client.delete_prompt(tune.id, created[3].id)
    with pytest.raises(AstriaNotFound):
        client.get_prompt(tune.id, created[3].id)
    assert len(list(client.iter_prompts(tune.id))) == 21


def test_like_and_unlike_a_prompt(astria_sandbox):
    client = get_client()
    tune = _tune(client)
    prompt = client.create_prompt(tune_id=tune.id, text="sks woman", num_images=1)

    client.like_prompt(prompt.id)
    client.like_prompt(prompt.id)  # liking twice counts once
    liked = client.get_prompt(tune.id, prompt.id)
    client.unlike_prompt(prompt.id)
    unliked = client.get_prompt(tune.id, prompt.id)

    assert (liked.liked, liked.likes_count) == (True, 1)
    assert (unliked.liked, unliked.likes_count) == (False, 0)
    with pytest.raises(AstriaNotFound):
        client.like_prompt(999)


def test_lora_prompts_run_on_the_base_tune_with_the_lora_tag(astria_sandbox):
    client = get_client()
    lora = _tune(client, branch="flux1", model_type="lora", base_tune_id=FLUX_BASE, token="ohwx")
    astria_sandbox.wait_for(lambda: client.get_tune(lora.id).is_trained)

    prompt = client.create_prompt(tune_id=FLUX_BASE, text=f"<lora:{lora.id}:1> ohwx woman as an astronaut")
    done = astria_sandbox.wait_for(lambda: (p := client.get_prompt(FLUX_BASE, prompt.id)).is_done and p)

    assert done.tune_id == FLUX_BASE
    assert done.referenced_tune_ids == (lora.id,)
    assert len(done.images) == 8
    assert client.get_tune(FLUX_BASE).branch == "flux1"


def test_each_key_sees_only_its_own_objects(astria_sandbox):
    mine = get_client()
    theirs = astria_sandbox.client("sd_someone_else")
    tune = _tune(mine)

    assert theirs.list_tunes() == []
    with pytest.raises(AstriaNotFound):
        theirs.get_tune(tune.id)
    with pytest.raises(AstriaNotFound):
        theirs.create_prompt(tune_id=tune.id, text="sks woman")


def test_requests_carry_bearer_key_user_agent_and_rails_brackets(canned_server):
    canned_server.answer(201, '{"id": 5, "title": "t"}')
    client = canned_server.client()

    client.create_tune(
        title="t",
        name="man",
        images=[("a.jpg", b"\xff\xd8jpeg")],
        face_crop=False,
        characteristics={"hair_color": "brown"},
    )

    sent = canned_server.requests[0]
    assert sent["headers"]["Authorization"].startswith("Bearer sd_")
    assert sent["headers"]["User-Agent"].startswith("AvatarStudio/")
    body = sent["body"]
    for part in (
        b'name="tune[title]"',
        b'name="tune[images][]"; filename="a.jpg"',
        b'name="tune[characteristics][hair_color]"',
        b"\r\n\r\nfalse\r\n",
    ):
        assert part in body

    canned_server.answer(201, '{"id": 6, "title": "u"}')
    client.create_tune(title="u", name="man", image_urls=["https://img.test/1.jpg"])
    assert canned_server.requests[1]["headers"]["Content-Type"] == "application/json"
    assert canned_server.requests[1]["body"].startswith(b'{"tune": {"title": "u"')


def test_a_client_without_a_session_makes_its_own(astria_sandbox):
    client = AstriaClient(api_url=astria_sandbox.url + "/", api_key=astria_sandbox.api_key)

    assert client.api_url == astria_sandbox.url
    assert client.list_tunes() == []
