"""Organisations' pages: a member's own page, joining by invitation, and the owners' and admins'
page (the pool, styles, invitations, the team's progress and favourites, the team zip, its name,
and, for the owner, who is an admin and who owns it)."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HTMX_STOP_POLLING

from studio.avatars.models import GeneratedImage
from studio.core.exceptions import ApplicationError
from studio.core.htmx import HtmxRequest, wants_fragment
from studio.core.media import private_file_response
from studio.core.ratelimit import failure_limit, rate_limit
from studio.credits import purchases
from studio.credits.exceptions import CheckoutUnavailable, PackNotOnSale
from studio.credits.forms import PackForm
from studio.credits.packs import credit_packs
from studio.credits.views import RETURN_TO
from studio.teams import exports, roles, selectors, services
from studio.teams.forms import InviteEmailForm, InviteLinkForm, OrganisationForm, StartForm, StylesForm
from studio.teams.models import Membership, Organisation, TeamExport
from studio.themes.models import Theme

THUMBNAIL_MAX_AGE = 300


def _manager_or_404(request: HtmxRequest, organisation_id: uuid.UUID) -> Organisation:
    try:
        return selectors.organisation_get_for_manager(user=request.user, organisation_id=organisation_id)
    except Organisation.DoesNotExist:
        raise Http404("No such organisation.") from None


def _membership_or_404(request: HtmxRequest, organisation_id: uuid.UUID) -> Membership:
    try:
        return selectors.membership_get_for_user(user=request.user, organisation_id=organisation_id)
    except Membership.DoesNotExist:
        raise Http404("No such organisation.") from None


def _back(organisation: Organisation, anchor: str = "") -> HttpResponse:
    return redirect(reverse("teams:manage", args=[organisation.pk]) + (f"#{anchor}" if anchor else ""))


# --- A member's pages ----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def team_list(request: HtmxRequest) -> HttpResponse:
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_create(user=request.user, name=form.cleaned_data["name"])
        except ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"{organisation.name} is ready: choose its styles and invite your team.")
            return redirect("teams:manage", organisation_id=organisation.pk)
    context = {"memberships": selectors.membership_list_for_user(user=request.user), "form": form}
    return render(request, "teams/list.html", context, status=422 if form.errors else 200)


def _next_step(avatar) -> tuple[str, str]:
    """Where the member's avatar goes next, and the button's words."""
    if avatar is None:
        return "", ""
    if not avatar.is_draft:
        return reverse("avatars:detail", args=[avatar.pk]), "Open your gallery"
    if not avatar.photos.exists():
        return reverse("photos:upload", args=[avatar.pk]), "Upload your photos"
    return reverse("photos:upload", args=[avatar.pk]), "Continue your portraits"


@login_required
@require_http_methods(["GET", "POST"])
def team_detail(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    """The member's page: what the organisation pays for, and their own portraits' next step."""
    membership = _membership_or_404(request, organisation_id)
    avatar = membership.avatar if membership.avatar and membership.avatar.user_id == request.user.pk else None
    form = StartForm(request.POST or None, initial={"name": request.user.email.split("@")[0].title()})
    if request.method == "POST" and form.is_valid():
        try:
            avatar = services.team_avatar_start(user=request.user, organisation_id=organisation_id, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect("photos:upload", avatar_id=avatar.pk)
    organisation = membership.organisation
    next_url, next_words = _next_step(avatar)
    context = {
        "organisation": organisation,
        "membership": membership,
        "avatar": avatar,
        "status": selectors.member_status(avatar) if avatar else selectors.Status.INVITED,
        "form": form,
        "next_url": next_url,
        "next_words": next_words,
        "styles": organisation.allowed_themes.filter(is_active=True),
    }
    return render(request, "teams/detail.html", context, status=422 if form.errors else 200)


@login_required
@require_POST
def team_leave(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    membership = _membership_or_404(request, organisation_id)
    try:
        services.member_remove(organisation=membership.organisation, membership_id=membership.pk, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("teams:detail", organisation_id=organisation_id)
    messages.success(request, f"You left {membership.organisation.name}. Your avatar stays yours.")
    return redirect("teams:list")


# --- Joining --------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@failure_limit("invite")
def team_join(request: HtmxRequest, invite_token: str) -> HttpResponse:
    """An invitation's page: who invites, what they pay for; log in or sign up, then one click."""
    invite = services.invite_find(token=invite_token)
    if invite is None:
        raise Http404("No such invitation.")
    organisation = invite.organisation
    context = {"invite": invite, "organisation": organisation, "join_url": request.path}
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect(f"{reverse('account_login')}?next={request.path}")
        return render(request, "teams/join.html", context)
    membership = organisation.memberships.filter(user=request.user, state=Membership.State.ACTIVE).first()
    if membership is not None:
        return redirect("teams:detail", organisation_id=organisation.pk)
    context["refusal"] = services.invite_refusal(invite=invite, user=request.user)
    if request.method == "POST" and not context["refusal"]:
        try:
            services.invite_accept(user=request.user, token=invite_token)
        except ApplicationError as exc:
            context["refusal"] = exc.message
        else:
            messages.success(request, f"Welcome to {organisation.name}.")
            return redirect("teams:detail", organisation_id=organisation.pk)
    return render(request, "teams/join.html", context, status=422 if request.method == "POST" else 200)


