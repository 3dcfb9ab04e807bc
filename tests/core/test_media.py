from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage

from studio.core.media import private_file_response, signs_urls


def test_streams_a_stored_file_with_our_type_and_no_shared_caching(tmp_path):
    storage = FileSystemStorage(location=tmp_path, base_url=None)
    name = storage.save("results/a.jpg", ContentFile(b"<html>not really a picture</html>"))

    response = private_file_response(name, content_type="image/jpeg", storage=storage, max_age=60)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "private, max-age=60"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "Content-Disposition" not in response or response["Content-Disposition"].startswith("inline")
    assert b"".join(response.streaming_content).startswith(b"<html>")


def test_a_download_is_an_attachment_with_our_name(tmp_path):
    storage = FileSystemStorage(location=tmp_path, base_url=None)
    name = storage.save("results/b.jpg", ContentFile(b"jpeg bytes"))

    response = private_file_response(name, content_type="image/jpeg", storage=storage, download_name="ada-1.jpg")

    assert response["Content-Disposition"] == 'attachment; filename="ada-1.jpg"'


def test_a_storage_with_plain_public_urls_does_not_count_as_signing(tmp_path):
    assert not signs_urls(FileSystemStorage(location=tmp_path, base_url="/media/"))


def test_a_file_is_kept_in_no_cache_unless_asked(tmp_path):
    storage = FileSystemStorage(location=tmp_path, base_url=None)
    name = storage.save("results/c.jpg", ContentFile(b"jpeg bytes"))

    assert private_file_response(name, content_type="image/jpeg", storage=storage)["Cache-Control"] == (
        "private, no-store"
    )
