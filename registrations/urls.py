
app_name = "registrations"

urlpatterns: list = []
