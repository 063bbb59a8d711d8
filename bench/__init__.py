"""The benchmark: the serving bot beside a bare asyncio echo baseline, as ratios (``python -m bench``).

Every figure is measured against a baseline run in the same command, because the
machines this runs on are shared and noisy: a ratio survives a busy neighbour
far better than an absolute number does.
"""