# --- The owners' and admins' page --------------------------------------------------------------------------


def _team_themes() -> list[Theme]:
    return [theme for theme in Theme.objects.filter(is_active=True) if services.theme_suits_team(theme)]


def _manage_context(request: HtmxRequest, organisation: Organisation, **forms) -> dict:
    links = [
        (invite, request.build_absolute_uri(reverse("teams:join", args=[services.invite_token(invite)])))
        for invite in selectors.invite_list_links(organisation=organisation)[:20]
    ]
    rows = selectors.member_rows(organisation=organisation)
    balance = selectors.pool_balance(organisation=organisation)
    allowed = list(organisation.allowed_themes.values_list("slug", flat=True))
    styles_form = forms.get("styles_form") or StylesForm(
        themes=_team_themes(),
        initial={
            "themes": allowed,
            "styles_per_member": organisation.styles_per_member,
            "house_background": organisation.house_background,
            "house_clothing": organisation.house_clothing,
        },
    )
    return {
        "organisation": organisation,
        "is_owner": organisation.memberships.filter(
            user=request.user, role=Membership.Role.OWNER, state=Membership.State.ACTIVE
        ).exists(),
        "balance": balance,
        "spent": selectors.pool_spent(organisation=organisation),
        "member_cost": selectors.member_cost(organisation=organisation),
        "rows": rows,
        "counts": {status: sum(1 for row in rows if row.status == status) for status in
                   ("invited", "uploading", "training", "done", "failed")},
        "waiting": sum(1 for row in rows if row.needs_reminder),
        "links": links,
        "email_form": forms.get("email_form") or InviteEmailForm(),
        "link_form": forms.get("link_form") or InviteLinkForm(),
        "styles_form": styles_form,
        "theme_list": _team_themes(),
        "selected_themes": styles_form.data.getlist("themes") if styles_form.is_bound else allowed,
        "covered": balance // selectors.member_cost(organisation=organisation),
        "packs": credit_packs(),
        "purchases_open": purchases.purchases_open(),
        "export": selectors.team_export_latest(organisation=organisation),
        "own_membership": organisation.memberships.filter(user=request.user).first(),
        "managers": selectors.manager_list(organisation=organisation),
        "name_form": forms.get("name_form") or OrganisationForm(initial={"name": organisation.name}),
    }


