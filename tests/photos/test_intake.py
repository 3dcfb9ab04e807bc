import dataclasses
import io

import pytest
from PIL import Image, ImageFile, ImageFilter

from studio.photos import intake
from studio.photos.imaging import ImageRefused
from studio.photos.intake import ACCEPTED, REJECTED, WARNED, PhotoLimits
from tests.photos import corpus

LIMITS = PhotoLimits.from_settings()


def process(data: bytes, expected_faces: int | None = 1, limits: PhotoLimits = LIMITS) -> intake.IntakeResult:
    return intake.process(data, expected_faces=expected_faces, limits=limits)


def codes(result: intake.IntakeResult) -> set[str]:
    return {f.code for f in result.findings}


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_a_good_photo_is_accepted_with_a_clean_jpeg_and_a_thumbnail(image_format):
    result = process(corpus.encode(corpus.photo(), image_format))

    assert result.verdict == ACCEPTED and result.findings == []
    assert result.source_format == image_format and result.source_size == (640, 800)
    assert (result.width, result.height) == (640, 800)
    assert Image.open(io.BytesIO(result.jpeg)).format == "JPEG"
    assert Image.open(io.BytesIO(result.thumbnail)).format == "WEBP"
    assert result.dhash is not None


def test_warnings_keep_the_photo():
    result = process(corpus.jpeg(corpus.photo(faces=corpus.WITH_BYSTANDER)))

    assert result.verdict == WARNED and codes(result) == {"several_faces"}
    assert result.jpeg is not None


def test_a_refusal_keeps_only_a_thumbnail_of_a_picture_that_decoded():
    blurry = corpus.photo().filter(ImageFilter.GaussianBlur(6))

    result = process(corpus.jpeg(blurry))

    assert result.verdict == REJECTED and "very_blurry" in codes(result)
    # Nothing that could be sent to train; a thumbnail, so its owner sees which photo it was.
    assert result.jpeg is None and Image.open(io.BytesIO(result.thumbnail)).format == "WEBP"
    assert process(b"not a picture at all").thumbnail is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (corpus.truncated_jpeg(), "damaged"),
        (corpus.HTML, "unsupported_format"),
        (corpus.SVG, "unsupported_format"),
        (corpus.png_html_polyglot(), "hidden_content"),
        (corpus.pixel_bomb(), "too_many_pixels"),
        (corpus.strip_png(), "odd_shape"),
        (corpus.strip_png(400, 600), "too_small"),
        (corpus.animated("GIF"), "unsupported_format"),
        (corpus.animated("WEBP"), "animated"),
    ],
    ids=["zero", "truncated", "html", "svg", "polyglot", "bomb", "strip", "small", "gif", "animated-webp"],
)
def test_bad_files_are_refused_with_one_plain_reason(data, code):
    result = process(data)

    assert result.verdict == REJECTED
    assert [f.code for f in result.findings] == [code]
    assert result.findings[0].level == "refuse" and len(result.findings[0].message) > 30
    assert result.jpeg is None


def test_a_file_over_the_size_cap_is_refused_before_it_is_opened():
    data = corpus.jpeg()

    result = process(data, limits=dataclasses.replace(LIMITS, max_file_bytes=len(data) - 1))

    assert codes(result) == {"file_too_large"} and result.source_format is None


@pytest.mark.parametrize(
    "data",
    [corpus.cmyk_photo_jpeg(), corpus.png_16bit_grey_photo(), corpus.png_16bit_rgb()],
    ids=["cmyk", "16-bit-grey", "16-bit-rgb"],
)
def test_unusual_pixel_formats_are_converted_not_refused(data):
    result = process(data, expected_faces=None)

    assert result.verdict == ACCEPTED
    assert Image.open(io.BytesIO(result.jpeg)).mode == "RGB"


def test_the_upload_check_reads_only_the_header_and_rewinds():
    source = io.BytesIO(corpus.oriented(6))

    assert intake.check_upload(source, size=len(source.getvalue()), limits=LIMITS) == ("JPEG", (600, 800))
    assert source.tell() == 0


