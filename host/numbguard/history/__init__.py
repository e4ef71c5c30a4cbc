"""A runner's sessions over time: tags, the session index, and comparisons of two sides.

Modules: `tags` (recorded and sidecar tags), `steps` (a session's per-step numbers), `index`
(the sqlite index), `compare` (the block bootstrap), `sides` (what A and B are), `page` (the
comparison's HTML, matplotlib), `paths` (where sessions and the index live). Nothing is
imported here, so that listing sessions never loads matplotlib.
"""
