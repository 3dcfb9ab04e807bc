from django.urls import path

from studio.support import views

app_name = "support"

# Mounted at the site's root: short addresses for the footer, sign-up and emails.
urlpatterns = [
    path("privacy/", views.privacy, name="privacy"),
    path("terms/", views.terms, name="terms"),
    path("faq/", views.faq, name="faq"),
    path("support/", views.contact, name="contact"),
    path("support/sent/", views.contact_sent, name="contact_sent"),
]
