"""Chaos drills: the pipeline's promises checked while its processes crash.

One stack of real processes (bench/stack.py): a private redis-server (broker and cache, no
persistence, so a crash loses every message it held), the Astria sandbox as its own process, a
private S3 API (moto's standalone server) holding every photo, image and zip, gunicorn, a prefork
Celery worker and beat running the reconciler every few seconds (short RECONCILE_* settings). Each
of these studio processes has folders of its own (VAR_DIR, MEDIA_ROOT), as on separate machines:
they share only the database, Redis and the bucket. PostgreSQL when DATABASE_URL is set, SQLite
otherwise.

    (a) the worker killed with SIGKILL mid-task: the whole worker while a submit talks to Astria,
        then only its pool processes while images download, then the whole worker again
        mid-download; each time restarted
    (b) Redis killed (kill -9) while tasks flow, down for a few seconds, then started empty: pages,
        log-ins and callbacks still answer
    (c) the broker down while a user confirms through the web process: the confirm succeeds,
        the reconciler enqueues the avatar once Redis is back
    (d) the sandbox answering 500 to every API request for a minute: every avatar still ends done
    (e) the sandbox painting one style with someone else's face (its likeness fault), the worker
        killed while that style's free redo downloads, and the redo's callback replayed: the style
        is made again once, then refunded exactly once
    (f) two of each: a second web process and a second worker join, avatars are ordered through
        both web processes, and one worker is killed with SIGKILL mid-run and stays dead; both web
        processes show every image, nothing is written to any process's own folders

After each drill, for its avatars: every avatar ends done, or failed and refunded; the ledger per
avatar shows the order charged once and exactly the undelivered work refunded; every done prompt
has all its images stored (rows and files); the sandbox holds one tune per avatar title and no
more prompts than the avatar has. Exits non-zero when any check fails.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench import flow
from bench.stack import Stack, free_port, wait_until

PROMPTS = {"themes": 2, "ideas": 1}  # 3 prompts of 8 images per avatar
ENV = {
    "RECONCILE_INTERVAL": "2",
    "RECONCILE_QUEUED_GRACE": "8",
    "RECONCILE_POLL_INTERVAL": "3",
    "RECONCILE_PROMPT_POLL_AFTER": "6",
    "AVATAR_SUBMIT_LEASE": "15",  # a submit killed mid-way holds its avatar this long (the sandbox answers in ~1 s)
}
FINISH_TIMEOUT = 240
ROOT = Path(__file__).resolve().parent.parent
S3_REGION = "us-east-1"
S3_KEYS = {"AWS_ACCESS_KEY_ID": "chaos", "AWS_SECRET_ACCESS_KEY": "chaos"}  # moto takes any
CHAOS_PASSWORD = secrets.token_urlsafe(16)  # the drill users log in with it
OUTAGE_SECONDS = 60


def say(message: str = "") -> None:
    print(message, flush=True)


@dataclass
class Drill:
    key: str
    title: str
    avatars: list = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def log(self, message: str) -> None:
        say(f"    {message}")


def host_dirs(stack: Stack, name: str) -> dict[str, str]:
    """The folders of one studio process, as if it ran on a machine of its own."""
    root = stack.folder / "hosts" / name
    return {"VAR_DIR": str(root / "var"), "MEDIA_ROOT": str(root / "media")}


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


def start_web_host(stack: Stack, name: str, port: int | None = None):
    """A web process on a "machine" of its own: its static files collected into its own folder
    first, as a deploy does on each machine."""
    env = stack.env | host_dirs(stack, name)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    return stack.start_web(name=name, port=port, env=host_dirs(stack, name))


class Chaos:
    def __init__(self, stack: Stack, redis_port: int) -> None:
        from studio.photos.samples import sample_set

        self.stack = stack
        self.redis_port = redis_port
        self.photos = sample_set(4)
        self.themes, self.ideas = flow.choices_for("woman", **PROMPTS)

    def start_worker(self, name: str = "worker") -> None:
        self.stack.start_worker(name, env=host_dirs(self.stack, name))

    # --- setting the scene ---------------------------------------------------------------------------
    def drafts(self, key: str, count: int) -> tuple:
        user = flow.make_user(f"chaos-{key}@example.test")
        user.set_password(CHAOS_PASSWORD)
        user.save(update_fields=["password"])
        avatars = [
            flow.make_draft(user, name=f"Drill {key} {n + 1}", photos=self.photos, themes=self.themes,
                            ideas=self.ideas)
            for n in range(count)
        ]
        return user, avatars

    def confirm(self, user, avatar) -> None:
        from studio.avatars.services import avatar_confirm

        avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)

    def faults(self, **switches) -> None:
        self.stack.sandbox_faults(**switches)

    # --- watching --------------------------------------------------------------------------------------
    @staticmethod
    def submitting(avatars):
        """An avatar whose submit task has started (attempt counted) and not finished."""
        from studio.avatars.models import Avatar, AvatarState

        return Avatar.objects.filter(pk__in=[a.pk for a in avatars], state=AvatarState.QUEUED,
                                     submit_attempts__gte=1).first()

    @staticmethod
    def downloading(avatars, *, redos: bool = False):
        """A submitted prompt (a likeness redo, with `redos`) with some of its images stored and
        some not yet."""
        from django.db.models import Count, F

        from studio.avatars.models import Prompt, PromptState

        prompts = Prompt.objects.filter(avatar__in=[a.pk for a in avatars], state=PromptState.SUBMITTED)
        return (
            prompts.filter(redo_of__isnull=not redos)
            .annotate(stored=Count("images"))
            .filter(stored__gt=0, stored__lt=F("num_images"))
            .first()
        )

    def restart_worker(self, drill: Drill, after: float = 1.0) -> None:
        time.sleep(after)
        self.start_worker()
        drill.log("worker restarted")

    def wait_finished(self, drill: Drill) -> None:
        started = time.monotonic()
        try:
            flow.wait_finished(drill.avatars, timeout=FINISH_TIMEOUT, interval=0.5)
        except TimeoutError as exc:
            drill.problems.append(str(exc))
            return
        drill.log(f"all {len(drill.avatars)} avatars finished {time.monotonic() - started:.0f} s later")

    # --- the checks ---------------------------------------------------------------------------------------
    def check(self, drill: Drill) -> None:
        """Done or failed-and-refunded; charged once; no image lost; one tune per title."""
        from django.core.files.storage import default_storage

        from studio.astria.client import get_client
        from studio.avatars.models import Avatar, AvatarState, PromptState
        from studio.credits.selectors import credit_totals_for_references

        self.faults(latency=0)
        stats = self.stack.sandbox_stats()
        client = get_client()
        outcome = {AvatarState.DONE: 0, AvatarState.FAILED: 0}
        for avatar in Avatar.objects.filter(pk__in=[a.pk for a in drill.avatars]).prefetch_related("prompts__images"):
            name = f"avatar {avatar.name!r}"
            prompts = list(avatar.prompts.all())
            if avatar.state not in outcome:
                drill.problems.append(f"{name} ended {avatar.state}, neither done nor failed")
                continue
            outcome[avatar.state] += 1
            delivered = [p for p in prompts if p.state == PromptState.DONE]
            order = avatar.tune_price + sum(p.price for p in prompts)
            owed_back = order - (avatar.tune_price if delivered else 0) - sum(p.price for p in delivered)
            owed_back += sum(p.price for p in delivered if p.likeness_outcome == "refunded")  # the guarantee
            totals = credit_totals_for_references(
                references=[f"avatar:{avatar.pk}", *(f"prompt:{p.pk}" for p in prompts)]
            )
            if totals.spent != order:
                drill.problems.append(f"{name}: charged {totals.spent} credits for an order of {order}")
            if totals.refunded != owed_back:
                drill.problems.append(f"{name}: refunded {totals.refunded} credits, {owed_back} owed back")
            for prompt in delivered:
                images = list(prompt.images.all())
                if len(images) != prompt.num_images:
                    drill.problems.append(
                        f"{name}, prompt {prompt.label!r}: {len(images)} of {prompt.num_images} images stored"
                    )
                for image in images:
                    if not (default_storage.exists(image.image.name) and default_storage.exists(image.thumbnail.name)
                            and default_storage.size(image.image.name) == image.bytes):
                        drill.problems.append(f"{name}, prompt {prompt.label!r}: image {image.index + 1}'s file lost")
            tunes = stats["tunes_by_title"].get(str(avatar.pk), 0)
            if tunes > 1:
                drill.problems.append(f"{name}: {tunes} tunes at Astria with its title")
            if avatar.state == AvatarState.DONE and tunes != 1:
                drill.problems.append(f"{name} is done but Astria has {tunes} tunes with its title")
            if avatar.tune_id:
                remote = sum(1 for _ in client.iter_prompts(avatar.tune_id))
                if remote > len(prompts):
                    drill.problems.append(f"{name}: {remote} prompts at Astria for its {len(prompts)}")
        drill.log(f"ended: {outcome[AvatarState.DONE]} done, {outcome[AvatarState.FAILED]} failed and refunded")

    # --- the drills -------------------------------------------------------------------------------------
    def drill_worker_killed(self, drill: Drill) -> None:
        user, drill.avatars = self.drafts("a", 3)
        self.faults(latency=1.0)  # every answer from Astria, files included, takes a second
        for avatar in drill.avatars:
            self.confirm(user, avatar)
        worker = self.stack.processes["worker"]

        caught = self._wait_for(drill, lambda: self.submitting(drill.avatars), "a submit in flight")
        if caught:
            worker.kill()
            drill.log(f"SIGKILL to the worker and its pool while {caught.name!r} was being submitted to Astria")
            self.restart_worker(drill)

        caught = self._wait_for(drill, lambda: self.downloading(drill.avatars), "an image download in flight")
        if caught:
            worker = self.stack.processes["worker"]
            children = [pid for pid in worker.group_pids() if pid != worker.pid]
            for pid in children:
                _kill(pid)
            drill.log(f"SIGKILL to the worker's {len(children)} pool processes (the parent lives on) while "
                      f"{caught.label!r} had {caught.stored} of {caught.num_images} images stored")

        before = (caught.pk, caught.stored) if caught else None
        caught = self._wait_for(
            drill,
            lambda: (found := self.downloading(drill.avatars)) and (found.pk, found.stored) != before and found,
            "another image download",
        )
        if caught:
            self.stack.processes["worker"].kill()
            drill.log(f"SIGKILL to the whole worker again while {caught.label!r} had {caught.stored} of "
                      f"{caught.num_images} images stored")
            self.restart_worker(drill)
        self.faults(latency=0.2)
        self.wait_finished(drill)

    def drill_redis_killed(self, drill: Drill) -> None:
        user, drill.avatars = self.drafts("b", 3)
        self.faults(latency=0.3)
        for avatar in drill.avatars:
            self.confirm(user, avatar)
        cookie = flow.session_cookie(user)
        caught = self._wait_for(drill, lambda: self.downloading(drill.avatars), "images flowing")
        if caught:
            callbacks_before = len(self._callback_log())
            self.stack.processes["redis"].kill()
            drill.log(f"kill -9 on redis-server while {caught.label!r} had {caught.stored} of "
                      f"{caught.num_images} images stored")
            gallery = requests.get(f"{self.stack.web_url}/avatars/{drill.avatars[0].pk}/",
                                   headers={"Cookie": cookie}, timeout=20)
            callback = self._post_callback(caught)
            login = self._log_in(user.email, CHAOS_PASSWORD)
            if gallery.status_code != 200 or callback.status_code != 200 or login.status_code != 302:
                drill.problems.append(f"with Redis down the gallery answered {gallery.status_code}, an "
                                      f"Astria callback {callback.status_code} and a log-in {login.status_code}")
            else:
                drill.log("with Redis down the gallery still answers 200, a log-in 302, and a callback for "
                          f"{caught.label!r} 200 (recorded, its task left to the reconciler)")
            time.sleep(5)
            self.stack.start_redis(self.redis_port)
            drill.log("redis-server started again, with nothing in it")
            answered = self._callback_log()[callbacks_before:]
            failed = [c for c in answered if c["status"] and c["status"] >= 500]
            if failed:
                drill.problems.append(f"{len(failed)} of {len(answered)} Astria callbacks got a 5xx during the outage")
            else:
                drill.log(f"{len(answered)} callbacks from the sandbox fell in the outage, none answered 5xx"
                          if answered else "no callback from the sandbox fell in the outage")
        self.faults(latency=0)
        self.wait_finished(drill)

    def drill_broker_down_at_confirm(self, drill: Drill) -> None:
        from studio.avatars.models import Avatar, AvatarState
        from studio.credits.selectors import credit_totals_for_references

        user, drill.avatars = self.drafts("c", 1)
        avatar = drill.avatars[0]
        cookie = flow.session_cookie(user)
        self.stack.processes["redis"].kill()
        drill.log("redis-server killed")
        url = f"{self.stack.web_url}/avatars/{avatar.pk}/confirm/"
        page = requests.get(url, headers={"Cookie": cookie}, timeout=20)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status_code != 200 or token is None:
            drill.problems.append(f"the confirm page answered {page.status_code} with the broker down")
        else:
            answer = requests.post(url, data={"csrfmiddlewaretoken": token.group(1), "consent": "on"},
                                   headers={"Cookie": cookie, "Referer": url}, allow_redirects=False, timeout=30)
            state = Avatar.objects.get(pk=avatar.pk).state
            spent = credit_totals_for_references(references=[f"avatar:{avatar.pk}"]).spent
            if answer.status_code == 302 and answer.headers["Location"].endswith(f"/avatars/{avatar.pk}/"):
                drill.log(f"the confirm went through the web process: 302 to the gallery, avatar {state}, "
                          f"{spent} credits spent")
            else:
                drill.problems.append(f"the confirm answered {answer.status_code} with the broker down")
            if state != AvatarState.QUEUED:
                drill.problems.append(f"after the confirm the avatar is {state}, not queued")
        time.sleep(3)
        self.stack.start_redis(self.redis_port)
        drill.log("redis-server started again; nothing was enqueued for the avatar")
        started = time.monotonic()
        try:
            wait_until(lambda: Avatar.objects.get(pk=avatar.pk).state != AvatarState.QUEUED, timeout=60,
                       what="the reconciler to submit the avatar")
            drill.log(f"the reconciler submitted it {time.monotonic() - started:.0f} s after the broker came back")
        except TimeoutError as exc:
            drill.problems.append(str(exc))
        self.wait_finished(drill)

    def drill_astria_down(self, drill: Drill) -> None:
        from studio.avatars.models import Avatar, AvatarState

        user, drill.avatars = self.drafts("d", 3)
        first, second, third = drill.avatars
        self.confirm(user, first)
        self.confirm(user, second)
        self._wait_for(
            drill, lambda: Avatar.objects.filter(pk=first.pk, state=AvatarState.GENERATING).exists(),
            "the first avatar generating",
        )
        self.faults(fail_next=1_000_000, fail_status=500, fail_scope="any")
        started = time.monotonic()
        states = ", ".join(Avatar.objects.get(pk=a.pk).state for a in (first, second))
        drill.log(f"every Astria API request now answers 500 (the first two avatars: {states})")
        self.confirm(user, third)
        drill.log("a third avatar confirmed during the outage")
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - started)))
        failures = self.stack.sandbox_stats()["faults_injected"]
        self.faults(fail_next=0)
        drill.log(f"Astria answers again after {time.monotonic() - started:.0f} s ({failures} requests got a 500)")
        self.wait_finished(drill)
        # A minute is well inside AVATAR_SUBMIT_GIVE_UP_AFTER: the outage may delay avatars, never fail them.
        failed = Avatar.objects.filter(pk__in=[a.pk for a in drill.avatars], state=AvatarState.FAILED)
        for name, reason in failed.values_list("name", "failure_reason"):
            drill.problems.append(f"avatar {name!r} failed over a {OUTAGE_SECONDS} s outage: {reason}")

    def drill_likeness(self, drill: Drill) -> None:
        from studio.avatars.models import LikenessOutcome, Prompt
        from studio.credits.models import CreditEntry

        user, drill.avatars = self.drafts("e", 2)
        word = self._first_style_word()
        self.faults(likeness_fault="stranger", likeness_fault_share=1.0, likeness_fault_match=word)
        drill.log(f"the sandbox paints every image of prompts saying {word!r} with someone else's face")
        for avatar in drill.avatars:
            self.confirm(user, avatar)
        caught = self._wait_for(drill, lambda: self.downloading(drill.avatars, redos=True), "a redo downloading")
        if caught:
            self.stack.processes["worker"].kill()
            drill.log(f"SIGKILL to the whole worker while the redo of {caught.label!r} had {caught.stored} of "
                      f"{caught.num_images} images stored")
            self.restart_worker(drill)
        self.wait_finished(drill)
        self.faults(likeness_fault="off")
        for avatar in drill.avatars:
            prompts = list(Prompt.objects.filter(avatar=avatar).select_related("avatar"))
            redos = [p for p in prompts if p.redo_of_id]
            failing = [p for p in prompts if word.lower() in p.text.lower() and not p.redo_of_id]
            if len(failing) != 1 or len(redos) != 1 or redos[0].redo_of_id != failing[0].pk:
                drill.problems.append(f"avatar {avatar.name!r}: {len(redos)} redos for {len(failing)} failing styles")
                continue
            for _ in range(2):  # Astria calling back about the redo again changes nothing
                self._post_callback(redos[0]).raise_for_status()
            time.sleep(2 * float(ENV["RECONCILE_INTERVAL"]))  # and the reconciler went round again
            style = Prompt.objects.get(pk=failing[0].pk)
            entries = CreditEntry.objects.filter(reference=f"prompt:{style.pk}", kind="refund")
            others = {p.likeness_outcome for p in prompts if p.pk not in (style.pk, redos[0].pk)}
            if style.likeness_outcome != LikenessOutcome.REFUNDED or entries.count() != 1:
                drill.problems.append(f"avatar {avatar.name!r}: style {style.likeness_outcome!r}, "
                                      f"{entries.count()} refund entries for it")
            elif others != {LikenessOutcome.PASSED}:
                drill.problems.append(f"avatar {avatar.name!r}: the other styles ended {sorted(others)}")
            else:
                drill.log(f"avatar {avatar.name!r}: {style.label!r} made again once, then refunded once "
                          f"({entries.get().amount} credit{'s' if entries.get().amount != 1 else ''})")

    def drill_two_of_each(self, drill: Drill) -> None:
        user, drill.avatars = self.drafts("f", 4)
        cookie = flow.session_cookie(user)
        second_url = f"http://127.0.0.1:{free_port()}"
        start_web_host(self.stack, "web2", port=int(second_url.rsplit(":", 1)[1]))
        self.start_worker("worker2")
        drill.log("a second web process and a second worker started, each with folders of its own")
        self.faults(latency=0.5)
        for index, avatar in enumerate(drill.avatars):
            web = (self.stack.web_url, second_url)[index % 2]
            if not self._confirm_through(drill, web, cookie, avatar):
                self.confirm(user, avatar)
        drill.log("4 avatars ordered, 2 through each web process")

        caught = self._wait_for(drill, lambda: self.downloading(drill.avatars), "an image download in flight")
        if caught:
            self.stack.processes["worker2"].kill()
            drill.log(f"SIGKILL to the second worker and its pool while {caught.label!r} had {caught.stored} of "
                      f"{caught.num_images} images stored; it stays dead")
        self.faults(latency=0.1)
        self.wait_finished(drill)
        self._check_both_webs(drill, cookie, (self.stack.web_url, second_url))
        written = [path for name in ("web", "web2", "worker", "worker2", "beat")
                   for path in files_under(Path(host_dirs(self.stack, name)["MEDIA_ROOT"]))]
        if written:
            drill.problems.append(f"{len(written)} files written to a process's own media folder: {written[:3]}")
        else:
            drill.log("no process wrote a file of its own: photos, images and zips are all in the bucket")
        self.stack.processes["web2"].stop()

    def _confirm_through(self, drill: Drill, web: str, cookie: str, avatar) -> bool:
        """Confirm the order on the confirm page of one web process, as the browser does."""
        url = f"{web}/avatars/{avatar.pk}/confirm/"
        page = requests.get(url, headers={"Cookie": cookie}, timeout=20)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        if page.status_code == 200 and token:
            answer = requests.post(url, data={"csrfmiddlewaretoken": token.group(1), "consent": "on"},
                                   headers={"Cookie": cookie, "Referer": url}, allow_redirects=False, timeout=30)
            if answer.status_code == 302:
                return True
            drill.problems.append(f"the confirm through {web} answered {answer.status_code}")
        else:
            drill.problems.append(f"the confirm page of {web} answered {page.status_code}")
        return False

    def _check_both_webs(self, drill: Drill, cookie: str, webs: tuple[str, str]) -> None:
        """Each web process shows every stored image of each avatar, and serves its files from the bucket."""
        from django.urls import reverse

        from studio.avatars.models import GeneratedImage

        for avatar in drill.avatars:
            stored = list(GeneratedImage.objects.filter(avatar=avatar).values_list("pk", flat=True))
            for web in webs:
                page = requests.get(f"{web}/avatars/{avatar.pk}/", headers={"Cookie": cookie}, timeout=20)
                shown = page.text.count('class="lightbox-link"')
                if page.status_code != 200 or shown != len(stored):
                    drill.problems.append(f"{web} shows {shown} of the {len(stored)} images of {avatar.name!r} "
                                          f"({page.status_code})")
            if stored:
                url = webs[1] + reverse("avatars:thumbnail", args=[avatar.pk, stored[0]])
                signed = requests.get(url, headers={"Cookie": cookie}, allow_redirects=False, timeout=20)
                fetched = None
                if signed.status_code == 302:
                    fetched = requests.get(signed.headers["Location"], timeout=20)
                if fetched is None or fetched.status_code != 200 or fetched.headers["Content-Type"] != "image/webp":
                    drill.problems.append(f"a thumbnail through {webs[1]} was not served from the bucket "
                                          f"({signed.status_code})")
        if not drill.problems:
            drill.log("both web processes show every image of every avatar; thumbnails come from the bucket")

    # --- helpers -------------------------------------------------------------------------------------------
    def _first_style_word(self) -> str:
        """A word of the first style's prompt that no other chosen prompt has."""
        from studio.themes.models import PromptIdea, Theme

        texts = [Theme.objects.get(slug=slug).prompt for slug in self.themes]
        texts += [idea.text for idea in PromptIdea.objects.filter(pk__in=self.ideas)]
        others = " ".join(texts[1:]).lower()
        return next(word for word in re.findall(r"[a-z]{6,}", texts[0].lower()) if word not in others)

    def _wait_for(self, drill: Drill, condition, what: str, timeout: float = 90):
        try:
            return wait_until(condition, timeout=timeout, interval=0.05, what=what)
        except TimeoutError:
            drill.problems.append(f"the drill never caught {what}: nothing to break")
            return None

    def _post_callback(self, prompt) -> requests.Response:
        """What Astria sends when that prompt is done (its real token, a body of its own)."""
        from django.urls import reverse

        from studio.avatars import callbacks

        token = callbacks.token_for(kind="prompt", nonce=prompt.callback_nonce)
        body = {"prompt": {"id": prompt.astria_prompt_id, "tune_id": prompt.avatar.tune_id, "drill": "b"}}
        return requests.post(self.stack.web_url + reverse("astria_callback", args=[token]), json=body, timeout=30)

    def _log_in(self, email: str, password: str) -> requests.Response:
        """Log in through the form, as a person would (the answer is 302 when it works)."""
        url = f"{self.stack.web_url}/accounts/login/"
        browser = requests.Session()
        page = browser.get(url, timeout=20)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        data = {"csrfmiddlewaretoken": token.group(1) if token else "", "login": email, "password": password}
        return browser.post(url, data=data, headers={"Referer": url}, allow_redirects=False, timeout=30)

    def _callback_log(self) -> list[dict]:
        response = requests.get(self.stack.sandbox_url + "/_sandbox/callbacks", timeout=20)
        response.raise_for_status()
        return response.json()


