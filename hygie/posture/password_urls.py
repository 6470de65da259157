"""Routes of the posture app's password area."""

urlpatterns = []
