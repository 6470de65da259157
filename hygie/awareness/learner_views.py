"""Pages a learner reaches from a personal link (no account). Being built (issue 5)."""

from django.http import Http404


def open_link(request, token: str):
    raise Http404