def start_s3(stack: Stack, port: int, s3: dict[str, str]) -> None:
    """moto's standalone S3 server as one of the stack's processes, with the studio's bucket in it."""
    import boto3

    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    stack.start("s3", argv, ready=lambda p: requests.get(s3["AWS_S3_ENDPOINT_URL"], timeout=2).ok)
    boto3.client(
        "s3", endpoint_url=s3["AWS_S3_ENDPOINT_URL"], region_name=S3_REGION,
        aws_access_key_id=s3["AWS_ACCESS_KEY_ID"], aws_secret_access_key=s3["AWS_SECRET_ACCESS_KEY"],
    ).create_bucket(Bucket=s3["AWS_STORAGE_BUCKET_NAME"])


def _kill(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


DRILLS = {
    "a": ("the worker killed with SIGKILL mid-task, then restarted", Chaos.drill_worker_killed),
    "b": ("Redis killed (kill -9) while tasks flow, started again empty", Chaos.drill_redis_killed),
    "c": ("the broker down while a user confirms", Chaos.drill_broker_down_at_confirm),
    "d": (f"the sandbox answering 500 to every API request for {OUTAGE_SECONDS} s", Chaos.drill_astria_down),
    "e": ("a style painted with someone else's face: made again once, then refunded once", Chaos.drill_likeness),
    "f": ("two web processes and two workers sharing only the database, Redis and S3; one worker killed",
          Chaos.drill_two_of_each),
}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("drills", nargs="*", help=f"drills to run: {', '.join(DRILLS)} (default: all)")
    names = parser.parse_args(argv).drills or list(DRILLS)
    if unknown := sorted(set(names) - set(DRILLS)):
        parser.error(f"no such drill: {', '.join(unknown)}")

    if not shutil.which("redis-server"):
        say("make chaos needs redis-server (apt-get install redis-server): it starts a private one to kill.")
        return 2
    started = time.monotonic()
    redis_port, s3_port = free_port(), free_port()
    s3 = {"AWS_STORAGE_BUCKET_NAME": "chaos-media", "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
          "AWS_S3_REGION_NAME": S3_REGION, **S3_KEYS}
    drills: list[Drill] = []
    with Stack("chaos", redis_url=f"redis://127.0.0.1:{redis_port}/0", env=ENV | s3) as stack:
        stack.start_redis(redis_port)
        start_s3(stack, s3_port, s3)
        stack.setup_django()
        stack.start_sandbox(training_delay=2, prompt_delay=2)
        start_web_host(stack, "web")
        chaos = Chaos(stack, redis_port)
        chaos.start_worker()
        stack.start_beat(env=host_dirs(stack, "beat"))
        say(f"chaos drills: {stack.database.description}; broker and cache: private redis-server on port "
            f"{redis_port} (no persistence); media in a private S3 (moto) on port {s3_port}; prefork worker "
            f"x2; beat reconciling every {ENV['RECONCILE_INTERVAL']} s; sandbox with 2 s training, 2 s per prompt")
        for name in names:
            title, run = DRILLS[name]
            drill = Drill(name, title)
            say(f"  ({name}) {title}")
            try:
                run(chaos, drill)
                chaos.check(drill)
            except Exception as exc:  # a drill that crashed is a failed drill, and the others still run
                drill.problems.append(f"the drill crashed: {exc!r}")
                for process in stack.processes.values():
                    if not process.alive():
                        drill.problems.append(f"{process.name} is not running:\n{process.tail(15)}")
            drills.append(drill)
            # The next drill starts from a whole stack and an Astria without faults, whatever this one left.
            if not stack.processes["redis"].alive():
                stack.start_redis(redis_port)
            if not stack.processes["worker"].alive():
                chaos.start_worker()
            chaos.faults(latency=0, fail_next=0, likeness_fault="off")
        from studio.credits.selectors import wallets_out_of_balance

        unbalanced = list(wallets_out_of_balance())
    say()
    say("chaos report")
    failed = False
    for drill in drills:
        verdict = "FAILED" if drill.problems else "passed"
        failed = failed or bool(drill.problems)
        say(f"  ({drill.key}) {drill.title}: {verdict}")
        for problem in drill.problems:
            say(f"      - {problem}")
    if unbalanced:
        failed = True
        say(f"  wallets whose balance is not the sum of their ledger: {len(unbalanced)}")
    say(f"{len(drills)} drills in {time.monotonic() - started:.0f} s: "
        f"{'FAILED' if failed else 'every check passed'}")
    return 1 if failed else 0

