"""Routes of the posture app's ad area."""

urlpatterns = []
