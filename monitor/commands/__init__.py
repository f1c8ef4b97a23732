"""The sub-commands of `newsmon`, one module per family."""
