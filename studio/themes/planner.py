"""The fair-use planner: which prompts an avatar sends to Astria, how many images, what it costs.

Astria's fair use allows about 14 prompts per fine-tune with up to 8 images each, half of them
for curated prompts (our themes) and half for prompts users write. The limits and prices come
from settings; the planner never drops or trims anything silently, it explains in ``errors`` why
a plan cannot be confirmed.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.db.models import Count, Q

from studio.avatars.models import Avatar
from studio.teams.selectors import TeamStyle, team_style_for_avatar
from studio.themes import prompting
from studio.themes.exceptions import PromptRejected
from studio.themes.models import ChosenTheme, CustomPrompt, Theme


@dataclass(frozen=True)
class PlannedPrompt:
    """One prompt to create at Astria. ``text`` is final (token and class in place); pass it
    through ``prompting.astria_prompt_text`` when submitting, for LoRA branches."""

    key: str  # stable within an avatar: "theme:<slug>" or "custom:<id>" ("custom:new:<n>" if unsaved)
    label: str  # a short caption for the gallery
    text: str
    negative_prompt: str
    num_images: int
    cfg_scale: float | None = None
    steps: int | None = None
    width: int | None = None
    height: int | None = None
    theme: Theme | None = None
    custom_prompt: CustomPrompt | None = None

    @property
    def is_theme(self) -> bool:
        return self.key.startswith("theme:")


@dataclass(frozen=True)
class Plan:
    prompts: list[PlannedPrompt]
    theme_count: int
    custom_count: int
    images: int
    credit_cost: int
    prompts_remaining: int  # of FAIR_USE_MAX_PROMPTS, after the already used ones and this plan
    errors: list[str] = field(default_factory=list)
    prompts_already_used: int = 0

    @property
    def prompt_count(self) -> int:
        return len(self.prompts)

    @property
    def is_valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Meter:
    """What the selection panel shows beside a plan: prompts so far (the avatar's and this plan's)
    against the limits, and what the customer can do next."""

    count: int
    max: int
    themes: int
    themes_max: int
    custom: int
    custom_max: int
    used: int
    note: str
    continue_url: str = ""
    submit_form: str = ""  # the form a "Generate" button submits, where the panel orders itself
    short_of_credits: int = 0
    buy_url: str = ""

    @classmethod
    def for_plan(
        cls, plan: Plan, *, note: str, themes_used: int = 0, custom_used: int = 0, **actions
    ) -> "Meter":
        return cls(
            count=plan.prompts_already_used + plan.prompt_count,
            max=settings.FAIR_USE_MAX_PROMPTS,
            themes=themes_used + plan.theme_count,
            themes_max=settings.FAIR_USE_MAX_THEME_PROMPTS,
            custom=custom_used + plan.custom_count,
            custom_max=settings.FAIR_USE_MAX_CUSTOM_PROMPTS,
            used=plan.prompts_already_used,
            note=note,
            **actions,
        )


@dataclass(frozen=True)
class FairUseLeft:
    """What an avatar may still order: curated styles, prompts of one's own, and prompts in all."""

    themes: int
    custom: int
    total: int


def prompts_used(*, avatar: Avatar) -> tuple[int, int]:
    """The avatar's prompts so far, whatever their state: (curated styles, prompts of one's own)."""
    counts = avatar.prompts.aggregate(themes=Count("pk", filter=~Q(theme_slug="")), total=Count("pk"))
    return counts["themes"], counts["total"] - counts["themes"]


def fair_use_left(*, avatar: Avatar) -> FairUseLeft:
    themes, custom = prompts_used(avatar=avatar)
    total = max(0, settings.FAIR_USE_MAX_PROMPTS - themes - custom)
    return FairUseLeft(
        themes=min(total, max(0, settings.FAIR_USE_MAX_THEME_PROMPTS - themes)),
        custom=min(total, max(0, settings.FAIR_USE_MAX_CUSTOM_PROMPTS - custom)),
        total=total,
    )


def images_per_prompt() -> int:
    """IMAGES_PER_PROMPT, kept within Astria's 1 to 8."""
    return min(8, max(1, settings.IMAGES_PER_PROMPT))


