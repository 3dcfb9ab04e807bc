import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from studio.avatars.models import Avatar
from studio.avatars.selectors import avatar_list_for_user
from studio.core.exceptions import ApplicationError
from studio.core.htmx import HtmxRequest, wants_fragment
from studio.teams.selectors import team_style_for_avatar
from studio.themes import planner, prompting, selectors, services
from studio.themes.forms import CustomPromptForm, LibrarySearchForm

PAGE = "themes/styles.html"
LIBRARY = "themes/library.html"


def _styles_url(avatar: Avatar, *, tag: str = "", anchor: str = "") -> str:
    url = reverse("themes:styles", args=[avatar.pk])
    if tag:
        url += "?" + urlencode({"tag": tag})
    return f"{url}#{anchor}" if anchor else url


def _custom_form(avatar: Avatar, data=None, *, initial=None) -> CustomPromptForm:
    return CustomPromptForm(
        data,
        avatar=avatar,
        initial=initial,
        preview_url=reverse("themes:custom_preview", args=[avatar.pk]),
    )


def _limits() -> dict[str, int]:
    """The limits and prices the page states."""
    return {
        "themes": settings.FAIR_USE_MAX_THEME_PROMPTS,
        "custom": settings.FAIR_USE_MAX_CUSTOM_PROMPTS,
        "prompts": settings.FAIR_USE_MAX_PROMPTS,
        "images": planner.images_per_prompt(),
        "price_tune": settings.CREDITS_PRICE_TUNE,
        "price_prompt": settings.CREDITS_PRICE_PROMPT,
    }


def _styles_context(
    avatar: Avatar,
    *,
    tag: str = "",
    q: str = "",
    form: CustomPromptForm | None = None,
    picker_error: str = "",
    custom_error: str = "",
    preview: dict | None = None,
) -> dict:
    """Everything the styles page and its partials show, read fresh from the database."""
    suited = selectors.theme_list_for_subject(subject_class=avatar.subject_class)
    team = team_style_for_avatar(avatar=avatar)
    if team:  # a member's avatar paid by their organisation: only its styles
        suited = [theme for theme in suited if theme.slug in team.theme_slugs]
    tags = selectors.theme_tags(suited)
    tag = tag if tag in tags else ""
    chosen = selectors.chosen_theme_list(avatar=avatar)
    customs = selectors.custom_prompt_list(avatar=avatar)
    plan = planner.plan_for_avatar(avatar=avatar)
    theme_room, custom_room = planner.room_left(theme_count=len(chosen), custom_count=len(customs))
    chosen_ids = {choice.theme_id for choice in chosen}
    return {
        "avatar": avatar,
        "team": team,
        "themes": [theme for theme in suited if tag in theme.tags] if tag else suited,
        "tags": tags,
        "tag": tag,
        "chosen_ids": chosen_ids,
        "unavailable": [choice.theme for choice in chosen if choice.theme not in suited],
        "customs": customs,
        "plan": plan,
        "limits": _limits(),
        "themes_full": not theme_room or bool(team and len(chosen) >= team.styles),
        "custom_full": not custom_room,
        "form": form or _custom_form(avatar),
        "picker_error": picker_error,
        "custom_error": custom_error,
        "preview": preview,
        "search_form": LibrarySearchForm(initial={"q": q}),
        "q": q,
        "ideas": selectors.prompt_idea_search(query=q, subject_class=avatar.subject_class, limit=6),
        "confirm_url": reverse("avatars:confirm", args=[avatar.pk]),
        "meter": planner.Meter.for_plan(
            plan,
            continue_url=reverse("avatars:confirm", args=[avatar.pk]),
            note=(
                f"{team.organisation} pays for your portraits: choose up to {team.styles} of its styles."
                if team else
                f"Training costs {settings.CREDITS_PRICE_TUNE} credit{pluralize(settings.CREDITS_PRICE_TUNE)}, "
                f"each style {settings.CREDITS_PRICE_PROMPT}. Nothing is charged until you confirm."
            ),
        ),
    }


def _preview(avatar: Avatar, text: str) -> dict:
    """The final text a typed prompt would become, or why it would be refused."""
    if not text.strip():
        return {"text": "", "final": "", "error": ""}
    try:
        built = prompting.build_custom_prompt(text, subject_class=avatar.subject_class)
    except ApplicationError as exc:
        return {"text": text, "final": "", "error": exc.message}
    final = prompting.custom_prompt_final_text(
        built.template,
        subject_class=avatar.subject_class,
        token=prompting.token_for_branch(settings.ASTRIA_BRANCH),
    )
    return {"text": text, "final": final, "error": ""}


def _current_tag(request: HtmxRequest) -> str:
    """The tag filter the page shows: posted with the form, or in the URL htmx last pushed."""
    if tag := request.POST.get("tag", ""):
        return tag
    current_url = request.htmx.current_url if request.htmx else None
    return parse_qs(urlsplit(current_url).query).get("tag", [""])[0] if current_url else ""


def _draft_or_redirect(request: HtmxRequest, avatar: Avatar) -> HttpResponse | None:
    if avatar.is_draft:
        return None
    messages.info(request, "This avatar has been submitted, so its styles can no longer change.")
    return redirect("avatars:detail", avatar_id=avatar.pk)


