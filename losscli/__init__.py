"""losscli: compute, compare and recommend loss functions for predictions in files."""

__version__ = "0.1.0"
