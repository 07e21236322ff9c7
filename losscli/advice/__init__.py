"""Advice: what the labels are (``advisor.infer_label_type``, and ``integer_labels`` for whole numbers), which
losses suit them, and the classic mistakes to warn about.
"""