@login_required
@require_GET
def styles(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    avatar = get_object_or_404(avatar_list_for_user(user=request.user), pk=avatar_id)
    if response := _draft_or_redirect(request, avatar):
        return response
    context = _styles_context(avatar, tag=request.GET.get("tag", ""), q=request.GET.get("q", "")[:100])
    # The tag filter is the page's only targeted GET; everything else is a full page.
    return render(request, f"{PAGE}#theme-picker" if wants_fragment(request) else PAGE, context)


def _theme_change(request: HtmxRequest, avatar_id: uuid.UUID, slug: str, change: Callable[..., object]) -> HttpResponse:
    """Choose or remove a theme, then show the picker (or come back to it) with any refusal."""
    avatar = get_object_or_404(avatar_list_for_user(user=request.user), pk=avatar_id)
    error = ""
    try:
        change(avatar=avatar, theme_slug=slug)
    except ApplicationError as exc:
        error = exc.message
    tag = _current_tag(request)
    if wants_fragment(request):
        context = _styles_context(avatar, tag=tag, picker_error=error)
        return render(request, f"{PAGE}#after-theme-change", context, status=422 if error else 200)
    if error:
        messages.error(request, error)
    return redirect(_styles_url(avatar, tag=tag, anchor=f"theme-{slug}"))


@login_required
@require_POST
def theme_choose(request: HtmxRequest, avatar_id: uuid.UUID, slug: str) -> HttpResponse:
    return _theme_change(request, avatar_id, slug, services.theme_choose)


@login_required
@require_POST
def theme_remove(request: HtmxRequest, avatar_id: uuid.UUID, slug: str) -> HttpResponse:
    return _theme_change(request, avatar_id, slug, services.theme_remove)


@login_required
@require_POST
def custom_prompt_add(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    """Add a typed prompt, or a library idea ("use this")."""
    avatar = get_object_or_404(avatar_list_for_user(user=request.user), pk=avatar_id)
    form = _custom_form(avatar, request.POST)
    error = ""
    if form.is_valid():
        try:
            services.custom_prompt_add(
                avatar=avatar, text=form.cleaned_data["text"], idea_id=form.cleaned_data["idea"]
            )
        except ApplicationError as exc:
            error = exc.message
    if not form.errors and not error:
        if wants_fragment(request):
            return render(
                request, f"{PAGE}#after-custom-change", _styles_context(avatar, tag=_current_tag(request))
            )
        return redirect(_styles_url(avatar, anchor="custom"))
    if form.is_valid() and form.cleaned_data["idea"]:
        # A library idea was refused: say why above a fresh form.
        if not wants_fragment(request):
            messages.error(request, error)
            return redirect(_styles_url(avatar, anchor="custom"))
        context = _styles_context(avatar, custom_error=error)
    else:
        # Nothing is lost: the form comes back with the text and the reason beside it.
        if error:
            form.add_error("text", error)
        context = _styles_context(avatar, form=form)
    template = f"{PAGE}#custom-prompts" if wants_fragment(request) else PAGE
    return render(request, template, context, status=422)


@login_required
@require_POST
def custom_prompt_remove(request: HtmxRequest, avatar_id: uuid.UUID, prompt_id: int) -> HttpResponse:
    avatar = get_object_or_404(avatar_list_for_user(user=request.user), pk=avatar_id)
    try:
        services.custom_prompt_remove(avatar=avatar, custom_prompt_id=prompt_id)
    except ApplicationError as exc:
        if not wants_fragment(request):
            messages.error(request, exc.message)
    if wants_fragment(request):
        return render(
            request, f"{PAGE}#after-custom-change", _styles_context(avatar, tag=_current_tag(request))
        )
    return redirect(_styles_url(avatar, anchor="custom"))


@login_required
@require_GET
def custom_prompt_preview(request: HtmxRequest, avatar_id: uuid.UUID) -> HttpResponse:
    """What a typed prompt will become. htmx gets the preview box; a plain GET the whole page."""
    avatar = get_object_or_404(avatar_list_for_user(user=request.user), pk=avatar_id)
    text = request.GET.get("text", "")[: settings.THEMES_CUSTOM_PROMPT_MAX_CHARS * 2]
    if wants_fragment(request):
        return render(
            request, f"{PAGE}#custom-preview", {"preview": _preview(avatar, text), "avatar": avatar}
        )
    if response := _draft_or_redirect(request, avatar):
        return response
    form = _custom_form(avatar, initial={"text": text})
    return render(request, PAGE, _styles_context(avatar, form=form, preview=_preview(avatar, text)))


@login_required
@require_GET
def prompt_search(request: HtmxRequest) -> HttpResponse:
    """The prompt library. With ``avatar`` (a draft of the user's), results can be used for it."""
    form = LibrarySearchForm(request.GET)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    avatar = None
    if avatar_param := request.GET.get("avatar"):
        try:
            avatar = get_object_or_404(avatar_list_for_user(user=request.user), pk=uuid.UUID(avatar_param))
        except ValueError:
            raise Http404("No such avatar.") from None
    ideas = selectors.prompt_idea_search(
        query=q, subject_class=avatar.subject_class if avatar else None, limit=6 if avatar else 24
    )
    context = {
        "ideas": ideas,
        "q": q,
        "avatar": avatar,
        "search_form": form,
        # The styles page swaps these results in and handles "use this" in place.
        "on_styles_page": wants_fragment(request) and request.GET.get("from") == "styles",
    }
    return render(request, f"{LIBRARY}#library-results" if wants_fragment(request) else LIBRARY, context)
