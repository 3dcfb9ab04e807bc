"""The customer pages, and their expensive parts, rendered once per version of what they show.

An avatar's `gallery_version` is bumped in the same transaction as every change the gallery shows
(an image stored, a favourite toggled, a prompt finished or failed, the avatar's state), so a
cached grid is never stale: a change makes a new key, and the old one expires unread. The cache
is shared by every web process (Redis); losing it costs one render.

A whole page (`page`) is kept the same way: its key names everything it shows, the header's
address, staff links and credit balance included, so a change of any of them makes a new key.
As such a key never names two different pages, each process also keeps the pages it served last
in its own memory (up to 16 MB), in front of Redis: a gallery of 112 images is 250 KB of HTML,
which costs more to fetch and unpickle than the rest of its request.

Forms in a cached fragment carry a placeholder where the CSRF token goes; each response puts the
request's own (freshly masked) token there. Keys also name the template's own version, so a
deploy that changes the markup never serves what the old one rendered.
"""

import functools
import hashlib
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.messages import get_messages
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe

from studio.avatars import selectors
from studio.avatars.models import Avatar
from studio.credits.selectors import credit_balance

CSRF_SLOT = "csrf-slot-0f6c2d"  # stands for the token in cached HTML; never a real token
KEEP = 24 * 3600  # seconds: an unchanged gallery is rendered again at most once a day
CARD_KEEP = 300  # seconds: a card says "started 3 days ago", so it is rendered again now and then
PENDING_CARD_KEEP = 10  # seconds: a card in progress shows a bar and the time left


@dataclass(frozen=True)
class Grid:
    html: SafeString
    prompts_total: int
    prompts_finished: int
    image_count: int
    favourite_count: int


@functools.cache
def _markup(template_name: str) -> str:
    """A short digest of the template's source: the same on every process of one deploy."""
    return hashlib.sha256(get_template(template_name).template.source.encode()).hexdigest()[:12]


@functools.cache
def _frame() -> str:
    """What every page is framed in: the base template, the header's balance, and the names of the
    static files they link to (hashed per deploy), as one digest."""
    parts = [_markup("base.html"), _markup("credits/_balance.html"), getattr(staticfiles_storage, "manifest_hash", "")]
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:12]


