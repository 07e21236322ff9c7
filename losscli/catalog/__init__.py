"""Every registered loss, as plain data: importing this package registers them all.

``torch_nn`` holds the losses of torch.nn; the other modules hold well-known
losses torch.nn lacks, implemented in ``losscli.losses``. Shapes use N for
samples, C for classes, D for features, T for time steps and S for the
longest target sequence. Article sections refer to the source tutorial
summarised in ``shared/seed/loss-functions-article.md``. The import order is
the order ``losscli list`` shows: torch.nn's losses first.
"""

from losscli.catalog import torch_nn  # noqa: F401, I001
from losscli.catalog import regression, classification, geometry, segmentation, image, metric  # noqa: F401