def fair_use_errors(
    *,
    theme_count: int,
    custom_count: int,
    prompts_already_used: int = 0,
    themes_already_used: int = 0,
    custom_already_used: int = 0,
) -> list[str]:
    """What is over the limits, in plain words; empty when the counts are allowed. The limits hold
    for the avatar as a whole: ``*_already_used`` are the prompts it has had so far."""
    errors = []
    max_themes, max_custom = settings.FAIR_USE_MAX_THEME_PROMPTS, settings.FAIR_USE_MAX_CUSTOM_PROMPTS
    themes_left = max(0, max_themes - themes_already_used)
    custom_left = max(0, max_custom - custom_already_used)
    left = max(0, settings.FAIR_USE_MAX_PROMPTS - prompts_already_used)
    if theme_count > themes_left:
        if themes_already_used:
            errors.append(
                f"This avatar has {themes_left} of its {max_themes} styles left; choose at most {themes_left}."
            )
        else:
            errors.append(f"You can choose up to {max_themes} styles. Remove one to choose another.")
    if custom_count > custom_left:
        if custom_already_used:
            errors.append(
                f"This avatar has {custom_left} of its {max_custom} prompts of your own left; "
                f"write at most {custom_left}."
            )
        else:
            errors.append(f"You can add up to {max_custom} prompts of your own. Remove one to add another.")
    if theme_count + custom_count > left:
        if prompts_already_used:
            errors.append(
                f"This avatar has {left} of its {settings.FAIR_USE_MAX_PROMPTS} styles left; "
                f"choose at most {left}."
            )
        else:
            errors.append(
                f"An avatar can have up to {settings.FAIR_USE_MAX_PROMPTS} prompts in all. "
                "Remove one to add another."
            )
    return errors


def room_left(*, theme_count: int, custom_count: int) -> tuple[bool, bool]:
    """Whether one more theme, and one more prompt of the user's own, would stay within the limits."""
    return (
        not fair_use_errors(theme_count=theme_count + 1, custom_count=custom_count),
        not fair_use_errors(theme_count=theme_count, custom_count=custom_count + 1),
    )


def credit_cost(*, prompt_count: int, prompts_already_used: int = 0) -> int:
    """The tune's price for a new avatar (nothing for "generate more") plus one price per prompt."""
    tune = settings.CREDITS_PRICE_TUNE if prompts_already_used == 0 else 0
    return tune + settings.CREDITS_PRICE_PROMPT * prompt_count


def _sampler(value, branch: str):
    return None if branch in settings.THEMES_BRANCHES_WITHOUT_SAMPLER_SETTINGS else value


def theme_prompt(theme: Theme, *, subject_class: str, branch: str, token: str) -> PlannedPrompt:
    width, height = (
        prompting.dimensions(theme.aspect_ratio, branch=branch) if theme.aspect_ratio else (None, None)
    )
    return PlannedPrompt(
        key=f"theme:{theme.slug}",
        label=theme.title,
        text=prompting.expand(theme.prompt, subject_class=subject_class, token=token),
        negative_prompt=prompting.negative_prompt(theme.negative_prompt),
        num_images=images_per_prompt(),
        cfg_scale=_sampler(theme.cfg_scale, branch),
        steps=_sampler(theme.steps, branch),
        width=width,
        height=height,
        theme=theme,
    )


def custom_prompt(
    *,
    template: str,
    cleaned: str,
    subject_class: str,
    token: str,
    key: str,
    custom: CustomPrompt | None = None,
) -> PlannedPrompt:
    return PlannedPrompt(
        key=key,
        label=prompting.short_label(cleaned),
        text=prompting.custom_prompt_final_text(template, subject_class=subject_class, token=token),
        negative_prompt=prompting.negative_prompt(),
        num_images=images_per_prompt(),
        custom_prompt=custom,
    )


def _plan(
    *,
    themes: list[PlannedPrompt],
    customs: list[PlannedPrompt],
    errors: list[str],
    prompts_already_used: int,
    themes_already_used: int = 0,
    custom_already_used: int = 0,
) -> Plan:
    prompts = themes + customs
    errors = list(errors)
    if not prompts and not errors:
        errors.append("Choose at least one style or write a prompt of your own.")
    errors += fair_use_errors(
        theme_count=len(themes),
        custom_count=len(customs),
        prompts_already_used=prompts_already_used,
        themes_already_used=themes_already_used,
        custom_already_used=custom_already_used,
    )
    return Plan(
        prompts=prompts,
        theme_count=len(themes),
        custom_count=len(customs),
        images=sum(prompt.num_images for prompt in prompts),
        credit_cost=credit_cost(prompt_count=len(prompts), prompts_already_used=prompts_already_used),
        prompts_remaining=max(0, settings.FAIR_USE_MAX_PROMPTS - prompts_already_used - len(prompts)),
        errors=errors,
        prompts_already_used=prompts_already_used,
    )