class _Recent:
    """The pages this process served last, up to `budget` bytes, each until it expires."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self._pages: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[float, bytes] | None:
        with self._lock:
            kept = self._pages.get(key)
            if kept is None:
                return None
            if kept[0] <= time.time():
                self._drop(key)
                return None
            self._pages.move_to_end(key)
            return kept

    def put(self, key: str, kept: tuple[float, bytes]) -> None:
        if len(kept[1]) > self.budget // 4:
            return
        with self._lock:
            if key in self._pages:
                self._drop(key)
            self._pages[key] = kept
            self._size += len(kept[1])
            while self._size > self.budget:
                self._drop(next(iter(self._pages)))

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._size = 0

    def _drop(self, key: str) -> None:
        self._size -= len(self._pages.pop(key)[1])


recent_pages = _Recent(budget=16 * 1024 * 1024)
_CSRF_SLOT_BYTES = CSRF_SLOT.encode()


def page(
    request: HttpRequest, template_name: str, *, key: tuple | None, keep: int, context: Callable[[], dict]
) -> HttpResponse:
    """The page for the signed-in visitor, rendered once per `key` (what the page itself shows) and
    what the header shows: the visitor's address, staff or not, and credit balance.

    `context()` is called only to render; fragments in it may carry CSRF_SLOT. Without a key (a
    page that changes with time), or with a message waiting (a toast, shown once), the page is
    rendered and not kept.
    """
    if key is None or len(get_messages(request)):
        html = render_to_string(template_name, context() | {"csrf_token": CSRF_SLOT}, request=request)
        return HttpResponse(html.replace(CSRF_SLOT, get_token(request)))
    user = request.user
    balance = credit_balance(user=user)
    shown = (_frame(), _markup(template_name), user.pk, user.email, user.is_staff, balance, *key)
    page_key = f"avatars:page:{hashlib.sha256(repr(shown).encode()).hexdigest()}"
    kept = recent_pages.get(page_key)
    if kept is None:
        kept = cache.get(page_key)  # (expiry, the page's UTF-8): the same expiry for every copy
        if kept is None:
            html = render_to_string(
                template_name, context() | {"credit_balance": balance, "csrf_token": CSRF_SLOT}, request=request
            )
            kept = (time.time() + keep, html.encode())
            cache.set(page_key, kept, keep)
        recent_pages.put(page_key, kept)
    return HttpResponse(kept[1].replace(_CSRF_SLOT_BYTES, get_token(request).encode()))


def gallery_grid(*, avatar: Avatar) -> Grid:
    """The avatar's prompt sections and image tiles with the figures the page shows about them;
    its forms carry CSRF_SLOT (`page` puts the visitor's token there)."""
    key = f"avatars:grid:{_markup('avatars/gallery.html')}:{avatar.pk}:{avatar.state}:{avatar.gallery_version}"
    cached = cache.get(key)
    if cached is None:
        prompts = list(selectors.gallery_prompts(avatar=avatar))
        images = [image for prompt in prompts for image in prompt.images.all()]
        html = render_to_string(
            "avatars/gallery.html#grid",
            {"avatar": avatar, "styles": selectors.gallery_styles(prompts=prompts), "csrf_token": CSRF_SLOT},
        )
        cached = {
            "html": html,
            "prompts_total": len(prompts),
            "prompts_finished": sum(1 for prompt in prompts if prompt.is_finished),
            "image_count": len(images),
            "favourite_count": sum(1 for image in images if image.is_favourite),
        }
        cache.set(key, cached, KEEP)
    return Grid(**{**cached, "html": mark_safe(cached["html"])})  # noqa: S308 (our own rendered template)


def avatar_list_page(request: HttpRequest) -> HttpResponse:
    """"My avatars", kept per version of every card on it, and briefly while one is in progress
    (its bar moves with time; the page's poller keeps it current)."""
    avatars = selectors.avatar_versions_for_user(user=request.user)
    pending = [pk for pk, state, _ in avatars if state in selectors.PENDING_STATES]

    def context() -> dict:
        return {"rendered_cards": avatar_cards(user=request.user, avatars=avatars), "pending_ids": pending}

    keep = PENDING_CARD_KEEP if pending else CARD_KEEP
    return page(request, "avatars/list.html", key=tuple(avatars), keep=keep, context=context)


def avatar_cards(*, user, avatars: list[tuple]) -> list[SafeString]:
    """The rendered cards of the (pk, state, gallery_version) avatars of "My avatars", in order.

    Each card is kept per version of its avatar; one in progress only briefly, as its bar moves
    with time. Those not kept are rendered from one query.
    """
    markup = _markup("avatars/list.html")
    keys = {pk: f"avatars:card:{markup}:{pk}:{state}:{version}" for pk, state, version in avatars}
    kept = cache.get_many(list(keys.values())) if keys else {}
    missing = [pk for pk, key in keys.items() if key not in kept]
    if missing:
        for card in selectors.avatar_cards_for_user(user=user).filter(pk__in=missing):
            progress = selectors.avatar_card_progress(card)
            html = render_to_string("avatars/list.html#card", {"avatar": card, "progress": progress})
            kept[keys[card.pk]] = html
            cache.set(keys[card.pk], html, PENDING_CARD_KEEP if progress.pending else CARD_KEEP)
    # Our own templates' output, kept as rendered.
    return [mark_safe(kept[keys[pk]]) for pk, _, _ in avatars if keys[pk] in kept]  # noqa: S308


def gallery_changed(*, avatar_id: uuid.UUID | str) -> None:
    """What the avatar's gallery shows is changing in this transaction (an image, a favourite, a
    prompt's state): its cached grid is keyed on the version this bumps. Call it first in the
    transaction: the avatar's row is locked before any prompt's, as everywhere else."""
    Avatar.objects.filter(pk=avatar_id).update(gallery_version=F("gallery_version") + 1)
