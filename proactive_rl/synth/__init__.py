"""ProactiveBench-Synth: a procedurally drawn, offline stand-in for ProactiveBench in its official formats.

``make_data(cfg, out_dir)`` writes a test folder the official environments can run, train episodes in
the same format, and a train split in the HF train schema; ``contact_sheet(root, out_png)`` draws the
first, a middle and the reference frame of a few episodes per scenario for a quick look.
"""

from proactive_rl.synth.generator import make_data

__all__ = ["make_data"]
