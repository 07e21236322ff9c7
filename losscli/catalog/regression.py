"""Specs of the regression losses torch.nn lacks (see ``losscli.losses.regression``)."""
