import io

import pytest
from PIL import Image, ImageStat

from astria_sandbox.render import UnreadableImage, check_training_image, faulty, pick_style, render_prompt_image
from studio import faces
from studio.photos.samples import sample_set
from tests.astria.factories import photo_bytes

PHOTOS = [photo_bytes(1), photo_bytes(2)]


def _render(text, prompt_id=1, index=0, photos=PHOTOS, seed=None):
    data = render_prompt_image(
        photos=photos, text=text, prompt_id=prompt_id, index=index, num_images=8, seed=seed
    )
    return data, Image.open(io.BytesIO(data))


def test_images_are_1024_jpegs_and_deterministic():
    first, image = _render("sks man as a knight in a fantasy castle")
    again, _ = _render("sks man as a knight in a fantasy castle")

    assert (image.format, image.size) == ("JPEG", (1024, 1024))
    assert first == again
    assert _render("sks man as a knight in a fantasy castle", index=1)[0] != first
    assert _render("sks man as a knight in a fantasy castle", prompt_id=2)[0] != first


@pytest.mark.parametrize(
    ("text", "style"),
    [
        ("ohwx woman, film noir, black and white", "noir"),
        ("sks dog in a neon cyberpunk alley", "neon"),
        ("a watercolor portrait of sks man", "watercolour"),
        ("pencil sketch of ohwx woman", "sketch"),
        ("linkedin headshot, business suit", "business"),
        ("sks boy on the beach at sunset", "summer"),
        ("sks girl reading", "tinted"),
        ("an oldfashioned look", "tinted"),
    ],
)
def test_the_look_is_picked_from_the_prompt_words(text, style):
    assert pick_style(text)[0] == style


def test_different_prompts_look_clearly_different():
    _, noir = _render("sks man, film noir, black and white")
    _, neon = _render("sks man in a neon cyberpunk city")
    _, winter = _render("sks man in winter snow")

    means = [ImageStat.Stat(image).mean for image in (noir, neon, winter)]
    noir_mean, neon_mean, winter_mean = means
    assert max(noir_mean) - min(noir_mean) < 3  # grey: the channels agree
    assert neon_mean[0] - neon_mean[1] > 30  # magenta
    assert winter_mean[2] - winter_mean[0] > 15  # blue
    for a, b in ((noir_mean, neon_mean), (neon_mean, winter_mean), (noir_mean, winter_mean)):
        assert sum(abs(x - y) for x, y in zip(a, b, strict=True)) > 40


def test_a_prompt_without_training_photos_still_gets_an_image():
    data, image = _render("an abstract poster", photos=[])

    assert image.size == (1024, 1024)
    assert data == _render("an abstract poster", photos=[])[0]


def test_undecodable_training_images_are_refused():
    assert check_training_image(photo_bytes(3, image_format="WEBP")) == (640, 800)
    with pytest.raises(UnreadableImage):
        check_training_image(b"this is not an image")
    with pytest.raises(UnreadableImage):
        check_training_image(photo_bytes(1)[:200])


@pytest.mark.parametrize("mode", ["no_face", "stranger"])
def test_the_likeness_fault_paints_its_share_without_the_subject_or_with_someone_else(mode):
    photos = [data for _, data in sample_set(4)]
    analysed = [faces.analyse(Image.open(io.BytesIO(p)).convert("RGB")).largest.descriptor for p in photos]
    identity = analysed[faces.medoid(analysed)]
    fault = {"mode": mode, "share": 0.5}
    scores = []
    for index in range(4):
        data = render_prompt_image(photos=photos, text="sks woman, golden hour", prompt_id=7, index=index,
                                   num_images=4, seed=11, likeness_fault=fault)
        scores.append(faces.score(Image.open(io.BytesIO(data)).convert("RGB"), identity, threshold=0.6))
    wrong = [index for index in range(4) if faulty(fault, prompt_id=7, seed=11, index=index, num_images=4)]

    assert len(wrong) == 2
    for index, score in enumerate(scores):
        if index not in wrong:
            assert score.face_found and score.likeness >= 0.5
        elif mode == "no_face":
            assert not score.face_found
        else:
            assert score.face_found and score.likeness < 0.5  # someone else
