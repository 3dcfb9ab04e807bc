import pytest
from PIL import Image, ImageEnhance, ImageFilter

from studio.photos import quality
from studio.photos.quality import REFUSE, WARN, CoachLimits
from tests.photos import corpus

LIMITS = CoachLimits.from_settings()


def findings(img: Image.Image, *, expected_faces: int | None = 1) -> dict[str, str]:
    measured = quality.measure(img, find_faces=expected_faces is not None)
    return {f.code: f.level for f in quality.coach(measured, expected_faces=expected_faces, limits=LIMITS)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_sample_faces_are_really_found_by_the_face_detector(seed):
    def faces_in(photo):
        return len(quality.measure(photo, find_faces=True).faces)

    assert faces_in(corpus.photo(faces=corpus.ONE_FACE, seed=seed)) == 1
    assert faces_in(corpus.photo(faces=corpus.TWO_FACES, seed=seed)) == 2
    assert faces_in(corpus.photo(faces=(), seed=seed)) == 0


def test_a_good_portrait_has_nothing_to_say():
    assert findings(corpus.photo()) == {}


def test_no_face_refuses_a_photo_of_a_person():
    assert findings(corpus.photo(faces=())) == {"no_face": REFUSE}


def test_several_faces_is_a_warning_when_one_is_clearly_the_main_one():
    assert findings(corpus.photo(faces=corpus.WITH_BYSTANDER)) == {"several_faces": WARN}


def test_two_faces_of_the_same_size_refuse_a_photo_of_one_person():
    assert findings(corpus.photo(faces=corpus.TWO_FACES)) == {"no_main_face": REFUSE}


def test_a_couple_expects_two_faces():
    assert findings(corpus.photo(faces=corpus.TWO_FACES), expected_faces=2) == {}
    assert findings(corpus.photo(faces=corpus.ONE_FACE), expected_faces=2) == {"one_face": WARN}


def test_a_small_face_is_a_warning():
    assert findings(corpus.photo(faces=corpus.SMALL_FACE)) == {"face_small": WARN}


def test_faces_are_not_checked_for_pets():
    measured = quality.measure(corpus.photo(faces=()), find_faces=False)

    assert measured.analysis is None and measured.as_dict()["faces"] is None
    assert findings(corpus.photo(faces=()), expected_faces=None) == {}


def test_face_boxes_are_in_the_measured_images_pixels():
    img = corpus.photo(1280, 1600, faces=((0.5, 0.4, 0.34),))

    (face,) = quality.measure(img, find_faces=True).faces
    x, y, w, h = face.box

    assert x < 640 < x + w and y < 640 < y + h  # around the face centre, at full size
    assert w > 0.25 * 1280


def test_slight_blur_warns_and_heavy_blur_refuses():
    img = corpus.photo()

    assert findings(img.filter(ImageFilter.GaussianBlur(2)))["blurry"] == WARN
    assert findings(img.filter(ImageFilter.GaussianBlur(4)))["very_blurry"] == REFUSE


@pytest.mark.parametrize(("factor", "code", "level"), [(0.45, "dark", WARN), (0.15, "too_dark", REFUSE)])
def test_underexposure(factor, code, level):
    img = ImageEnhance.Brightness(corpus.photo()).enhance(factor)

    assert findings(img, expected_faces=None) == {code: level}


@pytest.mark.parametrize(("washed_out", "code", "level"), [(0.7, "bright", WARN), (0.9, "too_bright", REFUSE)])
def test_overexposure(washed_out, code, level):
    img = corpus.photo()
    img = Image.blend(img, Image.new("RGB", img.size, "white"), washed_out)

    assert findings(img, expected_faces=None).get(code) == level


def test_a_bright_but_fine_photo_is_not_flagged():
    img = ImageEnhance.Brightness(corpus.photo()).enhance(1.4)

    assert findings(img, expected_faces=None) == {}


def test_dhash_survives_re_encoding_and_resizing_but_tells_different_photos_apart():
    import io

    original = corpus.photo(seed=1, faces=())  # pets' photos are compared this way
    buffer = io.BytesIO()
    original.resize((320, 400)).save(buffer, "JPEG", quality=60)
    copy = Image.open(buffer)

    assert quality.hamming(quality.dhash(original), quality.dhash(copy)) <= LIMITS.duplicate_max_distance
    reframed = original.crop((20, 20, 640, 800)).resize((640, 800))  # the next frame of a burst
    assert quality.hamming(quality.dhash(original), quality.dhash(reframed)) <= LIMITS.duplicate_max_distance
    for seed in (2, 3, 4):
        other = quality.dhash(corpus.photo(seed=seed, faces=()))
        assert quality.hamming(quality.dhash(original), other) > LIMITS.duplicate_max_distance


def test_near_duplicates_point_at_the_earlier_photo():
    hashes = [("a", 0b1111_0000), ("b", 0b1111_0001), ("c", 0xFFFF_0000_FFFF_0000), ("d", 0b1111_0000)]

    assert quality.find_near_duplicates(hashes, max_distance=2) == {"b": "a", "d": "a"}


def test_findings_round_trip_through_json_dicts():
    finding = quality.near_duplicate_finding()

    assert quality.Finding.from_dict(finding.as_dict()) == finding
