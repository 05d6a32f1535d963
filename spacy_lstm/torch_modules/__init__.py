"""Plain torch.nn modules, free of spaCy and Thinc."""
