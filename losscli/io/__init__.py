"""Reading inputs and writing outputs: text tables, .npy/.npz, Parquet, standard input and pipes (``loading``,
with a forked parser for large text files in ``forkread``), mapping files onto a loss's arguments
(``inputs``), rows kept on disk (``spill``), and the files and text losscli writes (``outfiles``,
``textout``).
"""
