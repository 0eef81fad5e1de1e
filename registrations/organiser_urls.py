
app_name = "organiser"

urlpatterns: list = []
