import io

import pytest
from PIL import Image, ImageFile

from studio.photos import imaging
from studio.photos.imaging import ImageRefused
from tests.photos import corpus

MAX_PIXELS = 50_000_000


def open_and_normalise(data: bytes, long_side: int = 2048) -> Image.Image:
    return imaging.normalise(imaging.open_untrusted_image(data, max_pixels=MAX_PIXELS), long_side=long_side)


# SOI, APP0 (JFIF), DQT, SOF0, DHT, SOS: what a fresh baseline JPEG is made of.
PLAIN_JPEG_SEGMENTS = {0xD8, 0xE0, 0xDB, 0xC0, 0xC4, 0xDA}


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG's segments, up to the start of the image data."""
    markers, pos = [], 0
    while pos < len(data) - 1:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        markers.append(marker)
        if marker == 0xD8:
            pos += 2
            continue
        if marker == 0xDA:
            return markers
        pos += 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
    return markers


def webp_chunks(data: bytes) -> list[bytes]:
    chunks, pos = [], 12
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        chunks.append(data[pos : pos + 4])
        pos += 8 + size + (size & 1)
    return chunks


def refusal_code(data: bytes) -> str:
    with pytest.raises(ImageRefused) as refused:
        open_and_normalise(data)
    assert refused.value.message  # always something to tell the person
    return refused.value.code


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_each_accepted_format_becomes_an_rgb_image_of_the_same_size(image_format):
    data = corpus.encode(corpus.photo(), image_format)

    img = open_and_normalise(data)

    assert img.mode == "RGB"
    assert img.size == (640, 800)
    assert img.info == {}


def test_format_is_decided_by_decoding_not_by_the_name(tmp_path):
    path = tmp_path / "holiday.jpg"
    path.write_bytes(corpus.encode(corpus.photo(), "PNG"))

    with path.open("rb") as file:
        assert imaging.open_untrusted_image(file, max_pixels=MAX_PIXELS).format == "PNG"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_comes_out_upright(orientation):
    img = open_and_normalise(corpus.oriented(orientation))

    assert img.size == (600, 800)
    for corner, (x, y) in {"top_left": (20, 20), "top_right": (580, 20), "bottom_left": (20, 780)}.items():
        expected = corpus.CORNER_COLOURS[corner]
        assert all(abs(a - b) < 40 for a, b in zip(img.getpixel((x, y)), expected, strict=True)), corner


def test_heic_orientation_is_applied_too():
    img = open_and_normalise(corpus.oriented(6, "HEIF"))

    assert img.size == (600, 800)
    assert img.getpixel((20, 20))[0] > 180  # the red block is top left


@pytest.mark.parametrize("orientation", [1, 6])
def test_orientation_is_read_before_decoding_for_the_oriented_size(orientation):
    img = imaging.open_untrusted_image(corpus.oriented(orientation), max_pixels=MAX_PIXELS)

    assert imaging.oriented_size(img) == (600, 800)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_no_metadata_survives_in_the_jpeg_or_the_thumbnail(image_format):
    source = corpus.with_metadata(image_format)
    assert corpus.SECRET.encode() in source  # the fixture really carries it

    img = open_and_normalise(source)
    outputs = [imaging.encode_jpeg(img), imaging.make_webp_thumbnail(img, 400)]

    assert set(jpeg_segments(outputs[0])) <= PLAIN_JPEG_SEGMENTS  # no APP1 (EXIF, XMP), APP2 (ICC), COM
    assert set(webp_chunks(outputs[1])) <= {b"VP8 ", b"VP8L"}  # no EXIF, XMP or ICCP chunk
    for data in outputs:
        assert corpus.SECRET.encode() not in data
        assert b"GPSLatitude" not in data and b"Exif\x00\x00" not in data and b"<x:xmpmeta" not in data
        reopened = Image.open(io.BytesIO(data))
        assert not reopened.getexif()
        assert not {"exif", "xmp", "XML:com.adobe.xmp", "comment", "icc_profile"} & set(reopened.info)


