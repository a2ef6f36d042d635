"""The Python side of @metaxy/ray-bridge: runs a user's function over a batch as Ray tasks."""

from .runner import load_function, run_batch, split

__all__ = ["load_function", "run_batch", "split"]
