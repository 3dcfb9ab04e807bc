"""The customer pages' expensive parts, rendered once per version of what they show.

An avatar's `gallery_version` is bumped in the same transaction as every change the gallery shows
(an image stored, a favourite toggled, a prompt finished or failed, the avatar's state), so a
cached grid is never stale: a change makes a new key, and the old one expires unread. The cache
is shared by every web process (Redis); losing it costs one render.

Forms in a cached fragment carry a placeholder where the CSRF token goes; each response puts the
request's own (freshly masked) token there. Keys also name the template's own version, so a
deploy that changes the markup never serves what the old one rendered.
"""

import functools
import hashlib
import uuid
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import F
from django.middleware.csrf import get_token
from django.template.loader import get_template, render_to_string
from django.utils.safestring import SafeString, mark_safe

from studio.avatars import selectors
from studio.avatars.models import Avatar

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


def _with_csrf(html: str, request) -> SafeString:
    return mark_safe(html.replace(CSRF_SLOT, get_token(request)))  # noqa: S308 (our own rendered template)


def gallery_grid(*, request, avatar: Avatar) -> Grid:
    """The avatar's prompt sections and image tiles with the figures the page shows about them."""
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
    return Grid(**{**cached, "html": _with_csrf(cached["html"], request)})


def avatar_cards(*, user) -> tuple[list[SafeString], list]:
    """The rendered cards of "My avatars", newest first, and the ids of those still in progress.

    Each card is kept per version of its avatar; one in progress only briefly, as its bar moves
    with time (the page's poller keeps it current). Those not kept are rendered from one query.
    """
    avatars = list(selectors.avatar_list_for_user(user=user).only("pk", "state", "gallery_version"))
    markup = _markup("avatars/list.html")
    keys = {
        avatar.pk: f"avatars:card:{markup}:{avatar.pk}:{avatar.state}:{avatar.gallery_version}" for avatar in avatars
    }
    kept = cache.get_many(list(keys.values())) if keys else {}
    missing = [avatar.pk for avatar in avatars if keys[avatar.pk] not in kept]
    if missing:
        for card in selectors.avatar_cards_for_user(user=user).filter(pk__in=missing):
            progress = selectors.avatar_card_progress(card)
            html = render_to_string("avatars/list.html#card", {"avatar": card, "progress": progress})
            kept[keys[card.pk]] = html
            cache.set(keys[card.pk], html, PENDING_CARD_KEEP if progress.pending else CARD_KEEP)
    pending = [avatar.pk for avatar in avatars if avatar.state in selectors.PENDING_STATES]
    # Our own templates' output, kept as rendered.
    return [mark_safe(kept[keys[avatar.pk]]) for avatar in avatars if keys[avatar.pk] in kept], pending  # noqa: S308


def gallery_changed(*, avatar_id: uuid.UUID | str) -> None:
    """What the avatar's gallery shows is changing in this transaction (an image, a favourite, a
    prompt's state): its cached grid is keyed on the version this bumps. Call it first in the
    transaction: the avatar's row is locked before any prompt's, as everywhere else."""
    Avatar.objects.filter(pk=avatar_id).update(gallery_version=F("gallery_version") + 1)
