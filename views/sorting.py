"""Sorting a paged list by its columns, from the address: ``?sort=age`` or ``?sort=-age``.

Each list names the columns it may be sorted by (a whitelist of SQL expressions); anything
else in ``sort`` falls back quietly to the list's default. The column headers link to the
same address with the sort changed (``Sort.link``) and say how the list is sorted
(``Sort.aria``, for ``aria-sort``); the pager and the filter form keep ``Sort.value``.
"""
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    """``expressions``: what to order by (most significant first); ``descending_first``:
    the direction of the first click (newest or oldest, largest first)."""

    expressions: tuple
    descending_first: bool = False


def column(*expressions, descending_first=False):
    return Column(tuple(expressions), descending_first)


@dataclass
class Sort:
    key: str
    descending: bool
    columns: dict
    default: str
    make_url: object  # make_url(sort_value) -> the list's address sorted so, on page 1
    tiebreak: tuple = field(default_factory=tuple)

    @classmethod
    def from_args(cls, args, columns, default, make_url, tiebreak=(), param="sort"):
        """``default`` as a sort value ('-raised'); a ``sort`` not in ``columns`` is ignored."""
        wanted = (args.get(param) or "").strip()
        key = wanted.lstrip("-")
        if key not in columns:
            wanted = default
            key = default.lstrip("-")
        return cls(key, wanted.startswith("-"), columns, default, make_url, tuple(tiebreak))

    @property
    def value(self):
        return ("-" if self.descending else "") + self.key

    @property
    def is_default(self):
        return self.value == self.default

    def order_by(self):
        """The ORDER BY clauses: the chosen column in its direction, then the tiebreak."""
        clauses = [e.desc() if self.descending else e.asc()
                   for e in self.columns[self.key].expressions]
        return [*clauses, *self.tiebreak]

    def link(self, key):
        """The address sorted by ``key``: the other way round when it is the current column."""
        if key == self.key:
            return self.make_url(("" if self.descending else "-") + key)
        return self.make_url(("-" if self.columns[key].descending_first else "") + key)

    def aria(self, key):
        if key != self.key:
            return None
        return "descending" if self.descending else "ascending"
