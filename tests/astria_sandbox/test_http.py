"""The sandbox's HTTP contract, spoken to directly (requests, no studio client): routes, Astria's
JSON shapes, validation, keys, files and the control routes."""

import io
import json
import re
from datetime import datetime, timedelta

import numpy as np
import pytest
import requests
from PIL import Image

from tests.astria.factories import photo_bytes
from tests.astria_sandbox.api import Api, fetch_until

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TUNE_KEYS = {
    "id",
    "title",
    "name",
    "is_api",
    "token",
    "eta",
    "callback",
    "trained_at",
    "started_training_at",
    "expires_at",
    "created_at",
    "updated_at",
    "branch",
    "model_type",
    "base_tune_id",
    "args",
    "steps",
    "face_crop",
    "ckpt_url",
    "ckpt_urls",
    "url",
    "orig_images",
}
PROMPT_KEYS = {
    "id",
    "callback",
    "trained_at",
    "started_training_at",
    "created_at",
    "updated_at",
    "tune_id",
    "text",
    "negative_prompt",
    "cfg_scale",
    "steps",
    "seed",
    "super_resolution",
    "ar",
    "num_images",
    "w",
    "h",
    "controlnet_conditioning_scale",
    "controlnet_txt2img",
    "denoising_strength",
    "style",
    "input_image",
    "mask_image",
    "base_pack_id",
    "prompt_likes_count",
    "liked",
    "user_error",
    "url",
    "images",
    "tune",
    "tunes",
}


def test_requests_without_a_valid_key_get_401(astria_sandbox):
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Token sd_abc"}):
        response = requests.get(f"{astria_sandbox.url}/tunes", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.text == "HTTP Token: Access denied.\n"


def test_a_created_tune_has_astrias_shape(api):
    response = api.create_tune(
        "order-7f3c", callback="http://127.0.0.1:9/cb", branch="sd15", face_crop="true"
    )

    assert response.status_code == 201
    tune = response.json()
    assert tune.keys() >= TUNE_KEYS
    assert (tune["title"], tune["name"], tune["branch"], tune["token"], tune["face_crop"]) == (
        "order-7f3c",
        "woman",
        "sd15",
        "sks",
        True,
    )
    assert (
        tune["is_api"] is True and tune["model_type"] is None and tune["callback"] == "http://127.0.0.1:9/cb"
    )
    for key in ("eta", "created_at", "updated_at"):
        assert TIMESTAMP.match(tune[key]), tune[key]
    assert tune["trained_at"] is None and tune["started_training_at"] is None and tune["expires_at"] is None
    assert tune["ckpt_url"] is None and tune["ckpt_urls"] == []
    assert tune["url"] == f"{api.url}/tunes/{tune['id']}.json"
    assert len(tune["orig_images"]) == 2 and all(isinstance(u, str) for u in tune["orig_images"])


def test_a_trained_checkpoint_tune_gets_trained_at_expiry_and_ckpt_url(api, astria_sandbox):
    tune = api.tune()
    lora = api.tune("lora", branch="flux1", model_type="lora", base_tune_id="1504944")

    trained = fetch_until(
        astria_sandbox, lambda: api("GET", f"/tunes/{tune['id']}").json(), lambda t: t["trained_at"]
    )
    lora = fetch_until(astria_sandbox, lambda: api("GET", f"/tunes/{lora['id']}").json(), lambda t: t["trained_at"])

    assert TIMESTAMP.match(trained["trained_at"]) and TIMESTAMP.match(trained["started_training_at"])
    parse = datetime.fromisoformat
    assert parse(trained["expires_at"]) - parse(trained["trained_at"]) == timedelta(days=30)
    assert trained["ckpt_url"] and trained["ckpt_urls"] == [trained["ckpt_url"]]
    assert requests.get(trained["ckpt_url"], timeout=5).status_code == 200
    assert lora["ckpt_url"] is None and lora["token"] == "ohwx" and lora["branch"] == "flux1"


def test_the_json_suffix_is_optional(api):
    tune = api.tune()

    assert api("GET", f"/tunes/{tune['id']}.json").json()["id"] == tune["id"]
    assert [t["id"] for t in api("GET", "/tunes.json").json()] == [tune["id"]]
    prompt = api.prompt(tune["id"])
    assert api("GET", f"/tunes/{tune['id']}/prompts/{prompt['id']}.json").json()["id"] == prompt["id"]
    assert api("GET", f"/prompts/{prompt['id']}.json").json()["id"] == prompt["id"]


def test_tunes_from_json_with_image_urls(api):
    source = api.tune("source")

    response = api(
        "POST",
        "/tunes",
        json={
            "tune": {
                "title": "from-urls",
                "name": "dog",
                "image_urls": source["orig_images"],
                "characteristics": {"breed": "collie"},
            }
        },
    )

    assert response.status_code == 201
    assert len(response.json()["orig_images"]) == 2


@pytest.mark.parametrize(
    ("fields", "photos", "error"),
    [
        ({"title": ""}, 2, "title can't be blank"),
        ({"name": ""}, 2, "name can't be blank"),
        ({}, 0, "no images"),
        ({"branch": "sd42"}, 2, "branch 'sd42' is not one of"),
        ({"model_type": "dreambooth"}, 2, "model_type 'dreambooth' is not one of"),
        ({"base_tune_id": "99"}, 2, "base_tune_id 99 not found"),
        ({"steps": "many"}, 2, "steps must be an integer"),
        ({"callback": "ftp://x"}, 2, "callback must be an http or https URL"),
    ],
)
def test_invalid_tunes_get_422_with_an_error(api, fields, photos, error):
    data = {"tune[title]": "t", "tune[name]": "man", **{f"tune[{k}]": v for k, v in fields.items()}}
    files = [
        ("tune[images][]", (f"{n}.jpg", photo_bytes(n, size=(64, 64)), "image/jpeg")) for n in range(photos)
    ]

    response = api("POST", "/tunes", data=data, files=files or {"other": ("x.txt", b"x")})

    assert response.status_code == 422
    assert error in response.json()["error"]


def test_an_undecodable_image_gets_422(api):
    files = [
        ("tune[images][]", ("a.jpg", photo_bytes(1), "image/jpeg")),
        ("tune[images][]", ("b.jpg", b"junk", "image/jpeg")),
    ]

    response = api("POST", "/tunes", data={"tune[title]": "t", "tune[name]": "man"}, files=files)

    assert response.status_code == 422
    assert response.json()["error"].startswith("image 2 is not a readable image")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"text": "  "}, "text can't be blank"),
        ({"num_images": 0}, "num_images must be between 1 and 8"),
        ({"num_images": 9}, "num_images must be between 1 and 8"),
        ({"w": 500}, "w must be a positive multiple of 8"),
        ({"h": 1001}, "h must be a positive multiple of 8"),
        ({"inpaint_faces": True}, "inpaint_faces requires super_resolution=true"),
        ({"style": "Baroque"}, "style 'Baroque' is not one of"),
        ({"cfg_scale": 16}, "cfg_scale must be between 0 and 15"),
        ({"steps": 51}, "steps must be between 0 and 50"),
        ({"seed": -1}, "seed must be between 0 and 4294967295"),
        ({"text": "<lora:123:1> sks man"}, "the tune 123 referenced in the text was not found"),
    ],
)
def test_invalid_prompts_get_422_with_an_error(api, fields, error):
    tune = api.tune()

    response = api("POST", f"/tunes/{tune['id']}/prompts", json={"prompt": {"text": "sks woman", **fields}})

    assert response.status_code == 422
    assert error in response.json()["error"]


