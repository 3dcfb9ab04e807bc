"""What keeps an admin list fast on a table of millions of rows.

- `EstimatedCountPaginator` never counts a whole large table: it counts at most EXACT_COUNT_UP_TO
  rows, and past that (on PostgreSQL) takes the query planner's estimate, so "1,234,000 results"
  may be off by a little while the page still opens at once.
- `IndexedSearchAdmin` searches only where an index answers: an address with "@" finds its
  owner's rows (the whole address, any case), a number or a UUID the rows with that id, anything
  else a part of the text fields (served by trigram indexes on PostgreSQL). Every term of the
  search must match, as in Django's own search.
"""

import json
import operator
import uuid
from functools import cached_property, reduce

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q, QuerySet

EXACT_COUNT_UP_TO = 10_000


def planner_estimate(queryset: QuerySet) -> int:
    """How many rows PostgreSQL's planner expects the queryset to return (no rows are read)."""
    sql, params = queryset.order_by().query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet) or connections[rows.db].vendor != "postgresql":
            return super().count
        bounded = rows.order_by()[: EXACT_COUNT_UP_TO + 1].count()
        if bounded <= EXACT_COUNT_UP_TO:
            return bounded
        return max(bounded, planner_estimate(rows))


class IndexedSearchAdmin(admin.ModelAdmin):
    """A model admin whose lists never count or search a whole large table.

    Set `email_field` (e.g. "user__email"), `id_fields` (numbers or UUIDs matched exactly) and
    `text_fields` (matched by a part of their text); `search_fields` is derived from them, so
    the search box shows."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    email_field: str = ""
    id_fields: tuple[str, ...] = ()
    text_fields: tuple[str, ...] = ()

    def get_search_fields(self, request) -> list[str]:
        return [self.email_field, *self.id_fields, *self.text_fields] if self.has_search else []

    @property
    def has_search(self) -> bool:
        return bool(self.email_field or self.id_fields or self.text_fields)

    def term_filter(self, term: str) -> Q:
        """What one search term matches: nothing at all when no field can hold it."""
        if "@" in term and self.email_field:
            return Q(**{f"{self.email_field}__iexact": term})
        ids = []
        for name in self.id_fields:
            field = self.model._meta.get_field(name)
            value = _id_value((field.target_field if field.is_relation else field).get_internal_type(), term)
            if value is not None:
                ids.append(Q(**{name: value}))
        texts = [] if ids and term.isdigit() else [Q(**{f"{name}__icontains": term}) for name in self.text_fields]
        return reduce(operator.or_, ids + texts, Q(pk__in=[]))

    def get_search_results(self, request, queryset: QuerySet, search_term: str) -> tuple[QuerySet, bool]:
        for term in search_term.split():
            queryset = queryset.filter(self.term_filter(term))
        return queryset, False


def _id_value(internal_type: str, term: str) -> int | uuid.UUID | None:
    if internal_type == "UUIDField":
        try:
            return uuid.UUID(term)
        except ValueError:
            return None
    if internal_type in ("AutoField", "BigAutoField", "IntegerField", "BigIntegerField", "PositiveIntegerField"):
        return int(term) if term.isdigit() and len(term) < 19 else None
    return None