def test_jpeg_output_is_a_fresh_baseline_file():
    data = imaging.encode_jpeg(open_and_normalise(corpus.with_metadata("JPEG")), quality=90)

    reopened = Image.open(io.BytesIO(data))
    assert reopened.format == "JPEG" and reopened.mode == "RGB"
    assert jpeg_segments(data)[:2] == [0xD8, 0xE0]


def test_long_side_is_capped_and_jpeg_draft_decoding_keeps_about_the_target():
    big = corpus.encode(Image.radial_gradient("L").resize((4032, 3024)).convert("RGB"), "JPEG")

    img = open_and_normalise(big, long_side=2048)

    assert img.size == (2016, 1512)  # decoded at half scale: no resize needed at all


def test_non_jpeg_is_resized_to_the_exact_long_side():
    big = corpus.encode(Image.radial_gradient("L").resize((3000, 2000)).convert("RGB"), "PNG")

    assert open_and_normalise(big, long_side=2048).size == (2048, 1365)


def test_cmyk_jpeg_becomes_rgb_with_the_right_colour():
    img = open_and_normalise(corpus.cmyk_jpeg())

    red, green, blue = img.getpixel((320, 400))
    assert img.mode == "RGB" and red > 200 and green < 60 and blue < 60


def test_16_bit_grey_png_is_scaled_not_clipped():
    img = open_and_normalise(corpus.png_16bit_grey())

    assert img.mode == "RGB"
    assert img.getpixel((5, 400))[0] < 10
    assert 100 < img.getpixel((320, 400))[0] < 156  # mid-grey, not white
    assert img.getpixel((635, 400))[0] > 245


def test_16_bit_rgb_png_decodes():
    assert open_and_normalise(corpus.png_16bit_rgb()).size == (640, 800)


def test_transparency_is_flattened_on_white():
    img = open_and_normalise(corpus.half_transparent_png())

    assert img.getpixel((10, 400)) == (255, 255, 255)
    assert img.getpixel((630, 400)) != (255, 255, 255)


def test_srgb_profile_is_applied_and_not_copied():
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    data = corpus.jpeg(corpus.photo(), icc_profile=srgb)

    img = open_and_normalise(data)

    assert b"ICC_PROFILE" not in imaging.encode_jpeg(img)


def test_a_broken_colour_profile_falls_back_to_plain_conversion():
    data = corpus.jpeg(corpus.photo(), icc_profile=b"not a profile" * 20)

    assert open_and_normalise(data).mode == "RGB"


def test_zero_bytes_is_refused_as_empty():
    assert refusal_code(b"") == "empty"


def test_truncated_jpeg_passes_the_header_but_fails_the_full_decode():
    data = corpus.truncated_jpeg()

    img = imaging.open_untrusted_image(data, max_pixels=MAX_PIXELS)  # the header is intact
    with pytest.raises(ImageRefused) as refused:
        imaging.normalise(img, long_side=2048)
    assert refused.value.code == "damaged"


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (corpus.HTML, "web page"),
        (corpus.SVG, "web page or SVG drawing"),
        (corpus.PDF, "PDF document"),
        (b"PK\x03\x04" + bytes(200), "ZIP archive"),
        (b"MZ\x90\x00" + bytes(200), "a program"),
    ],
)
def test_documents_renamed_as_photos_are_refused_saying_what_they_are(data, words):
    with pytest.raises(ImageRefused) as refused:
        imaging.open_untrusted_image(data, max_pixels=MAX_PIXELS)

    assert refused.value.code == "unsupported_format"
    assert words in refused.value.message


def test_gif_is_refused_as_a_format_we_do_not_take():
    with pytest.raises(ImageRefused) as refused:
        imaging.open_untrusted_image(corpus.animated("GIF"), max_pixels=MAX_PIXELS)

    assert refused.value.code == "unsupported_format" and "GIF" in refused.value.message


