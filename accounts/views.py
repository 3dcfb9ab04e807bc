from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import services
from accounts.forms import SIGNUP_EMAIL, SIGNUP_USER, DeleteAccountForm
from studio.credits.selectors import credit_balance, purchase_list_for_user
from studio.teams.selectors import organisations_left_without_owner


@require_POST
def confirmation_resend(request: HttpRequest) -> HttpResponse:
    """"Send it again" on the check-your-inbox page, for the address this browser signed up with.
    The same answer whether or not that address had an account already; allauth's own limit of
    confirmation emails per address holds."""
    email = request.session.get(SIGNUP_EMAIL, "")
    if not email:
        return redirect("account_signup")
    # Sent: allauth says "Confirmation email sent to ...", as at sign-up.
    if not services.signup_confirmation_resend(request, email=email, user_id=request.session.get(SIGNUP_USER)):
        messages.info(
            request,
            f"We sent a link to {email} a moment ago, so we wait a few minutes before sending another. "
            "Look in your spam folder meanwhile.",
        )
    return redirect("account_email_verification_sent")


@login_required
@require_GET
def account(request: HttpRequest) -> HttpResponse:
    context = {
        "balance": credit_balance(user=request.user),
        "purchases": purchase_list_for_user(user=request.user)[:5],
        "avatar_count": request.user.avatars.count(),
        "draft_retention_days": settings.DRAFT_RETENTION_DAYS,
        "photos_retention_days": settings.PHOTOS_RETENTION_DAYS,
    }
    return render(request, "accounts/account.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    form = DeleteAccountForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.user_delete(user=request.user)
        logout(request)
        messages.success(request, "Your account and all your photos and images were deleted. Goodbye!")
        return redirect("landing")
    context = {
        "form": form,
        "avatar_count": request.user.avatars.count(),
        "balance": credit_balance(user=request.user),
        "ownerless": organisations_left_without_owner(user=request.user),
    }
    return render(request, "accounts/delete.html", context, status=422 if form.is_bound else 200)
