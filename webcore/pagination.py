"""Pagination of Peewee queries for list pages (every list that can grow is paginated)."""
import math

from flask import request


class Page:
    def __init__(self, query, per_page=50, page=None, count_query=None):
        """``count_query`` counts the same rows more cheaply (no joins or ordering)."""
        self.per_page = per_page
        self.page = max(1, page if page is not None else request.args.get("page", 1, type=int))
        self.items = list(query.paginate(self.page, per_page))
        self.total = (query if count_query is None else count_query).count()
        self.pages = max(1, math.ceil(self.total / per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages
