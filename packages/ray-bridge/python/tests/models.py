"""User functions the runner's tests import by name."""


def upper(rows):
    return [{"id": r["id"], "name": r["name"].upper()} for r in rows]


def reversed_order(rows):
    return list(reversed(upper(rows)))


def not_dicts(rows):
    return [r["id"] for r in rows]


def empty(rows):
    return []
