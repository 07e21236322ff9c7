"""Reading inputs and writing outputs. Reading: ``loading`` is the front door (``read_source``,
``iter_row_chunks``), with a module per form behind it: ``text`` (text tables) and ``textchunks`` (text
tables streamed), ``npy``, ``npz``, ``parquet``; ``files`` opens paths, pipes and standard input, ``arrow``
turns Arrow columns into numpy, and ``source`` holds the ``Source`` they all give and the column rules they
share. A forked parser for large text files is in ``forkread``. Then: mapping files onto a loss's arguments
(``inputs``), rows kept on disk (``spill``), and the files and text losscli writes (``outfiles``,
``textout``).
"""
