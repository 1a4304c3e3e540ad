"""extractor on Ray Data (the ``ray`` extra): ``from extractor.ray import extract_dataset``.

See the README's "Running on a cluster"; ``extractor batch --engine ray`` is the same pipeline
behind the command line.
"""

try:
    from .jobs.ray_dataset import extract_dataset
    from .jobs.ray_worker import NOT_STARTED, RESULT_COLUMNS
except ModuleNotFoundError as exc:  # pragma: no cover - depends on what is installed
    if exc.name != "ray" and not (exc.name or "").startswith("ray."):
        raise
    raise ImportError("extractor.ray needs Ray: pip install 'extractor[ray]'") from exc

__all__ = ["NOT_STARTED", "RESULT_COLUMNS", "extract_dataset"]
