"""Routes of the posture app's asset area."""

urlpatterns = []
