"""Routes of the posture app's exposure area."""

urlpatterns = []
