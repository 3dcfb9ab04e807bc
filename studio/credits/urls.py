from django.urls import path

from studio.credits import views

app_name = "credits"

# Mounted at credits/. Stripe's webhook is in studio/urls.py, with the other providers' endpoints.
urlpatterns = [
    path("", views.credit_history, name="history"),
    path("buy/", views.credit_buy, name="buy"),
    path("checkout/<uuid:purchase_id>/", views.purchase_checkout, name="checkout"),
    path("purchases/<uuid:purchase_id>/", views.purchase_detail, name="purchase"),
    path("purchases/<uuid:purchase_id>/cancelled/", views.purchase_cancelled, name="purchase_cancelled"),
]
