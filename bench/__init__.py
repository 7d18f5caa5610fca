"""Benchmarks of the bot: HTTP load generator, runner against the SDK's echo bot, profiler.

Not part of the test suite. See ``docs/benchmark.md``.
"""
