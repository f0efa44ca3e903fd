"""Small helpers shared by the SDK tests."""
import time
import uuid


def uniq(prefix):
    """A unique name, so reused servers never mix runs."""
    return f"{prefix}-{int(time.time() * 1000):x}-{uuid.uuid4().hex[:6]}"


def is_root_row(r):
    return not r.get("span_parents")


def approx(actual, expected, eps=1e-9):
    return isinstance(actual, (int, float)) and abs(actual - expected) <= eps
