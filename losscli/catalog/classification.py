"""Specs of the classification losses torch.nn lacks (see ``losscli.losses.classification``)."""
