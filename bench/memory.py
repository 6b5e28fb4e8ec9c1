"""Peak memory of one call, measured in a fresh process.

``peak_memory("module:function", *args)`` runs the function once in a spawned child (so
nothing the parent allocated counts) and reports its wall time and memory: the process's
resident set just before the call (/proc/self/statm), its peak resident set during it
(VmHWM, reset before the call through /proc/self/clear_refs; ``resource.getrusage`` where
that is not possible), and their difference (what the call itself added at its peak), and, with ``trace=True``, the peak of Python
allocations seen by ``tracemalloc`` (slower: the wall time of a traced run is not reported).
The export benchmarks use it as ``ctx.peak_memory("exports.roadmap:build", ...)``.
"""
import importlib
import multiprocessing
import resource
import time


def _maxrss_mb():
    # Linux reports ru_maxrss in KiB.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb():
    """The resident set now (Linux /proc; falls back to the peak so far elsewhere)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * resource.getpagesize() / 2**20
    except OSError:
        return _maxrss_mb()


def _status_mb(field):
    """A memory field of /proc/self/status (VmRSS, VmHWM) in MiB, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak():
    """Reset the peak resident set (VmHWM) to the current one, so the peak read after the
    call is the call's own and not the imports' (Linux: /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _resolve(target):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _child(target, args, kwargs, trace, queue):
    try:
        fn = _resolve(target)
        reset = _reset_peak()
        before = _rss_mb()
        if trace:
            import tracemalloc

            tracemalloc.start()
        started = time.perf_counter()
        fn(*args, **kwargs)
        wall = time.perf_counter() - started
        peak = _status_mb("VmHWM") if reset else None
        result = {"wall_s": wall, "rss_before_mb": before,
                  "peak_rss_mb": peak if peak is not None else _maxrss_mb()}
        if trace:
            result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        result["peak_delta_mb"] = result["peak_rss_mb"] - before
        queue.put(("ok", result))
    except BaseException as exc:  # report any failure to the parent rather than hang it
        queue.put(("error", f"{type(exc).__name__}: {exc}"))


def peak_memory(target, *args, trace=False, timeout=900, **kwargs):
    """Run ``target`` (``"module:function"``) once in a fresh process; returns a dict with
    ``wall_s``, ``rss_before_mb``, ``peak_rss_mb``, ``peak_delta_mb`` (and
    ``tracemalloc_peak_mb`` when ``trace``). Raises RuntimeError when the call fails."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(target, args, kwargs, trace, queue))
    process.start()
    try:
        status, payload = queue.get(timeout=timeout)
    finally:
        process.join(timeout=30)
        if process.is_alive():
            process.kill()
    if status != "ok":
        raise RuntimeError(f"{target} failed in the measuring process: {payload}")
    return payload
