"""The studio run for real: the demo pipeline, its pages and callbacks under load, a first view.

One stack (bench/stack.py): a database of its own (PostgreSQL when DATABASE_URL is set, SQLite
otherwise), the broker REDIS_URL names (or the filesystem broker), the Astria sandbox with zero
delays as its own process, gunicorn with the studio's gunicorn.conf.py, a prefork Celery worker.

1. The demo pipeline: what `manage.py demo` does (a user, 6 photos checked by the worker, 7 themes
   and 7 library prompts, confirm), until the gallery's 112 images are stored. Studio overhead per
   prompt = the web and worker processes' CPU time / prompts (the sandbox runs alongside them, on
   the same cores, so wall time minus its time would mean nothing); it includes scoring every
   stored portrait for likeness.
2. With the worker stopped (so only the request path is measured, and each callback is recorded and
   enqueued, nothing more): the gallery of those 112 images, "My avatars" with 12 cards, and valid
   Astria callbacks (real tokens of the real prompts, a new event each), each loaded from a second
   process, alternating with a bare view served by the same gunicorn, so ratios hold on any machine.
   wrk opens its connections at once and keeps them: a run in which one of gunicorn's two workers
   won the race to accept them all (and served it on one core) is made again.
3. The gallery's first view in headless Chromium: the bytes of the HTML, CSS and JavaScript and of
   the images on the first screen (lazy ones below the fold excluded), on a laptop and a phone.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import statistics
import sys
import time

import requests

from bench import Figure, load
from bench.stack import Stack, wait_until

ROUNDS = 3
SECONDS = 4
CONNECTIONS = 8
CARDS = 12
# Budgets: how many times a bare view's cost a page may take. A DB + template page is one to two
# orders of magnitude slower than a trivial view, but a finished gallery of 112 tiles and "My
# avatars" with its 12 cards are rendered once per version of what they show, header included
# (studio/avatars/page_cache.py), so a view is a few indexed queries and a copy of the kept page;
# a callback is one lookup, one INSERT and an enqueue. First view: what a gallery should weigh before the first scroll.
GALLERY_BUDGET = 10
LIST_BUDGET = 5
CALLBACK_BUDGET = 3
CALLBACK_P95_BUDGET = 6
BALANCE_TRIES = 5
FIRST_VIEW_BUDGETS = {"laptop": 300, "phone": 600}  # KB
VIEWPORTS = {
    "laptop": {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1},
    "phone": {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
              "has_touch": True},
}


def say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def run() -> list[Figure]:
    with Stack("bench") as stack:
        say(f"database: {stack.database.description}; broker: {stack.broker}; load: {load.tool()}")
        stack.setup_django()
        stack.start_sandbox(training_delay=0, prompt_delay=0)
        # gunicorn.conf.py recycles a worker every ~2,000 requests (a guard against leaks); at
        # thousands of requests a second that would time worker boots, so only that is switched off.
        stack.start_web("--max-requests", "0")
        stack.start_worker()
        figures, avatar, user = pipeline(stack)
        stack.processes["worker"].stop()
        say("worker stopped: only request paths from here on")
        cookie = seed_cards(user, avatar)
        figures += web(stack, avatar, cookie)
        figures += first_view(stack, avatar, cookie)
        return figures


# --- 1. the demo pipeline --------------------------------------------------------------------------


def pipeline(stack: Stack):
    from bench import flow
    from studio.avatars.models import AvatarState, GeneratedImage
    from studio.avatars.services import avatar_confirm, avatar_create
    from studio.photos.samples import sample_set
    from studio.photos.selectors import photo_minimum_met

    photos = sample_set(6)
    themes, ideas = flow.choices_for("woman", themes=7, ideas=7)
    sandbox, web, worker = (stack.processes[name] for name in ("sandbox", "web", "worker"))
    say("demo pipeline: 6 photos, 7 themes, 7 prompts, zero sandbox delays ...")
    sandbox_cpu, studio_cpu = sandbox.cpu_seconds(), web.cpu_seconds() + worker.cpu_seconds()
    started = time.perf_counter()

    user = flow.make_user("demo@example.test")
    avatar = avatar_create(user=user, name="Demo", subject_class="woman")
    flow.upload_photos(user, avatar, photos)
    wait_until(lambda: flow.photos_checked(avatar), timeout=120, interval=0.02, what="the photo checks")
    assert photo_minimum_met(avatar=avatar), "the sample photos were refused"
    flow.choose(avatar, themes=themes, ideas=ideas)
    flow.fund_for(user, avatar)
    avatar_confirm(user=user, avatar_id=avatar.pk, consent=True)
    flow.wait_finished([avatar], timeout=300, interval=0.02)

    wall = time.perf_counter() - started
    sandbox_cpu = sandbox.cpu_seconds() - sandbox_cpu
    studio_cpu = web.cpu_seconds() + worker.cpu_seconds() - studio_cpu
    avatar.refresh_from_db()
    prompts = avatar.prompts.count()
    images = GeneratedImage.objects.filter(avatar=avatar).count()
    if avatar.state != AvatarState.DONE or images != prompts * 8:
        raise RuntimeError(f"the demo avatar ended {avatar.state} with {images} images")
    say(f"done: {prompts} prompts, {images} images in {wall:.1f} s (sandbox CPU {sandbox_cpu:.1f} s)")
    figures = [
        Figure("pipeline.wall", wall, "s", note=f"demo flow, {prompts} prompts, {images} images stored; "
               f"{stack.database.vendor}, {stack.broker.split(' (')[0]}, prefork worker x2"),
        Figure("pipeline.sandbox_cpu", sandbox_cpu, "s", note="the sandbox process's own time (rendering)"),
        # 0.75 s of plumbing, plus scoring each of a prompt's 8 portraits for likeness (faces.score_per_image).
        Figure("pipeline.studio_cpu_per_prompt", studio_cpu / prompts, "s", budget=0.75 + 8 * 0.3,
               note="studio overhead: web + worker CPU time / prompts (photo checks, submit, callbacks, "
                    "downloads, re-encoding, thumbnails, likeness scoring)"),
    ]
    return figures, avatar, user


# --- 2. pages and callbacks under load -------------------------------------------------------------


def seed_cards(user, avatar) -> str:
    """More avatars for "My avatars" (done, one generating, one failed, one draft) sharing the demo's
    image files, so the list has CARDS cards; returns the user's Cookie header."""
    from bench import flow
    from studio.avatars.models import Avatar, AvatarState, GeneratedImage, Prompt, PromptState

    states = [AvatarState.DONE] * (CARDS - 4) + [AvatarState.GENERATING, AvatarState.FAILED, AvatarState.DRAFT]
    source = list(GeneratedImage.objects.filter(avatar=avatar).select_related("prompt"))
    for number, state in enumerate(states):
        other = Avatar.objects.create(user=user, name=f"Avatar {number + 2}", subject_class="woman", state=state)
        if state == AvatarState.DRAFT:
            continue
        prompts = Prompt.objects.bulk_create(
            Prompt(avatar=other, position=index, label=f"Theme {index + 1}", text="portrait of ohwx woman",
                   num_images=8, price=1,
                   state=PromptState.DONE if state != AvatarState.FAILED else PromptState.FAILED)
            for index in range(14)
        )
        if state == AvatarState.FAILED:
            continue
        by_position = {prompt.position: prompt for prompt in prompts}
        GeneratedImage.objects.bulk_create(
            GeneratedImage(avatar=other, prompt=by_position[image.prompt.position], index=image.index,
                           image=image.image.name, thumbnail=image.thumbnail.name, width=image.width,
                           height=image.height, thumb_width=image.thumb_width, thumb_height=image.thumb_height,
                           bytes=image.bytes)
            for image in source
        )
    assert Avatar.objects.filter(user=user).count() == CARDS
    return flow.session_cookie(user)


