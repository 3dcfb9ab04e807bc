from django.urls import path

from studio.credits import views, webhooks

app_name = "credits"

urlpatterns = [
    path("credits/", views.credit_history, name="history"),
    path("credits/buy/", views.credit_buy, name="buy"),
    path("credits/checkout/<uuid:purchase_id>/", views.purchase_checkout, name="checkout"),
    path("credits/purchases/<uuid:purchase_id>/", views.purchase_detail, name="purchase"),
    path("credits/purchases/<uuid:purchase_id>/cancelled/", views.purchase_cancelled, name="purchase_cancelled"),
    path("stripe/webhook/", webhooks.stripe_webhook, name="stripe_webhook"),
]
