"""Benchmarks of Roadmap Tracker at 1,000, 10,000 and 100,000 milestones.

``make bench`` (``python -m bench.run``) generates the data (``bench.generate``), runs every
benchmark of the registry (``bench.benchmarks``) and the load test (``bench.load``), and
prints one ``name value unit`` line per figure. Nothing here is imported by the app.
"""