def callback_body(stack: Stack, avatar) -> str:
    """The body Astria (the sandbox) sends when a prompt is done, with a delivery number added."""
    from django.conf import settings

    prompt = avatar.prompts.order_by("position").first()
    response = requests.get(
        f"{stack.sandbox_url}/tunes/{avatar.tune_id}/prompts/{prompt.astria_prompt_id}",
        headers={"Authorization": f"Bearer {settings.ASTRIA_SANDBOX_API_KEY}"}, timeout=10,
    )
    response.raise_for_status()
    body = {"prompt": response.json() | {"delivery": "__SEQ__"}}
    return json.dumps(body).replace('"__SEQ__"', load.SEQ)


def web(stack: Stack, avatar, cookie: str) -> list[Figure]:
    from django.urls import reverse

    from studio.avatars import callbacks
    from studio.avatars.models import CallbackEvent

    callback_paths = [
        reverse("astria_callback", args=[callbacks.token_for(kind="prompt", nonce=prompt.callback_nonce)])
        for prompt in avatar.prompts.all()
    ]
    headers = {"Cookie": cookie}
    targets = {
        "bare": {"paths": [reverse("bench_bare")], "headers": headers},
        "gallery": {"paths": [reverse("avatars:detail", args=[avatar.pk])], "headers": headers},
        "list": {"paths": [reverse("avatars:list")], "headers": headers},
        "callback": {"paths": callback_paths, "body": callback_body(stack, avatar)},
    }
    for name, target in targets.items():  # every page answers as it should before it is timed
        path = target["paths"][0]
        if "body" in target:
            response = requests.post(stack.web_url + path, data=target["body"].replace(load.SEQ, "0"), timeout=10)
        else:
            response = requests.get(stack.web_url + path, headers=target.get("headers"), timeout=10)
        expected = {"gallery": ('class="image-tile"', 112), "list": ('class="avatar-card"', CARDS)}.get(name)
        if response.status_code != 200 or (expected and response.text.count(expected[0]) != expected[1]):
            raise RuntimeError(f"{name} answered {response.status_code}:\n{response.text[:500]}")
    events_before = CallbackEvent.objects.count()

    say(f"load: {ROUNDS} rounds of {SECONDS} s per target, {CONNECTIONS} connections ({load.tool()}) ...")
    server = stack.processes["web"]
    requests_sent = dict.fromkeys(targets, 0)
    redone = []

    def measure(name: str, seconds: float) -> load.Load:
        """One load run, made again (up to BALANCE_TRIES times) when one of gunicorn's workers served
        almost none of it: wrk opens its connections at once and keeps them, and a worker that wins
        the race to accept them all serves the whole run on one core, halving its throughput."""
        for _ in range(BALANCE_TRIES):
            before = server.cpu_by_pid()
            result = load.run(stack.web_url, seconds=seconds, connections=CONNECTIONS, **targets[name])
            after = server.cpu_by_pid()
            requests_sent[name] += result.requests
            spent = {pid: cpu - before.get(pid, 0) for pid, cpu in after.items()}
            result.server_cpu_ms = sum(spent.values()) * 1000 / max(result.requests, 1)
            workers = [cpu for pid, cpu in spent.items() if pid != server.pid]  # the arbiter serves nothing
            if min(workers) >= sum(workers) / (2 * len(workers)):
                break
            redone.append(name)
        return result

    for name in targets:  # every worker and thread started, every page's first render done
        measure(name, 1)
    results: dict[str, list[load.Load]] = {name: [] for name in targets}
    for _ in range(ROUNDS):
        for name in targets:
            results[name].append(measure(name, SECONDS))
    errors = {name: sum(r.errors for r in runs) for name, runs in results.items() if any(r.errors for r in runs)}
    if errors:
        raise RuntimeError(f"requests failed under load: {errors}\n{server.tail()}")
    recorded = CallbackEvent.objects.count() - events_before
    sent = requests_sent["callback"]
    if recorded < sent:  # a replayed body is answered without a new event: it would time the cheap path
        raise RuntimeError(f"{sent} callbacks sent but only {recorded} recorded as new events")

    def median(name: str, attribute: str) -> float:
        return statistics.median(getattr(r, attribute) for r in results[name])

    def against_bare(name: str, attribute: str, *, inverse: bool = False) -> float:
        """The median over rounds of bare/other (or other/bare), each round's pair run back to back."""
        pairs = zip(results["bare"], results[name], strict=True)
        return statistics.median(
            getattr(other, attribute) / getattr(bare, attribute) if inverse
            else getattr(bare, attribute) / getattr(other, attribute)
            for bare, other in pairs
        )

    def detail(name: str) -> str:
        return (f"p95 {median(name, 'p95_ms'):.0f} ms, server CPU {median(name, 'server_cpu_ms'):.1f} ms/request "
                f"({against_bare(name, 'server_cpu_ms', inverse=True):.0f}x bare)")

    return [
        Figure("web.bare_rps", median("bare", "rps"), "req/s",
               note=f"trivial view, same gunicorn and middleware, p95 {median('bare', 'p95_ms'):.1f} ms, "
                    f"server CPU {median('bare', 'server_cpu_ms'):.2f} ms/request; "
                    f"{len(redone)} runs made again with one worker idle ({', '.join(redone) or 'none'})"),
        Figure("web.gallery_rps", median("gallery", "rps"), "req/s",
               note=f"gallery of 112 images, {detail('gallery')}"),
        Figure("web.gallery_cost_vs_bare", against_bare("gallery", "rps"), "x", budget=GALLERY_BUDGET,
               note="bare req/s / gallery req/s"),
        Figure("web.list_rps", median("list", "rps"), "req/s", note=f"My avatars, {CARDS} cards, {detail('list')}"),
        Figure("web.list_cost_vs_bare", against_bare("list", "rps"), "x", budget=LIST_BUDGET,
               note="bare req/s / list req/s"),
        Figure("callbacks.rps", median("callback", "rps"), "req/s",
               note=f"valid callbacks, each recorded and enqueued ({recorded} events), {detail('callback')}"),
        Figure("callbacks.cost_vs_bare", against_bare("callback", "rps"), "x", budget=CALLBACK_BUDGET,
               note="bare req/s / callback req/s"),
        Figure("callbacks.p95", median("callback", "p95_ms"), "ms", note="p95 latency, 8 connections"),
        Figure("callbacks.p95_vs_bare", against_bare("callback", "p95_ms", inverse=True), "x",
               budget=CALLBACK_P95_BUDGET, note="callback p95 / bare p95"),
    ]


# --- 3. the first view ------------------------------------------------------------------------------


FIRST_SCREEN_IMAGES = """() => [...document.images].filter((img) => {
  const box = img.getBoundingClientRect();
  return box.width > 0 && box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth;
}).map((img) => img.currentSrc)"""


def first_view(stack: Stack, avatar, cookie: str) -> list[Figure]:
    chromium = shutil.which("chromium")
    if chromium is None:
        say("Chromium is not installed (apt-get install chromium): no first-view figures")
        return []
    from django.urls import reverse
    from playwright.sync_api import sync_playwright

    url = stack.web_url + reverse("avatars:detail", args=[avatar.pk])
    cookies = [{"name": name, "value": value, "url": stack.web_url}
               for name, value in (pair.split("=", 1) for pair in cookie.split("; "))]
    response = requests.get(url, headers={"Cookie": cookie, "Accept-Encoding": "gzip"}, timeout=10, stream=True)
    wire = response.raw.read(decode_content=False)
    html = gzip.decompress(wire) if response.headers.get("Content-Encoding") == "gzip" else wire
    html_note = (f"the HTML is {len(html) / 1024:.0f} KB, sent as {len(wire) / 1024:.0f} KB"
                 if len(wire) < len(html) else
                 f"the HTML goes out uncompressed ({len(html) / 1024:.0f} KB; gzip would make it "
                 f"{len(gzip.compress(html)) / 1024:.0f} KB)")
    figures = []
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # no ORM from here; Playwright's loop runs
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu", "--disable-quic"]
        )
        finished: list = []
        for name, options in VIEWPORTS.items():
            context = browser.new_context(**options)
            context.add_cookies(cookies)
            page = context.new_page()
            finished.clear()
            page.on("requestfinished", lambda request: finished.append(request))
            page.goto(url, wait_until="networkidle")
            on_screen = set(page.evaluate(FIRST_SCREEN_IMAGES))
            counted = {"document": 0, "stylesheet": 0, "script": 0, "image": 0, "other": 0}
            images, later = 0, 0
            for request in finished:
                size = max(request.sizes()["responseBodySize"], 0)
                kind = request.resource_type
                if kind == "image":
                    if request.url not in on_screen:
                        later += 1
                        continue
                    images += 1
                counted[kind if kind in counted else "other"] += size
            context.close()
            total = sum(counted.values()) / 1024
            detail = ", ".join(f"{kind} {size / 1024:.0f}" for kind, size in counted.items() if size)
            figures.append(Figure(
                f"first_view.{name}", total, "KB", budget=FIRST_VIEW_BUDGETS[name],
                note=f"{options['viewport']['width']}x{options['viewport']['height']}@"
                     f"{options['device_scale_factor']}x, as sent: {detail} KB; {images} images on screen, "
                     f"{later} lazy ones Chromium fetched ahead not counted; {html_note}",
            ))
        browser.close()
    return figures