def test_multipart_prompts_with_rails_booleans(api):
    tune = api.tune()
    form = {
        "prompt[text]": "sks woman",
        "prompt[num_images]": "2",
        "prompt[super_resolution]": "true",
        "prompt[inpaint_faces]": "true",
        "prompt[cfg_scale]": "3",
        "prompt[w]": "512",
    }

    response = api("POST", f"/tunes/{tune['id']}/prompts", files={k: (None, v) for k, v in form.items()})

    prompt = response.json()
    assert response.status_code == 201 and prompt.keys() >= PROMPT_KEYS
    assert (
        prompt["num_images"],
        prompt["super_resolution"],
        prompt["inpaint_faces"],
        prompt["cfg_scale"],
        prompt["w"],
    ) == (
        2,
        True,
        True,
        "3.0",
        512,
    )
    assert prompt["images"] == [] and prompt["trained_at"] is None and TIMESTAMP.match(prompt["created_at"])
    assert prompt["url"] == f"{api.url}/tunes/{tune['id']}/prompts/{prompt['id']}.json"
    assert prompt["tune"] == {"id": tune["id"], "title": "job"}


def test_unwrapped_json_prompts_are_accepted(api):
    tune = api.tune()

    response = api("POST", f"/tunes/{tune['id']}/prompts", json={"text": "sks woman", "num_images": 3})

    assert response.status_code == 201 and response.json()["num_images"] == 3


