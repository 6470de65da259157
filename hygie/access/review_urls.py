"""Routes of the access app's review area."""

urlpatterns = []
