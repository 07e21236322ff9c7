"""Every registered loss, as plain data: importing this package registers them all.

``torch_nn`` holds the losses of torch.nn; the other modules hold well-known
losses torch.nn lacks, implemented in ``losscli.losses``. Shapes use N for
samples, C for classes, D for features, T for time steps and S for the
longest target sequence. Article sections refer to the source tutorial
summarised in ``shared/seed/loss-functions-article.md``.
"""

from losscli.catalog import classification, geometry, regression, torch_nn  # noqa: F401