def test_another_keys_objects_are_404(api, astria_sandbox):
    tune = api.tune()
    prompt = api.prompt(tune["id"])
    stranger = Api(astria_sandbox.url, "sd_stranger")

    for method, path in [
        ("GET", f"/tunes/{tune['id']}"),
        ("DELETE", f"/tunes/{tune['id']}"),
        ("GET", f"/tunes/{tune['id']}/prompts"),
        ("POST", f"/tunes/{tune['id']}/prompts"),
        ("GET", f"/tunes/{tune['id']}/prompts/{prompt['id']}"),
        ("GET", f"/prompts/{prompt['id']}"),
        ("POST", f"/prompts/{prompt['id']}/likes"),
    ]:
        assert stranger(method, path, json={"prompt": {"text": "x"}}).status_code == 404, (method, path)
    assert stranger("GET", "/tunes").json() == []
    assert api("GET", f"/tunes/{tune['id']}").status_code == 200


def test_lists_are_newest_first_in_pages_of_twenty(api):
    ids = [api.create_tune(f"t{n}", photos=1).json()["id"] for n in range(25)]

    first = api("GET", "/tunes").json()
    second = api("GET", "/tunes", params={"offset": 20}).json()

    assert [t["id"] for t in first] == ids[::-1][:20]
    assert [t["id"] for t in second] == ids[::-1][20:]
    assert [t["id"] for t in api("GET", "/tunes", params={"title": "t3"}).json()] == [ids[3]]
    assert api("GET", "/tunes", params={"offset": "x"}).status_code == 400


def test_generated_images_are_served_deterministic_and_styled(api, astria_sandbox):
    tune = api.tune()
    noir = api.prompt(tune["id"], "sks woman, film noir", num_images=2)
    neon = api.prompt(tune["id"], "sks woman, neon cyberpunk", num_images=2)
    noir = fetch_until(astria_sandbox, lambda: api("GET", f"/prompts/{noir['id']}").json(), lambda p: p["images"])
    neon = fetch_until(astria_sandbox, lambda: api("GET", f"/prompts/{neon['id']}").json(), lambda p: p["images"])

    first = requests.get(noir["images"][0], timeout=10)
    again = requests.get(noir["images"][0], timeout=10)
    other = requests.get(neon["images"][0], timeout=10)

    assert first.headers["Content-Type"] == "image/jpeg"
    assert first.content == again.content != other.content
    image = Image.open(io.BytesIO(first.content))
    assert (image.format, image.size) == ("JPEG", (1024, 1024))
    assert requests.get(noir["images"][0].replace("/0.jpg", "/2.jpg"), timeout=5).status_code == 404
    assert requests.get(tune["orig_images"][0], timeout=5).content == photo_bytes(0, size=(200, 240))


def test_likes(api):
    tune = api.tune()
    prompt = api.prompt(tune["id"])

    assert api("POST", f"/prompts/{prompt['id']}/likes").status_code == 201
    assert api("POST", f"/prompts/{prompt['id']}/like").status_code == 201
    liked = api("GET", f"/prompts/{prompt['id']}").json()
    assert api("DELETE", f"/prompts/{prompt['id']}/likes").status_code == 200
    unliked = api("GET", f"/prompts/{prompt['id']}").json()

    assert (liked["liked"], liked["prompt_likes_count"]) == (True, 1)
    assert (unliked["liked"], unliked["prompt_likes_count"]) == (False, 0)


def test_gallery_base_tunes_take_lora_prompts(api, astria_sandbox, settings):
    flux = settings.ASTRIA_BASE_TUNE_IDS["flux1"]
    lora = api.tune("lora", branch="flux1", model_type="lora", base_tune_id=str(flux))
    fetch_until(astria_sandbox, lambda: api("GET", f"/tunes/{lora['id']}").json(), lambda t: t["trained_at"])

    base = api("GET", f"/tunes/{flux}").json()
    prompt = api.prompt(flux, f"<lora:{lora['id']}:1> ohwx woman in the forest", num_images=1)
    done = fetch_until(
        astria_sandbox,
        lambda: api("GET", f"/tunes/{flux}/prompts/{prompt['id']}").json(),
        lambda p: p["images"],
    )

    assert base["branch"] == "flux1" and base["is_api"] is False
    assert done["tune_id"] == flux and done["tunes"] == [{"id": lora["id"], "title": "lora"}]
    assert [t["id"] for t in api("GET", "/gallery/tunes").json()] == sorted(
        settings.ASTRIA_GALLERY_TUNES.values(), reverse=True
    )
    assert api("GET", "/tunes").json()[0]["id"] == lora["id"]  # gallery tunes are not in the key's list


