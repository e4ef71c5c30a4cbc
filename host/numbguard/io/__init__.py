"""Reading and writing pad-pressure data: the CSV interchange format and imports of other formats.

Every reader yields `PressureChunk`s per foot, in time order, so a file of any length streams
through the analysis in bounded memory.
"""