@login_required
@require_GET
def team_manage(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    organisation = _manager_or_404(request, organisation_id)
    return render(request, "teams/manage.html", _manage_context(request, organisation))


@login_required
@require_POST
def team_styles(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    organisation = _manager_or_404(request, organisation_id)
    form = StylesForm(request.POST, themes=_team_themes())
    if form.is_valid():
        try:
            services.organisation_set_styles(organisation=organisation, theme_slugs=form.cleaned_data["themes"],
                                             styles_per_member=form.cleaned_data["styles_per_member"],
                                             house_background=form.cleaned_data["house_background"],
                                             house_clothing=form.cleaned_data["house_clothing"])
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Saved: members choose among these styles.")
            return _back(organisation, "styles")
    context = _manage_context(request, organisation, styles_form=form)
    return render(request, "teams/manage.html", context, status=422)


@login_required
@require_POST
@rate_limit("invite")
def team_invite_email(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    organisation = _manager_or_404(request, organisation_id)
    form = InviteEmailForm(request.POST)
    if not form.is_valid():
        return render(request, "teams/manage.html", _manage_context(request, organisation, email_form=form), status=422)
    invites = services.invite_by_email(organisation=organisation, created_by=request.user,
                                       emails=form.cleaned_data["emails"])
    count = len(invites)
    messages.success(request, f"{count} invitation{'' if count == 1 else 's'} sent." if count
                     else "Everyone on that list is already invited or a member.")
    return _back(organisation, "members")


@login_required
@require_POST
@rate_limit("invite")
def team_invite_link(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    organisation = _manager_or_404(request, organisation_id)
    form = InviteLinkForm(request.POST)
    if form.is_valid():
        try:
            services.invite_link_create(organisation=organisation, created_by=request.user, **form.cleaned_data)
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "A new link is ready: copy it and share it with your team.")
            return _back(organisation, "links")
    return render(request, "teams/manage.html", _manage_context(request, organisation, link_form=form), status=422)


@login_required
@require_POST
def team_invite_revoke(request: HtmxRequest, organisation_id: uuid.UUID, invite_id: uuid.UUID) -> HttpResponse:
    organisation = _manager_or_404(request, organisation_id)
    if not organisation.invites.filter(pk=invite_id).exists():
        raise Http404("No such invitation.")
    services.invite_revoke(organisation=organisation, invite_id=invite_id)
    messages.success(request, "The invitation no longer works.")
    return _back(organisation, "links")


@login_required
@require_POST
def team_member_remove(request: HtmxRequest, organisation_id: uuid.UUID, membership_id: int) -> HttpResponse:
    organisation = _manager_or_404(request, organisation_id)
    membership = organisation.memberships.filter(pk=membership_id).select_related("user").first()
    if membership is None:
        raise Http404("No such member.")
    try:
        services.member_remove(organisation=organisation, membership_id=membership.pk, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{membership.user.email} is no longer a member. Their avatar stays theirs.")
    return _back(organisation, "members")


@login_required
@require_POST
def team_rename(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    organisation = _manager_or_404(request, organisation_id)
    form = OrganisationForm(request.POST)
    if form.is_valid():
        try:
            roles.organisation_rename(organisation=organisation, name=form.cleaned_data["name"], by=request.user)
        except ApplicationError as exc:
            form.add_error("name", exc.message)
        else:
            messages.success(request, f"The organisation is now called {organisation.name}.")
            return _back(organisation, "name")
    return render(request, "teams/manage.html", _manage_context(request, organisation, name_form=form), status=422)


def _owner_or_403(request: HtmxRequest, organisation_id: uuid.UUID, membership_id: int) -> tuple:
    """The organisation and one of its current people, for its owner: 404 to outsiders and for
    anyone not in it, 403 to its admins."""
    organisation = _manager_or_404(request, organisation_id)
    membership = organisation.memberships.filter(pk=membership_id, state=Membership.State.ACTIVE).first()
    if membership is None:
        raise Http404("No such member.")
    if not organisation.memberships.filter(
        user=request.user, role=Membership.Role.OWNER, state=Membership.State.ACTIVE
    ).exists():
        raise PermissionDenied("Only the organisation's owner can change who runs it.")
    return organisation, membership


@login_required
@require_POST
def team_member_role(request: HtmxRequest, organisation_id: uuid.UUID, membership_id: int) -> HttpResponse:
    """The owner makes a member an admin, or an admin a member."""
    organisation, membership = _owner_or_403(request, organisation_id, membership_id)
    role = request.POST.get("role", "")
    try:
        roles.membership_set_role(organisation=organisation, membership_id=membership.pk, role=role, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        words = "an admin: they can manage the team" if role == Membership.Role.ADMIN else "a member"
        messages.success(request, f"{membership.user.email} is {words}.")
    return _back(organisation, "admins" if role == Membership.Role.ADMIN else "members")


@login_required
@require_POST
def team_owner_transfer(request: HtmxRequest, organisation_id: uuid.UUID, membership_id: int) -> HttpResponse:
    """The owner hands ownership to an admin, and stays an admin."""
    organisation, membership = _owner_or_403(request, organisation_id, membership_id)
    try:
        roles.ownership_transfer(organisation=organisation, membership_id=membership.pk, by=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{membership.user.email} owns {organisation.name} now. You are an admin.")
    return _back(organisation, "admins")


@login_required
@require_POST
@rate_limit("invite")
def team_remind(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    organisation = _manager_or_404(request, organisation_id)
    count = services.members_remind(organisation=organisation)
    messages.success(request, f"Reminded {count} {'person' if count == 1 else 'people'}." if count else
                     "Nobody to remind right now: each person gets at most one reminder a day.")
    return _back(organisation, "members")


@login_required
@require_POST
@rate_limit("purchase")
def team_buy(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    """Credits for the organisation's pool, through the same checkout as anyone's credits."""
    organisation = _manager_or_404(request, organisation_id)
    form = PackForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["pack"][0])
        return _back(organisation, "pool")
    try:
        url = purchases.purchase_start(user=request.user, pack_slug=form.cleaned_data["pack"], pool=organisation.pool)
    except (PackNotOnSale, CheckoutUnavailable) as exc:
        messages.error(request, exc.message)
        return _back(organisation, "pool")
    request.session[RETURN_TO] = reverse("teams:manage", args=[organisation.pk])  # where the purchase page leads
    return redirect(url)


@login_required
@require_GET
def team_favourite(
    request: HtmxRequest, organisation_id: uuid.UUID, membership_id: int, image_id: uuid.UUID
) -> HttpResponse:
    """A member's favourite, for the admins: the thumbnail, or with ?download=1 the full image."""
    try:
        image = selectors.favourite_get_for_manager(
            user=request.user, organisation_id=organisation_id, membership_id=membership_id, image_id=image_id
        )
    except (Organisation.DoesNotExist, Membership.DoesNotExist, GeneratedImage.DoesNotExist):
        raise Http404("No such image.") from None
    if request.GET.get("download"):
        name = f"{image.avatar.name}-{image.prompt.label}-{image.index + 1}.jpg"
        return private_file_response(image.image.name, content_type="image/jpeg", download_name=name)
    return private_file_response(image.thumbnail.name, content_type="image/webp", max_age=THUMBNAIL_MAX_AGE)


@login_required
@require_POST
@rate_limit("export")
def team_export_create(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    organisation = _manager_or_404(request, organisation_id)
    try:
        export = exports.team_export_create(user=request.user, organisation=organisation)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(organisation, "download")
    return redirect("teams:export", organisation_id=organisation.pk, team_export_id=export.pk)


@login_required
@require_GET
def team_export(request: HtmxRequest, organisation_id: uuid.UUID, team_export_id: uuid.UUID) -> HttpResponse:
    try:
        export = selectors.team_export_get_for_manager(
            user=request.user, organisation_id=organisation_id, export_id=team_export_id
        )
    except (Organisation.DoesNotExist, TeamExport.DoesNotExist):
        raise Http404("No such download.") from None
    if request.GET.get("download") and export.state == TeamExport.State.READY:
        name = f"{export.organisation.name} team portraits.zip"
        return private_file_response(export.file.name, content_type="application/zip", download_name=name)
    context = {"organisation": export.organisation, "export": export}
    if wants_fragment(request):
        response = render(request, "teams/export.html#status", context)
        if export.state != TeamExport.State.BUILDING:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "teams/export.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def team_delete(request: HtmxRequest, organisation_id: uuid.UUID) -> HttpResponse:
    """The owner's delete, after a page that shows what is lost: the pool's remaining credits."""
    try:
        organisation = selectors.organisation_get_for_owner(user=request.user, organisation_id=organisation_id)
    except Organisation.DoesNotExist:
        raise Http404("No such organisation.") from None
    if request.method == "POST":
        services.organisation_delete(organisation=organisation, by=request.user)
        messages.success(request, f"{organisation.name} is deleted. Its members keep their avatars.")
        return redirect("teams:list")
    context = {
        "organisation": organisation,
        "balance": selectors.pool_balance(organisation=organisation),
        "members": organisation.memberships.filter(state=Membership.State.ACTIVE).count(),
    }
    return render(request, "teams/delete.html", context)

