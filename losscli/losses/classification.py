"""classification losses torch.nn lacks, written in torch ops so autograd gives their gradients."""
