app_name = "photos"

urlpatterns: list = []
