"""Specs of the geometry losses torch.nn lacks (see ``losscli.losses.geometry``)."""
