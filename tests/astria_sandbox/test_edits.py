"""The sandbox's edits of a picture: super resolution, outpainting (Flux only) and edits by
instruction on the partner edit model, as the studio's edit studio asks for them."""

import io

import numpy as np
import pytest
import requests
from django.conf import settings
from PIL import Image

from tests.astria_sandbox.api import fetch_until

FLUX = settings.ASTRIA_BASE_TUNE_IDS["flux1"]
SD15 = settings.ASTRIA_BASE_TUNE_IDS["sd15"]
EDIT_MODEL = settings.ASTRIA_EDIT_TUNE_ID


def _picture(colour=(200, 180, 150), size=(512, 512)) -> bytes:
    """A portrait-like picture: a face-coloured disc on a light background."""
    img = Image.new("RGB", size, (225, 230, 235))
    arr = np.asarray(img).copy()
    yy, xx = np.mgrid[: size[1], : size[0]]
    disc = (xx - size[0] / 2) ** 2 + (yy - size[1] * 0.4) ** 2 < (size[0] * 0.22) ** 2
    arr[disc] = colour
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format="JPEG", quality=95)
    return out.getvalue()


def _post(api, tune_id, text, picture=None, **fields):
    files = [(f"prompt[{key}]", (None, str(value))) for key, value in {"text": text, **fields}.items()]
    if picture is not None:
        files.append(("prompt[input_image]", ("in.jpg", picture, "image/jpeg")))
    return api("POST", f"/tunes/{tune_id}/prompts", files=files)


def _first_image(api, sandbox, prompt) -> Image.Image:
    done = fetch_until(sandbox, lambda: api("GET", f"/prompts/{prompt['id']}").json(), lambda p: p["images"])
    return Image.open(io.BytesIO(requests.get(done["images"][0], timeout=30).content))


def test_a_fresh_prompt_with_super_resolution_is_four_times_larger(api, astria_sandbox):
    tune = api.tune()
    prompt = api.prompt(tune["id"], "sks woman, film noir", num_images=1, super_resolution=True)

    assert _first_image(api, astria_sandbox, prompt).size == (4096, 4096)


@pytest.mark.parametrize(
    ("anchor", "size", "where"),
    [("center", (3072, 768), (1152, 0)), ("top-center", (1152, 2048), (192, 0))],
)
def test_outpainting_on_flux_puts_the_picture_at_its_anchor_on_the_larger_canvas(
    api, astria_sandbox, anchor, size, where
):
    picture = _picture(size=(768, 768))
    width, height = size

    response = _post(
        api, FLUX, f"ohwx woman --outpaint {anchor} --outpaint_width {width} --outpaint_height {height}",
        picture, denoising_strength=0, num_images=1,
    )

    assert response.status_code == 201, response.text
    made = _first_image(api, astria_sandbox, response.json())
    assert made.size == size
    left, top = where
    inside = made.crop((left + 100, top + 100, left + 668, top + 500)).resize((64, 45))
    original = Image.open(io.BytesIO(picture)).crop((100, 100, 668, 500)).resize((64, 45))
    gap = np.abs(np.asarray(inside.convert("L"), float) - np.asarray(original.convert("L"), float)).mean()
    assert gap < 8  # the portrait itself is kept where the anchor says


@pytest.mark.parametrize(
    ("tune_id", "text", "error"),
    [
        (SD15, "sks woman --outpaint center --outpaint_width 1024 --outpaint_height 512", "only available for Flux"),
        (FLUX, "ohwx woman --outpaint middle --outpaint_width 1024 --outpaint_height 512", "--outpaint must be one of"),
        (FLUX, "ohwx woman --outpaint center --outpaint_width 1001 --outpaint_height 512", "positive multiple of 8"),
    ],
)
def test_outpainting_a_model_cannot_do_or_a_bad_flag_gets_422(api, tune_id, text, error):
    response = _post(api, tune_id, text, _picture())

    assert response.status_code == 422 and error in response.json()["error"]


def test_an_unreadable_input_image_gets_422(api):
    response = _post(api, EDIT_MODEL, "plain grey background", b"not an image")

    assert response.status_code == 422 and "input_image is not a readable image" in response.json()["error"]


def test_an_instruction_edit_changes_what_it_names_and_keeps_the_rest(api, astria_sandbox):
    picture = _picture()
    original = np.asarray(Image.open(io.BytesIO(picture)).convert("RGB"), float)

    background = _first_image(api, astria_sandbox, _post(api, EDIT_MODEL, "plain navy background", picture).json())
    blazer = _first_image(api, astria_sandbox, _post(api, EDIT_MODEL, "a red blazer instead", picture).json())

    assert background.size == blazer.size == (512, 512)
    for made, changed, kept in (
        (background, (slice(0, 40), slice(0, 40)), (slice(150, 250), slice(200, 310))),  # a corner; the face
        (blazer, (slice(420, 470), slice(200, 310)), (slice(150, 250), slice(200, 310))),  # the clothes; the face
    ):
        made = np.asarray(made.convert("RGB"), float)
        assert np.abs(made[changed] - original[changed]).mean() > 60  # visibly changed
        assert np.abs(made[kept] - original[kept]).mean() < 20  # the face is left alone