def plan_for_avatar(
    *, avatar: Avatar, prompts_already_used: int = 0, branch: str | None = None, token: str | None = None
) -> Plan:
    """The plan for the themes and prompts chosen on the avatar's styles page.

    ``branch`` and ``token`` default to the configured ones; pass the tune's own when it was
    trained on another branch. A chosen theme that staff hid since is left out, with an error.
    """
    branch = branch or settings.ASTRIA_BRANCH
    token = token or prompting.token_for_branch(branch)
    errors: list[str] = []
    themes: list[PlannedPrompt] = []
    for chosen in ChosenTheme.objects.filter(avatar=avatar).select_related("theme"):
        theme = chosen.theme
        if not theme.is_active or not theme.suits(avatar.subject_class):
            errors.append(f"“{theme.title}” is no longer offered. Remove it to continue.")
            continue
        themes.append(theme_prompt(theme, subject_class=avatar.subject_class, branch=branch, token=token))
    customs = [
        custom_prompt(
            template=custom.template,
            cleaned=custom.cleaned,
            subject_class=avatar.subject_class,
            token=token,
            key=f"custom:{custom.pk}",
            custom=custom,
        )
        for custom in CustomPrompt.objects.filter(avatar=avatar)
    ]
    if team := team_style_for_avatar(avatar=avatar):
        themes, customs = _team_rules(team, themes=themes, customs=customs, errors=errors)
    return _plan(themes=themes, customs=customs, errors=errors, prompts_already_used=prompts_already_used)


def _team_rules(
    team: TeamStyle, *, themes: list[PlannedPrompt], customs: list[PlannedPrompt], errors: list[str]
) -> tuple[list[PlannedPrompt], list[PlannedPrompt]]:
    """An organisation's order: only its styles, at most as many as it pays for, each with its
    house style (background, clothing) added; prompts of one's own are not part of it."""
    for planned in themes:
        if planned.theme.slug not in team.theme_slugs:
            errors.append(f"“{planned.label}” is not one of {team.organisation}'s styles. Remove it to continue.")
    for planned in customs:
        errors.append(f"{team.organisation}'s portraits use only its styles: remove “{planned.label}”.")
    if len(themes) > team.styles:
        errors.append(
            f"{team.organisation} pays for {team.styles} style{'' if team.styles == 1 else 's'}: "
            f"remove {len(themes) - team.styles} to continue."
        )
    if team.house_style:
        themes = [replace(planned, text=f"{planned.text}, {team.house_style}") for planned in themes]
    return themes, customs


def plan_more(
    *,
    avatar: Avatar,
    theme_slugs: Iterable[str],
    custom_texts: Iterable[str],
    prompts_already_used: int | None = None,
    branch: str | None = None,
    token: str | None = None,
) -> Plan:
    """A plan for "generate more" on a trained avatar: new themes by slug and new prompt texts.

    The fair-use limits hold for the avatar as a whole: only what is left of them after the
    avatar's prompts so far (curated styles and prompts of one's own counted apart) can be
    planned; ``prompts_already_used`` defaults to how many prompts it has. The tune is not charged
    again. Texts go through the same cleaning and checks as on the styles page; anything refused
    is explained in ``errors``.
    """
    themes_already_used, custom_already_used = prompts_used(avatar=avatar)
    if prompts_already_used is None:
        prompts_already_used = themes_already_used + custom_already_used
    branch = branch or settings.ASTRIA_BRANCH
    token = token or prompting.token_for_branch(branch)
    errors: list[str] = []
    slugs = list(dict.fromkeys(theme_slugs))
    by_slug = {theme.slug: theme for theme in Theme.objects.filter(slug__in=slugs, is_active=True)}
    themes = []
    for slug in slugs:
        theme = by_slug.get(slug)
        if theme is None or not theme.suits(avatar.subject_class):
            errors.append(f"The style “{slug}” is not available for this avatar.")
            continue
        themes.append(theme_prompt(theme, subject_class=avatar.subject_class, branch=branch, token=token))
    customs = []
    for index, text in enumerate(custom_texts):
        try:
            built = prompting.build_custom_prompt(text, subject_class=avatar.subject_class)
        except PromptRejected as exc:
            errors.append(f"“{prompting.short_label(prompting.clean_text(text))}”: {exc.message}")
            continue
        customs.append(
            custom_prompt(
                template=built.template,
                cleaned=built.cleaned,
                subject_class=avatar.subject_class,
                token=token,
                key=f"custom:new:{index}",
            )
        )
    return _plan(
        themes=themes,
        customs=customs,
        errors=errors,
        prompts_already_used=prompts_already_used,
        themes_already_used=themes_already_used,
        custom_already_used=custom_already_used,
    )