def _fail_if_decoded(monkeypatch):
    def load(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


@pytest.mark.parametrize(
    ("data", "claim"),
    [
        (corpus.pixel_bomb(4000, 4000), "4,000 by 4,000 pixels"),
        (corpus.heic_claiming(6000, 4000), "6,000 by 4,000 pixels"),
    ],
    ids=["1-bit-png", "heic"],
)
def test_a_pixel_flood_is_refused_at_the_upload_and_again_by_the_worker_without_decoding(monkeypatch, data, claim):
    _fail_if_decoded(monkeypatch)

    with pytest.raises(ImageRefused) as refused:
        intake.check_upload(io.BytesIO(data), size=len(data), limits=LIMITS)
    result = process(data)

    assert refused.value.code == "too_little_data"
    assert f"claims to be {claim} but holds only " in refused.value.message
    assert result.verdict == REJECTED and codes(result) == {"too_little_data"}
    assert result.findings[0].message == refused.value.message


def test_the_six_kilobyte_seven_thousand_pixel_square_png_is_refused_from_the_header(monkeypatch):
    data = corpus.pixel_flood_png()
    _fail_if_decoded(monkeypatch)

    with pytest.raises(ImageRefused) as refused:
        intake.check_upload(io.BytesIO(data), size=len(data), limits=LIMITS)

    assert len(data) < 7000 and "7,000 by 7,000 pixels" in refused.value.message
    assert codes(process(data)) == {refused.value.code}


@pytest.mark.parametrize("image_format", ["PNG", "WEBP"])
def test_png_and_webp_over_their_own_cap_are_refused_from_the_header(monkeypatch, image_format):
    data = corpus.blank(image_format, 6000, 5000)  # 30 MP: within the 50 MP of a JPEG or HEIC
    _fail_if_decoded(monkeypatch)

    with pytest.raises(ImageRefused) as refused:
        intake.check_upload(io.BytesIO(data), size=len(data), limits=LIMITS)

    assert refused.value.code == "too_many_pixels"
    assert "6,000 by 5,000 pixels, more than the 25 megapixels we accept in" in refused.value.message
    assert codes(process(data)) == {"too_many_pixels"}


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_a_large_smooth_photo_passes_the_pixel_checks_in_every_format(image_format):
    data = corpus.smooth_photo(image_format)

    assert intake.check_upload(io.BytesIO(data), size=len(data), limits=LIMITS) == (image_format, (2016, 1512))


def test_a_heic_over_the_pixel_cap_is_refused_from_the_header(monkeypatch):
    data = corpus.heic_claiming(8000, 7000)
    _fail_if_decoded(monkeypatch)

    with pytest.raises(ImageRefused) as refused:
        intake.check_upload(io.BytesIO(data), size=len(data), limits=LIMITS)

    assert refused.value.code == "too_many_pixels" and "8,000 by 7,000 pixels" in refused.value.message


def test_the_upload_check_lets_a_truncated_file_through_to_the_full_decode():
    data = corpus.truncated_jpeg()

    assert intake.check_upload(io.BytesIO(data), size=len(data), limits=LIMITS)[0] == "JPEG"
    assert codes(process(data)) == {"damaged"}


@pytest.mark.parametrize(
    ("subject_class", "faces"),
    [("man", 1), ("woman", 1), ("baby", 1), ("person", 1), ("couple", 2), ("dog", None), ("cat", None)],
)
def test_expected_faces_by_subject_class(subject_class, faces):
    assert intake.expected_faces_for(subject_class) == faces


def test_limits_come_from_settings(settings):
    settings.PHOTOS_MIN_SIDE = 1000
    settings.PHOTOS_MAX_PIXELS_PER_BYTE = 10
    settings.PHOTOS_COACH = {**settings.PHOTOS_COACH, "face_min_fraction": 0.5}

    limits = PhotoLimits.from_settings()

    assert limits.min_side == 1000 and limits.coach.face_min_fraction == 0.5
    assert limits.max_pixels_per_byte == 10
    data = corpus.smooth_photo("JPEG")
    with pytest.raises(ImageRefused):
        intake.check_upload(io.BytesIO(data), size=len(data), limits=limits)
