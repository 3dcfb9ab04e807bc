from django.urls import path

from accounts import views

app_name = "account"

urlpatterns = [
    path("", views.account, name="index"),
    path("delete/", views.account_delete, name="delete"),
    path("confirmation/resend/", views.confirmation_resend, name="confirmation_resend"),
]
