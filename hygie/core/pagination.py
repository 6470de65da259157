from rest_framework.pagination import LimitOffsetPagination


class HygiePagination(LimitOffsetPagination):
    """Limit/offset pages of 100 by default and 1,000 at most, so one call cannot dump a table."""

    default_limit = 100
    max_limit = 1000
