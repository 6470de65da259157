"""Routes of the access app's enforce area."""

urlpatterns = []
