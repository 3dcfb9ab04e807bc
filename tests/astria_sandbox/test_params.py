import json

import pytest

from astria_sandbox.params import BodyError, UploadedFile, as_bool, nest, parse_body, parse_multipart


def test_nest_builds_hashes_and_arrays_from_rails_brackets():
    pairs = [
        ("tune[title]", "t"),
        ("tune[images][]", "a"),
        ("tune[images][]", "b"),
        ("tune[characteristics][eye_color]", "blue eyes"),
        ("tune[prompts_attributes][][text]", "one"),
        ("tune[prompts_attributes][][num_images]", "4"),
        ("tune[prompts_attributes][][text]", "two"),
        ("pack[prompts][1][text]", "second"),
        ("pack[prompts][0][text]", "first"),
    ]

    assert nest(pairs) == {
        "tune": {
            "title": "t",
            "images": ["a", "b"],
            "characteristics": {"eye_color": "blue eyes"},
            "prompts_attributes": [{"text": "one", "num_images": "4"}, {"text": "two"}],
        },
        "pack": {"prompts": [{"text": "first"}, {"text": "second"}]},
    }


def test_multipart_parts_are_byte_exact():
    binary = bytes(range(256)) * 4 + b"\r\n--not-the-boundary\r\n"
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="tune[title]"\r\n\r\nhello\r\n'
        b'--XyZ\r\nContent-Disposition: form-data; name="tune[images][]"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n" + binary + b"\r\n--XyZ--\r\n"
    )

    pairs = parse_multipart(body, "multipart/form-data; boundary=XyZ")

    assert pairs == [
        ("tune[title]", "hello"),
        ("tune[images][]", UploadedFile("a.jpg", "image/jpeg", binary)),
    ]


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (json.dumps({"prompt": {"text": "hi", "num_images": 2}}).encode(), "application/json"),
        (json.dumps({"text": "hi", "num_images": 2}).encode(), "application/json"),
        (b"prompt%5Btext%5D=hi&prompt%5Bnum_images%5D=2", "application/x-www-form-urlencoded"),
    ],
)
def test_parse_body_accepts_wrapped_and_unwrapped_json_and_forms(body, content_type):
    attrs = parse_body(body, content_type, "prompt")

    assert attrs["text"] == "hi" and str(attrs["num_images"]) == "2"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"[1, 2]", "application/json"),
        (b"x", "text/csv"),
        (b"abc", "multipart/form-data"),
    ],
)
def test_unreadable_bodies_are_body_errors(body, content_type):
    with pytest.raises(BodyError):
        parse_body(body, content_type, "tune")


def test_rails_booleans():
    assert [as_bool(v) for v in ("true", "1", "false", "0", "", None, True)] == [
        True,
        True,
        False,
        False,
        None,
        None,
        True,
    ]
    with pytest.raises(ValueError):
        as_bool("maybe")
