"""Routes of the access app's policy area."""

urlpatterns = []
