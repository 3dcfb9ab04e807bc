import io
import json

import pytest
from django.core.management import CommandError, call_command
from PIL import Image

from tests.photos import corpus


def inspect(*args) -> list[dict]:
    out = io.StringIO()
    call_command("inspect_photos", *args, stdout=out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_inspect_photos_explains_each_file(tmp_path):
    good = tmp_path / "good.heic"
    good.write_bytes(corpus.encode(corpus.photo(), "HEIF"))
    group = tmp_path / "group.jpg"
    group.write_bytes(corpus.jpeg(corpus.photo(faces=corpus.WITH_BYSTANDER, seed=5)))
    page = tmp_path / "page.jpg"
    page.write_bytes(corpus.HTML)

    good_report, group_report, page_report = inspect(str(good), str(group), str(page), "--class", "man")

    assert good_report["verdict"] == "accepted" and good_report["reasons"] == []
    assert good_report["source"] == {"bytes": good.stat().st_size, "format": "HEIF", "width": 640, "height": 800}
    assert good_report["final"]["width"] == 640 and good_report["final"]["bytes"] > 0
    assert good_report["measurements"]["faces"] == 1
    assert "descriptor" not in json.dumps(good_report)  # biometric data stays out of the output
    assert group_report["verdict"] == "warned"
    assert [w["code"] for w in group_report["warnings"]] == ["several_faces"]
    assert page_report["verdict"] == "rejected" and page_report["final"] is None
    assert page_report["reasons"][0]["code"] == "unsupported_format"
    assert "web page" in page_report["reasons"][0]["message"]


def test_inspect_photos_judges_the_same_shot_within_the_files_given(tmp_path):
    first, second = tmp_path / "a.jpg", tmp_path / "b.png"
    first.write_bytes(corpus.jpeg())
    second.write_bytes(corpus.encode(corpus.photo(), "PNG"))

    reports = inspect(str(first), str(second))

    assert reports[0]["verdict"] == "accepted" and reports[0]["counted"]
    assert reports[1]["verdict"] == "warned" and reports[1]["same_shot_as"] == str(first)
    assert not reports[1]["counted"]
    assert [w["code"] for w in reports[1]["warnings"]] == ["same_shot"]


def test_inspect_photos_judges_near_duplicates_of_pets(tmp_path):
    first, second = tmp_path / "a.jpg", tmp_path / "b.png"
    first.write_bytes(corpus.jpeg(corpus.photo(faces=())))
    second.write_bytes(corpus.encode(corpus.photo(faces=()), "PNG"))

    reports = inspect(str(first), str(second), "--class", "cat")

    assert reports[1]["verdict"] == "warned" and reports[1]["duplicate_of"] == str(first)


def test_inspect_photos_writes_the_normalised_jpegs(tmp_path):
    source = tmp_path / "sideways.jpg"
    source.write_bytes(corpus.oriented(8))
    out = tmp_path / "out"

    (report,) = inspect(str(source), "--out", str(out), "--class", "dog")

    written = Image.open(out / "sideways.jpg")
    assert report["output"] == str(out / "sideways.jpg")
    assert written.size == (600, 800) and not written.getexif()
    assert report["measurements"]["faces"] is None  # not looked for on pets


def test_inspect_photos_reports_unreadable_files_and_fails(tmp_path):
    good = tmp_path / "good.jpg"
    good.write_bytes(corpus.jpeg())

    out = io.StringIO()
    with pytest.raises(CommandError, match="1 file"):
        call_command("inspect_photos", str(tmp_path / "missing.jpg"), str(good), stdout=out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0] == {"file": str(tmp_path / "missing.jpg"), "error": "No such file or directory"}
    assert lines[1]["verdict"] == "accepted"
