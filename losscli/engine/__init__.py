"""Where a loss runs: checking inputs against a loss's spec (``validate``, ``params``), torch and autograd
(``core``), chunked and streamed computation from mergeable partial sums (``chunked``), several models at once
(``comparison``), loss curves (``curves``), and the plain result records any renderer prints (``results``).
Importing this package imports nothing: torch loads with ``core``.
"""
