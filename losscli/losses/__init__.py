"""Losses written in torch ops, so autograd gives their exact gradients.

Each function takes its tensors positionally in the order of its spec's
roles, and ``reduction`` plus the spec's parameters as keywords.
"""