@pytest.mark.parametrize("image_format", ["WEBP", "PNG"])
def test_animations_are_refused(image_format):
    assert refusal_code(corpus.animated(image_format)) == "animated"


@pytest.mark.parametrize(
    "data",
    [corpus.animated("PNG"), corpus.animated("WEBP"), corpus.pixel_bomb(8000, 7000), corpus.heic_claiming(8000, 7000)],
    ids=["animated-png", "animated-webp", "56-mp-png", "56-mp-heic"],
)
def test_refusing_a_file_leaves_the_callers_file_open_and_readable(data):
    source = io.BytesIO(data)

    with pytest.raises(ImageRefused):
        imaging.open_untrusted_image(source, max_pixels=MAX_PIXELS)

    source.seek(0)
    assert source.read() == data


def test_a_multi_picture_jpeg_from_a_phone_is_a_still_photo():
    data = corpus.multi_picture_jpeg()

    img = open_and_normalise(data)

    assert img.size == (640, 800)
    assert imaging.find_smuggled_content(data, "MPO") is None


def test_random_bytes_are_refused_as_not_an_image():
    assert refusal_code(bytes(range(256)) * 8) == "not_an_image"


def _fail_if_decoded(monkeypatch):
    def load(self):
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)


def test_pixel_bomb_is_refused_from_its_header_without_decoding(monkeypatch):
    data = corpus.pixel_bomb(30_000, 30_000)  # 900 MP in about 110 KB
    _fail_if_decoded(monkeypatch)

    with pytest.raises(ImageRefused) as refused:
        imaging.open_untrusted_image(data, max_pixels=MAX_PIXELS)

    assert refused.value.code == "too_many_pixels"


def test_our_pixel_cap_applies_below_pillows_own_limit(monkeypatch):
    data = corpus.pixel_bomb(8000, 7000)  # 56 MP: Pillow would open it, our cap is 50 MP
    _fail_if_decoded(monkeypatch)

    with pytest.raises(ImageRefused) as refused:
        imaging.open_untrusted_image(data, max_pixels=MAX_PIXELS)

    assert refused.value.code == "too_many_pixels"
    assert "8,000 by 7,000 pixels" in refused.value.message


def test_png_with_html_after_its_end_is_a_polyglot():
    data = corpus.png_html_polyglot()
    Image.open(io.BytesIO(data)).verify()  # Pillow's own check is happy with it

    assert imaging.find_smuggled_content(data, "PNG") == "a web page or script"


def test_png_with_html_where_browsers_sniff_is_a_polyglot():
    assert imaging.find_smuggled_content(corpus.png_with_html_chunk(), "PNG") == "a web page or script"


def test_jpeg_with_a_zip_appended_is_a_polyglot():
    data = corpus.jpeg_with_trailer(b"PK\x03\x04" + bytes(100))

    assert imaging.find_smuggled_content(data, "JPEG") == "a ZIP archive"


@pytest.mark.parametrize(
    "trailer", [b"", bytes(4096), b"\x00\x00\x00\x18ftypmp42" + bytes(2000)], ids=["none", "padding", "video"]
)
def test_ordinary_jpegs_and_phone_trailers_are_not_polyglots(trailer):
    # Phones append padding or a short video (motion photos) after the picture.
    assert imaging.find_smuggled_content(corpus.jpeg_with_trailer(trailer), "JPEG") is None


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "HEIF"])
def test_clean_files_of_every_format_are_not_polyglots(image_format):
    data = corpus.with_metadata(image_format)  # XMP packets are XML, not a document

    assert imaging.find_smuggled_content(data, image_format) is None


def test_webp_thumbnail_fits_the_size():
    thumb = Image.open(io.BytesIO(imaging.make_webp_thumbnail(corpus.photo(), 400)))

    assert thumb.format == "WEBP" and max(thumb.size) == 400
