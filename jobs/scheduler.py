"""The scheduler builder. Filled in by the scheduler work; until then nothing runs."""


def start_in_process(app):
    """Start the scheduler inside this process; returns True when one was started."""
    return False
