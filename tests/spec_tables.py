"""Tables of SPEC.md that several test modules check against."""

# SPEC §3, the table of the nine label types: the first suggestion of each.
FIRST_RECOMMENDATION = {
    "continuous": "mse",
    "bounded": "bce",
    "binary": "bce_with_logits",
    "multiclass": "cross_entropy",
    "onehot": "cross_entropy",
    "multilabel": "bce_with_logits",
    "signed": "soft_margin",
    "distribution": "kl_div",
    "count": "poisson_nll",
}