def test_deleting_a_tune_deletes_its_prompts_and_photos(api):
    tune = api.tune()
    prompt = api.prompt(tune["id"])

    assert api("DELETE", f"/tunes/{tune['id']}").status_code == 200

    assert api("GET", f"/tunes/{tune['id']}").status_code == 404
    assert api("GET", f"/prompts/{prompt['id']}").status_code == 404
    assert requests.get(tune["orig_images"][0], timeout=5).status_code == 404


def test_deleting_and_renaming(api):
    tune = api.tune()
    prompt = api.prompt(tune["id"])

    renamed = api("PATCH", f"/tunes/{tune['id']}", json={"tune": {"title": "renamed"}})
    deleted = api("DELETE", f"/tunes/{tune['id']}/prompts/{prompt['id']}")

    assert renamed.json()["title"] == "renamed"
    assert deleted.status_code == 200
    assert api("GET", f"/tunes/{tune['id']}/prompts").json() == []


def test_the_control_api(astria_sandbox, api):
    control = requests.Session()
    url = astria_sandbox.url

    changed = control.post(
        f"{url}/_sandbox/faults", json={"fail_next": 2, "fail_status": 504, "prompt_delay": 1.5}
    )
    refused = control.post(f"{url}/_sandbox/faults", json={"fail_next": 5, "fail_status": 418})
    assert api.create_tune("t1").status_code == 504
    stats = control.get(f"{url}/_sandbox/stats").json()

    assert changed.status_code == 200 and changed.json()["prompt_delay"] == 1.5
    assert refused.status_code == 422 and "fail_status must be one of" in refused.json()["error"]
    assert stats["tunes_by_title"] == {"t1": 1} and stats["faults_injected"] == 1
    assert stats["switches"]["fail_next"] == 1
    assert control.get(f"{url}/_sandbox/faults").json()["fail_status"] == 504
    assert control.post(f"{url}/_sandbox/faults", json={"bogus": 1}).status_code == 422
    assert control.post(f"{url}/_sandbox/tunes/1/train").status_code == 404
    assert control.get(f"{url}/_sandbox/callbacks").json() == []


def test_the_likeness_fault_is_switched_at_runtime_and_kept_by_the_prompts_it_applies_to(astria_sandbox, api):
    control = requests.Session()
    url = astria_sandbox.url
    tune = api.tune()

    switched = control.post(f"{url}/_sandbox/faults", json={
        "likeness_fault": "stranger", "likeness_fault_share": 0.5, "likeness_fault_match": "Noir"})
    noir = api.prompt(tune["id"], text="sks woman, film noir")
    beach = api.prompt(tune["id"], text="sks woman on the beach")

    assert switched.status_code == 200 and switched.json()["likeness_fault"] == "stranger"
    stored = astria_sandbox.sandbox.store
    rows = {row["id"]: row["likeness_fault"]
            for row in stored._db.execute("SELECT id, likeness_fault FROM prompts")}
    assert json.loads(rows[noir["id"]]) == {"mode": "stranger", "share": 0.5} and rows[beach["id"]] is None
    assert control.get(f"{url}/_sandbox/stats").json()["likeness_faults"] == 1
    for bad in ({"likeness_fault": "blurry"}, {"likeness_fault_share": 1.5}):
        refused = control.post(f"{url}/_sandbox/faults", json=bad)
        assert refused.status_code == 422 and "likeness_fault" in refused.json()["error"]


def test_prompts_attributes_create_prompts_with_the_tune(api, astria_sandbox, callback_receiver):
    form = {
        "tune[title]": "with-prompts",
        "tune[name]": "man",
        "tune[prompts_attributes][][text]": "sks man, noir",
        "tune[prompts_attributes][][num_images]": "2",
        "tune[prompts_attributes][][callback]": f"{callback_receiver.url}/callbacks/p",
    }
    pairs = [*form.items(), ("tune[prompts_attributes][][text]", "sks man, vintage")]
    files = [("tune[images][]", ("a.jpg", photo_bytes(1, size=(64, 64)), "image/jpeg"))]

    response = api("POST", "/tunes", data=pairs, files=files)
    tune_id = response.json()["id"]
    prompts = api("GET", f"/tunes/{tune_id}/prompts").json()
    (callback,) = callback_receiver.wait_for(1)

    assert response.status_code == 201
    assert [(p["text"], p["num_images"]) for p in prompts] == [("sks man, vintage", 8), ("sks man, noir", 2)]
    assert len(callback.body["prompt"]["images"]) == 2


