"""Talking to a sandbox over HTTP in its tests: requests with a key, and waiting for a state."""

import requests

from tests.astria.factories import photo_bytes

KEY = "sd_sandbox_tests"


class Api:
    def __init__(self, url: str, key: str = KEY) -> None:
        self.url, self.session = url, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def __call__(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, self.url + path, timeout=10, **kwargs)

    def create_tune(self, title="job", *, photos=2, **fields) -> requests.Response:
        data = {"tune[title]": title, "tune[name]": "woman", **{f"tune[{k}]": v for k, v in fields.items()}}
        files = [
            ("tune[images][]", (f"{n}.jpg", photo_bytes(n, size=(200, 240)), "image/jpeg"))
            for n in range(photos)
        ]
        return self("POST", "/tunes", data=data, files=files)

    def tune(self, title="job", **fields) -> dict:
        response = self.create_tune(title, **fields)
        assert response.status_code == 201, response.text
        return response.json()

    def prompt(self, tune_id: int, text="sks woman", **fields) -> dict:
        response = self("POST", f"/tunes/{tune_id}/prompts", json={"prompt": {"text": text, **fields}})
        assert response.status_code == 201, response.text
        return response.json()


def fetch_until(sandbox, fetch, done, timeout=10.0):
    """Fetch until `done(obj)` holds, and return that object."""

    def check():
        obj = fetch()
        return obj if done(obj) else None

    return sandbox.wait_for(check, timeout=timeout)
