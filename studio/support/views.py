from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from studio.core.ratelimit import rate_limit
from studio.support import policy, services
from studio.support.forms import SupportRequestForm


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "support/privacy.html", policy.page_context())


@require_safe
def terms(request: HttpRequest) -> HttpResponse:
    return render(request, "support/terms.html", policy.page_context())


@require_safe
def faq(request: HttpRequest) -> HttpResponse:
    return render(request, "support/faq.html", policy.page_context())


@require_http_methods(["GET", "HEAD", "POST"])
@rate_limit("support")
def contact(request: HttpRequest) -> HttpResponse:
    """The contact form: its message goes to SUPPORT_EMAIL, with replies to the customer."""
    initial = {"email": request.user.email} if request.user.is_authenticated else {}
    form = SupportRequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.support_request_create(user=request.user, **form.cleaned_data)
        messages.success(request, "Thank you: your message is on its way to us. We answer by email.")
        return redirect("support:contact_sent")
    context = policy.page_context() | {"form": form}
    return render(request, "support/contact.html", context, status=422 if form.errors else 200)


@require_safe
def contact_sent(request: HttpRequest) -> HttpResponse:
    return render(request, "support/contact_sent.html", policy.page_context())