def test_an_invalid_prompt_in_prompts_attributes_creates_nothing(api, astria_sandbox):
    data = {"tune[title]": "t", "tune[name]": "man", "tune[prompts_attributes][0][text]": ""}
    files = [("tune[images][]", ("a.jpg", photo_bytes(1, size=(64, 64)), "image/jpeg"))]

    response = api("POST", "/tunes", data=data, files=files)

    assert response.status_code == 422
    assert response.json()["error"] == "prompts_attributes[0]: text can't be blank"
    assert astria_sandbox.stats()["tunes_created"] == 0


def test_deleting_a_prompt_answers_with_a_message(api):
    tune = api.tune()
    prompt = api.prompt(tune["id"])

    response = api("DELETE", f"/prompts/{prompt['id']}")

    assert response.json() == {"message": "Prompt successfully deleted"}


def test_a_duplicate_with_a_new_seed_is_a_new_prompt_with_a_different_image(api, astria_sandbox):
    tune = api.tune()
    source = api.prompt(tune["id"], "sks woman, film noir", num_images=2, seed=1, callback="https://x.test/a")
    source = fetch_until(astria_sandbox, lambda: api("GET", f"/prompts/{source['id']}").json(), lambda p: p["images"])

    response = api(
        "POST", f"/prompts/{source['id']}/duplicate",
        files=[("prompt[seed]", (None, "77")), ("prompt[num_images]", (None, "1")), ("image_index", (None, "1"))],
    )

    assert response.status_code == 201, response.text
    copy = response.json()
    assert copy["id"] != source["id"] and copy["orig_prompt_id"] == source["id"]
    assert (copy["tune_id"], copy["text"], copy["callback"]) == (tune["id"], source["text"], "https://x.test/a")
    assert (copy["seed"], copy["num_images"]) == (77, 1)
    copy = fetch_until(astria_sandbox, lambda: api("GET", f"/prompts/{copy['id']}").json(), lambda p: p["images"])
    made = Image.open(io.BytesIO(requests.get(copy["images"][0], timeout=10).content))
    original = Image.open(io.BytesIO(requests.get(source["images"][1], timeout=10).content))
    assert made.size == (1024, 1024)
    assert _grey_gap(made, original) > 12  # visibly another picture, not the same one again


def _grey_gap(a: Image.Image, b: Image.Image) -> float:
    """The mean difference, 0-255, between two pictures seen small and in grey."""
    small = [np.asarray(img.convert("L").resize((64, 64)), dtype=float) for img in (a, b)]
    return float(np.abs(small[0] - small[1]).mean())


@pytest.mark.parametrize(
    ("image_index", "error"), [("2", "image_index must be between 0 and 1"), ("x", "image_index must be an integer")]
)
def test_a_duplicate_of_an_image_that_does_not_exist_gets_422(api, astria_sandbox, image_index, error):
    tune = api.tune()
    source = api.prompt(tune["id"], num_images=2)
    fetch_until(astria_sandbox, lambda: api("GET", f"/prompts/{source['id']}").json(), lambda p: p["images"])

    response = api("POST", f"/prompts/{source['id']}/duplicate", data={"image_index": image_index})

    assert response.status_code == 422 and error in response.text


def test_a_duplicate_of_someone_elses_or_no_prompt_is_404(api, astria_sandbox):
    tune = api.tune()
    source = api.prompt(tune["id"], num_images=1)
    stranger = Api(astria_sandbox.url, key="sd_someone_else")

    assert stranger("POST", f"/prompts/{source['id']}/duplicate", data={"prompt[seed]": "5"}).status_code == 404
    assert api("POST", "/prompts/999/duplicate", data={"prompt[seed]": "5"}).status_code == 404


def test_a_duplicate_reusing_an_image_with_super_resolution_is_that_image_four_times_larger(api, astria_sandbox):
    tune = api.tune()
    source = api.prompt(tune["id"], "sks woman, film noir", num_images=2)
    source = fetch_until(astria_sandbox, lambda: api("GET", f"/prompts/{source['id']}").json(), lambda p: p["images"])

    copy = api(
        "POST", f"/prompts/{source['id']}/duplicate",
        data={"image_index": "1", "prompt[super_resolution]": "true", "prompt[num_images]": "1"},
    ).json()
    copy = fetch_until(astria_sandbox, lambda: api("GET", f"/prompts/{copy['id']}").json(), lambda p: p["images"])

    assert copy["super_resolution"] is True and len(copy["images"]) == 1
    bigger = Image.open(io.BytesIO(requests.get(copy["images"][0], timeout=30).content))
    original = Image.open(io.BytesIO(requests.get(source["images"][1], timeout=10).content))
    assert bigger.size == (4096, 4096)
    assert _grey_gap(bigger, original) < 4  # the same picture, scaled
