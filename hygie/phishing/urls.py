app_name = "phishing"

urlpatterns: list = []
